// Rank 0's live view of an epoch on stderr: a redrawn bar when stderr is a terminal, otherwise
// (logs, SLURM output files) one status line every ten seconds. Disabled on other ranks.
#pragma once

#include <chrono>
#include <cstdint>

#include "proto/config.pb.h"

namespace mlp {

class Progress {
 public:
  Progress(pb::ProgressMode mode, bool enabled, int epochs, int64_t steps_per_epoch);
  // After each step: the 0-based epoch and step within it, and samples done in this epoch.
  void step(int epoch, int64_t step, double epoch_samples);
  // Clears the bar before the epoch's line is printed on stdout.
  void end_epoch();

 private:
  enum class Style { kNone, kBar, kLog };
  Style style_ = Style::kNone;
  int epochs_;
  int64_t steps_per_epoch_;
  std::chrono::steady_clock::time_point epoch_start_, last_draw_;
  bool drawn_ = false;
};

}  // namespace mlp
