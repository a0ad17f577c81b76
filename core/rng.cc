// Counter-based generator: SplitMix64's finalizer applied to the counters one after another.
// Each input word is mixed before the next is added, so (a, b) and (b, a) differ.
#include "core/rng.h"

#include <cmath>
#include <numeric>

#include "core/hash.h"

namespace mlp {
namespace {

// An unbiased draw in [0, bound) (Lemire's multiply-shift with rejection), consuming counters
// (key, i, attempt) until accepted.
uint64_t bounded(uint64_t seed, RngStream stream, uint64_t key, uint64_t i, uint64_t bound) {
  const uint64_t threshold = (0 - bound) % bound;
  for (uint64_t attempt = 0;; ++attempt) {
    const uint64_t x = random_bits(seed, stream, key, i, attempt);
    const __uint128_t m = static_cast<__uint128_t>(x) * bound;
    if (static_cast<uint64_t>(m) >= threshold) return static_cast<uint64_t>(m >> 64);
  }
}

}  // namespace

uint64_t random_state(uint64_t seed, RngStream stream, uint64_t a, uint64_t b) {
  uint64_t h = splitmix64_mix(seed + kRngCounterStep);
  h = splitmix64_mix(h + static_cast<uint64_t>(stream) * kRngCounterStep);
  h = splitmix64_mix(h + a * kRngCounterStep + 1);
  return splitmix64_mix(h + b * kRngCounterStep + 2);
}

uint64_t random_bits(uint64_t seed, RngStream stream, uint64_t a, uint64_t b, uint64_t c) {
  return splitmix64_mix(random_last_word(random_state(seed, stream, a, b), c));
}

float random_uniform(uint64_t seed, RngStream stream, uint64_t a, uint64_t b, uint64_t c) {
  return static_cast<float>(random_bits(seed, stream, a, b, c) >> 40) * (1.0f / 16777216.0f);
}

double random_normal(uint64_t seed, RngStream stream, uint64_t a, uint64_t b, uint64_t c) {
  const uint64_t bits = random_bits(seed, stream, a, b, c);
  // Two independent 32-bit halves; u1 in (0, 1] keeps the logarithm finite.
  const double u1 = (static_cast<double>(bits >> 32) + 1.0) / 4294967296.0;
  const double u2 = static_cast<double>(bits & 0xffffffffULL) / 4294967296.0;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

std::vector<int64_t> random_permutation(int64_t n, uint64_t seed, RngStream stream, uint64_t key) {
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), int64_t{0});
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(
        bounded(seed, stream, key, static_cast<uint64_t>(i), static_cast<uint64_t>(i) + 1));
    std::swap(perm[i], perm[j]);
  }
  return perm;
}

}  // namespace mlp
