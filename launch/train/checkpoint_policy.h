// When the training loop saves a checkpoint: every N global steps (checkpoint_every_steps), at
// the end of every completed epoch (checkpoint_every_epoch), and before stopping for a signal.
// A step that ends an epoch is not saved twice when the epoch's own checkpoint follows.
#pragma once

#include <cstdint>

#include "proto/config.pb.h"

namespace mlp {

class CheckpointPolicy {
 public:
  explicit CheckpointPolicy(const pb::TrainConfig& config)
      : every_steps_(config.checkpoint_every_steps()),
        every_epoch_(config.checkpoint_every_epoch()) {}

  // After global step `global_step` (counted from 1) ran; ends_epoch: it was its epoch's last.
  bool after_step(int64_t global_step, bool ends_epoch) const {
    return every_steps_ > 0 && global_step % every_steps_ == 0 && !(ends_epoch && every_epoch_);
  }
  // After an epoch was evaluated; completed: every step of it ran (max_steps may cut one short).
  bool after_epoch(bool completed) const { return completed && every_epoch_; }

 private:
  int64_t every_steps_;
  bool every_epoch_;
};

}  // namespace mlp
