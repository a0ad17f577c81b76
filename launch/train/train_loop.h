// The training loop: data, model and optimizer set up from a resolved config (or resumed from a
// checkpoint), then per step shard -> forward/backward (overwriting the gradients) -> gradient
// sync -> optimizer step (the TrainStep of train_step.h), per epoch evaluate, early stopping, log
// and checkpoint. The same code runs alone and on every rank under mpirun.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "proto/config.pb.h"
#include "proto/epoch_metrics.pb.h"

namespace mlp {

// Observers of the real loop, for tests and instrumentation; each may be empty.
struct TrainingHooks {
  // After every step's optimizer update: the global step (from 0) and the ids (indices into the
  // training split) of the `count` samples this rank computed in it.
  std::function<void(int64_t step, const int64_t* ids, int64_t count)> on_step;
  // After each phase of start-up, just before the run looks for a stop signal: the phase as the
  // stop message names it ("loading the data", ...).
  std::function<void(const std::string& phase)> after_start_phase;
};

// The state a run ends in; identical on every rank.
struct TrainingResult {
  std::vector<float> parameters;                    // the flat parameter buffer that is kept
  std::vector<std::vector<float>> optimizer_slots;  // Optimizer::slots()
  int epochs_run = 0;                               // counting a partial last epoch (max_steps)
  int64_t steps_run = 0;                            // global steps, including those before a resume
  pb::EpochMetrics last_epoch;
  std::vector<pb::EpochMetrics> history;  // every epoch's metrics
  int best_epoch = 0;                     // 0 without a validation set
  int stopped_epoch = 0;                  // 0 unless early stopping ended the run
  bool restored_best = false;
  double test_loss = 0, test_acc = 0;  // NaN without a test set (test_acc: or regression)
  // Paused at config.pause_after_epoch(): only epochs_run and steps_run are set.
  bool paused = false;
};

// Trains as `config` says (validated by validate_config), stopping after config.epochs() epochs,
// config.max_steps() global steps or an early stop, whichever comes first; the last epoch, even
// cut short, is evaluated and logged. Or pauses after config.pause_after_epoch() epochs
// (pause_policy.h): checkpointed, without a model file or summary. Rank 0 prints one line per
// epoch and writes the run folder. command_line goes into checkpoints' provenance. Throws Error subclasses; AgreedError
// when every rank failed together, including AgreedError(kStoppedBySignal) after a stop signal
// once the checkpoint is written.
TrainingResult run_training(pb::TrainConfig config, Communicator& comm,
                            const TrainingHooks& hooks = {}, const std::string& command_line = "");

}  // namespace mlp
