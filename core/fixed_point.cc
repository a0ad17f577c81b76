// Fixed-point conversions of the exact sums; see fixed_point.h. The AVX-512 loops and the portable
// ones compute the same integers: the scaling by a power of two is exact in both, and both round
// to nearest, ties to even (vcvtps2qq and llrintf under the default rounding mode).
#include "core/fixed_point.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/avx512.h"

namespace mlp {
namespace {

constexpr int kTopBits = 62;    // N blocks' values, scaled, sum to at most 2^kTopBits
constexpr int kMaxShift = 126;  // 2^-shift stays a normal float
constexpr int kLargestField = 254;

}  // namespace

int block_bits(int blocks) {
  int bits = 0;
  while ((int64_t{1} << bits) < blocks) ++bits;
  return bits;
}

int fixed_shift(int exponent, int blocks) {
  const int field = exponent == kNoExponent ? kLargestField : exponent;
  // Values below 2^(field + headroom - 126) scale below 2^(kTopBits - c).
  const int shift = kTopBits - block_bits(blocks) - (field + kFixedHeadroomBits - 126);
  return std::min(shift, kMaxShift);
}

bool exponent_fits(int assumed, int seen) {
  return assumed != kNoExponent && seen <= assumed + kFixedHeadroomBits;
}

bool sum_may_overflow_float(int seen, int blocks) {
  // Each value is below 2^(seen - 126), 2^c of them below 2^(seen - 126 + c): below 2^127 the
  // sum rounds to a finite float.
  return seen - 126 + block_bits(blocks) > 127;
}

uint32_t exponent_field(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return (bits >> 23) & 0xffu;
}

uint32_t add_fixed(const float* values, size_t n, int shift, bool first, int64_t* sums) {
  const float scale = std::ldexp(1.0f, shift);
  uint32_t largest = 0;
  size_t i = 0;
#ifdef MLP_FIXED_AVX512
  const __m512 scales = _mm512_set1_ps(scale);
  const __m512i exponent_mask = _mm512_set1_epi32(0x7f800000);
  __m512i largest_bits = _mm512_setzero_si512();
  for (; i + 16 <= n; i += 16) {
    const __m512 v = _mm512_loadu_ps(values + i);
    largest_bits =
        _mm512_max_epu32(largest_bits, _mm512_and_si512(_mm512_castps_si512(v), exponent_mask));
    const __m512 scaled = _mm512_mul_ps(v, scales);
    const __m512i low = _mm512_cvtps_epi64(_mm512_castps512_ps256(scaled));
    const __m512i high =
        _mm512_cvtps_epi64(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(scaled), 1)));
    int64_t* out = sums + i;
    if (first) {
      _mm512_storeu_si512(out, low);
      _mm512_storeu_si512(out + 8, high);
    } else {
      _mm512_storeu_si512(out, _mm512_add_epi64(_mm512_loadu_si512(out), low));
      _mm512_storeu_si512(out + 8, _mm512_add_epi64(_mm512_loadu_si512(out + 8), high));
    }
  }
  largest = _mm512_reduce_max_epu32(largest_bits) >> 23;
#endif
  for (; i < n; ++i) {
    largest = std::max(largest, exponent_field(values[i]));
    // Unsigned adds: a value beyond the shift's range must not make the sum undefined behaviour.
    const auto q = static_cast<uint64_t>(std::llrintf(values[i] * scale));
    sums[i] = static_cast<int64_t>(first ? q : static_cast<uint64_t>(sums[i]) + q);
  }
  return largest;
}

void fixed_to_float(const int64_t* sums, size_t n, int shift, float* out) {
  fixed_sum_to_float(&sums, 1, n, shift, out);
}

void fixed_sum_to_float(const int64_t* const* parts, size_t count, size_t n, int shift,
                        float* out) {
  // Rounding the integer to float is the only rounding: the scaling by 2^-shift (a normal float)
  // of a value at least 1 in magnitude stays exact.
  const float unit = std::ldexp(1.0f, -shift);
  size_t i = 0;
#ifdef MLP_FIXED_AVX512
  const __m512 units = _mm512_set1_ps(unit);
  for (; i + 16 <= n; i += 16) {
    __m512i low_sum = _mm512_loadu_si512(parts[0] + i);
    __m512i high_sum = _mm512_loadu_si512(parts[0] + i + 8);
    for (size_t k = 1; k < count; ++k) {
      low_sum = _mm512_add_epi64(low_sum, _mm512_loadu_si512(parts[k] + i));
      high_sum = _mm512_add_epi64(high_sum, _mm512_loadu_si512(parts[k] + i + 8));
    }
    const __m256 low = _mm512_cvtepi64_ps(low_sum);
    const __m256 high = _mm512_cvtepi64_ps(high_sum);
    const __m512 both = _mm512_castpd_ps(_mm512_insertf64x4(
        _mm512_castpd256_pd512(_mm256_castps_pd(low)), _mm256_castps_pd(high), 1));
    _mm512_storeu_ps(out + i, _mm512_mul_ps(both, units));
  }
#endif
  for (; i < n; ++i) {
    // Unsigned adds: the same two's-complement sum without signed overflow on the way.
    uint64_t sum = static_cast<uint64_t>(parts[0][i]);
    for (size_t k = 1; k < count; ++k) sum += static_cast<uint64_t>(parts[k][i]);
    out[i] = static_cast<float>(static_cast<int64_t>(sum)) * unit;
  }
}

}  // namespace mlp
