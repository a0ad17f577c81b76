// Elapsed wall time on the steady clock, as the training loop, the steps log and the sweep's
// trial durations measure it. Header-only, so the sweep launcher, which links no training code,
// shares it.
#pragma once

#include <chrono>

namespace mlp {

// Seconds from start to now; start is a std::chrono::steady_clock reading.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace mlp
