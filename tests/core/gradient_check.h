// Shared by the double-precision gradient checks of layers, losses and the model: central finite
// differences over every entry of a buffer, compared with the analytic gradient, and
// deterministic test inputs from the project's counter-based RNG.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>

#include "core/rng.h"
#include "core/tensor.h"

namespace mlp {

constexpr double kFiniteStep = 1e-6;
constexpr double kMaxRelativeError = 1e-6;
// Central differences of an O(1) function with this step carry rounding noise of a few 1e-10
// whatever the derivative (one unit in the last place of f over 2h), so derivatives below this
// floor are held to an absolute error of kMaxRelativeError * kRelativeFloor = 1e-9 instead.
constexpr double kRelativeFloor = 1e-3;

inline double relative_error(double analytic, double numeric) {
  return std::abs(analytic - numeric) /
         std::max(std::abs(analytic) + std::abs(numeric), kRelativeFloor);
}

// Nudges values[i] by +-kFiniteStep for each i in [0, count), evaluating the scalar f() each
// time, and compares (f+ - f-) / 2h with analytic[i]. Restores every value it touches. A float
// analytic gradient is held to a looser `tolerance` than the default, which suits double.
template <typename F>
::testing::AssertionResult gradients_match(double* values, const double* analytic, size_t count,
                                           F f, double tolerance = kMaxRelativeError) {
  for (size_t i = 0; i < count; ++i) {
    const double saved = values[i];
    values[i] = saved + kFiniteStep;
    const double up = f();
    values[i] = saved - kFiniteStep;
    const double down = f();
    values[i] = saved;
    const double numeric = (up - down) / (2 * kFiniteStep);
    const double error = relative_error(analytic[i], numeric);
    if (!(error <= tolerance)) {
      return ::testing::AssertionFailure()
             << "entry " << i << " of " << count << ": analytic " << analytic[i] << ", numeric "
             << numeric << ", relative error " << error;
    }
  }
  return ::testing::AssertionSuccess();
}

// Uniform in [lo, hi), a pure function of (key, element).
inline Matrix<double> test_matrix(int rows, int cols, uint64_t key, double lo = -1, double hi = 1) {
  Matrix<double> m(rows, cols);
  for (Eigen::Index e = 0; e < m.size(); ++e) {
    m.data()[e] = lo + (hi - lo) * random_uniform(key, RngStream::kSplit, static_cast<uint64_t>(e));
  }
  return m;
}

}  // namespace mlp
