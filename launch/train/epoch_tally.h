// This rank's sums of the current epoch's training steps, and the time the epoch has taken,
// counting, in an epoch resumed from a checkpoint, what ran before the checkpoint; and the rows
// of steps.csv, one every N global steps.
#pragma once

#include <chrono>
#include <cstdint>

#include "dist/communicator.h"
#include "launch/train/evaluation.h"
#include "launch/train/run_output.h"
#include "launch/train/run_state.h"

namespace mlp {

class EpochTally {
 public:
  // The epoch `state` stands in: fresh, or resumed inside, whose sums before the checkpoint
  // are over all ranks and held by rank 0 alone (so the reduced sum counts them once).
  EpochTally(const RunState& state, bool is_root);

  void add(const Sums& step) { sums_ += step; }
  const Sums& sums() const { return sums_; }  // this rank's
  double seconds() const;

 private:
  Sums sums_;
  double seconds_before_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// steps.csv and the step scalars of TensorBoard: the mean training loss over the steps since
// the last row, every `every` global steps (0: never).
class StepLog {
 public:
  StepLog(int64_t every, RunOutput* output) : every_(every), output_(output) {}
  // After global step `state.global_step` ran with this rank's sums `step`. Collective when a
  // row is due.
  void after_step(const Sums& step, const RunState& state, Communicator& comm);

 private:
  int64_t every_;
  RunOutput* output_;
  Sums since_row_;
  std::chrono::steady_clock::time_point last_row_ = std::chrono::steady_clock::now();
};

}  // namespace mlp
