// When a run pauses (pause_after_epoch): once that many epochs are complete and more remain, the
// loop ends at the epoch's end with its position checkpointed and writes neither a model file nor
// summary.json, so that --resume auto continues it exactly (the learning-rate schedule spans the
// whole run either way). Early stopping still ends a run as it would without a pause; a run
// resumed at or past the epoch pauses at once.
#pragma once

#include <string>

#include "launch/train/console.h"
#include "launch/train/run_output.h"
#include "launch/train/run_state.h"
#include "launch/train/train_loop.h"
#include "proto/config.pb.h"

namespace mlp {

class PausePolicy {
 public:
  explicit PausePolicy(const pb::TrainConfig& config)
      : after_(config.pause_after_epoch()), epochs_(config.epochs()) {}

  // Whether a run with `completed` epochs complete pauses instead of going on: a pause epoch is
  // set, reached, and not the last epoch (a run at its last epoch finishes).
  bool pauses(int completed) const {
    return after_ > 0 && completed >= after_ && completed < epochs_;
  }

  // Once the loop has paused with its position checkpointed in checkpoint_dir: the "paused"
  // event (epochs complete, global step) and the console line. Returns the run's result: paused,
  // with epochs_run and steps_run; nothing else is set.
  TrainingResult announce(const RunState& state, const std::string& checkpoint_dir,
                          RunOutput* output, const Console& console) const;

 private:
  int after_, epochs_;
};

}  // namespace mlp
