// The training loop: data, model and optimizer set up from a resolved config, then per step
// shard -> zero grads -> forward/backward -> gradient sync -> optimizer step, per epoch
// evaluate and log. The same code runs alone and on every rank under mpirun.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "dist/communicator.h"
#include "launch/run_output.h"
#include "proto/config.pb.h"

namespace mlp {

// Observers of the real loop, for tests and instrumentation; each may be empty.
struct TrainingHooks {
  // After every step's optimizer update: the global step (from 0) and the ids (indices into the
  // training split) of the `count` samples this rank computed in it.
  std::function<void(int64_t step, const int64_t* ids, int64_t count)> on_step;
};

// The state a run ends in; identical on every rank.
struct TrainingResult {
  std::vector<float> parameters;                 // the flat parameter buffer
  std::vector<std::vector<float>> optimizer_slots;  // Optimizer::slots()
  int epochs_run = 0;                            // counting a partial last epoch (max_steps)
  int64_t steps_run = 0;
  EpochMetrics last_epoch;
  double test_loss = 0, test_acc = 0;            // NaN without a test set (test_acc: or regression)
};

// Trains as `config` says (validated by validate_config), stopping after config.epochs() epochs
// or config.max_steps() global steps, whichever comes first; the last epoch, even cut short, is
// evaluated and logged. Rank 0 prints one line per epoch and writes the run folder. Throws Error
// subclasses; AgreedError when every rank failed together.
TrainingResult run_training(pb::TrainConfig config, Communicator& comm,
                            const TrainingHooks& hooks = {});

}  // namespace mlp
