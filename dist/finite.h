// Whether floats are finite, by their exponent bits: a float is infinite or NaN exactly when its
// exponent bits are all ones. The largest masked exponent of a run of values is a reduction that
// vectorizes, so the check costs one pass at memory speed, or nothing extra inside a pass that
// reads the values anyway (the reduce-scatter's sums).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace mlp {

constexpr uint32_t kFloatExponentBits = 0x7f800000u;

// The exponent bits of x.
inline uint32_t exponent_bits(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits & kFloatExponentBits;
}

// Whether an accumulated maximum of exponent_bits saw a non-finite value.
inline bool exponents_finite(uint32_t largest) { return largest != kFloatExponentBits; }

// No element of data[0, n) is infinite or NaN.
inline bool all_finite(const float* data, size_t n) {
  uint32_t largest = 0;
  for (size_t i = 0; i < n; ++i) largest = std::max(largest, exponent_bits(data[i]));
  return exponents_finite(largest);
}

}  // namespace mlp
