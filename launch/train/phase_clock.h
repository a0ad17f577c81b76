// Laps of a training step's phases into StepTimes, for the benchmarks: the default step
// (train_step.cc) and the exact mode's (exact_step.cc) time their phases alike.
#pragma once

#include <chrono>

#include "launch/train/train_step.h"

namespace mlp {

// Reads no clock when times is null, which is the trainer.
class PhaseClock {
 public:
  explicit PhaseClock(StepTimes* times) : times_(times) {
    if (times_ == nullptr) return;
    *times_ = StepTimes{};
    last_ = Clock::now();
  }
  // Adds the time since the previous lap to `phase`.
  void lap(double StepTimes::*phase) {
    if (times_ == nullptr) return;
    const Clock::time_point now = Clock::now();
    times_->*phase += std::chrono::duration<double, std::milli>(now - last_).count();
    last_ = now;
  }

 private:
  using Clock = std::chrono::steady_clock;
  StepTimes* times_;
  Clock::time_point last_;
};

}  // namespace mlp
