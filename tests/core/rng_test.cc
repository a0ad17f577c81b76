// Counter-based RNG: pure functions of their counters, uniform in range, permutations valid
// and unbiased enough to pass a coarse chi-square check.
#include "core/rng.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/hash.h"

namespace mlp {
namespace {

TEST(Rng, SameCountersSameBitsDifferentCountersDiffer) {
  EXPECT_EQ(random_bits(1, RngStream::kInit, 2, 3, 4), random_bits(1, RngStream::kInit, 2, 3, 4));
  EXPECT_NE(random_bits(1, RngStream::kInit, 2, 3, 4), random_bits(1, RngStream::kInit, 3, 2, 4));
  EXPECT_NE(random_bits(1, RngStream::kInit, 2, 3, 4),
            random_bits(1, RngStream::kDropout, 2, 3, 4));
  EXPECT_NE(random_bits(1, RngStream::kInit, 2, 3, 4), random_bits(2, RngStream::kInit, 2, 3, 4));
}

// Values of the stream as released: weight initialization, data order and dropout masks of
// existing runs and checkpoints depend on every bit.
TEST(Rng, BitsAreThoseOfEarlierReleases) {
  EXPECT_EQ(random_bits(1, RngStream::kDropout, 2, 3, 4), 0x3722c09cc03cd07cULL);
  EXPECT_EQ(random_bits(11, RngStream::kInit, 0, 123456789, (uint64_t{7} << 32) | 1000),
            0x1c981eeec7e03800ULL);
}

TEST(Rng, StateAndLastWordComposeToTheBits) {
  for (uint64_t c : {uint64_t{0}, uint64_t{5}, (uint64_t{3} << 32) | 17, ~uint64_t{0}}) {
    EXPECT_EQ(random_bits(8, RngStream::kDropout, 6, 40, c),
              splitmix64_mix(random_last_word(random_state(8, RngStream::kDropout, 6, 40), c)));
  }
}

TEST(Rng, UniformMeanAndRange) {
  double sum = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const float u = random_uniform(5, RngStream::kDropout, i);
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    sum += u;
  }
  // Standard error of the mean is sqrt(1/12/n) ~ 6.5e-4; allow 5 of them.
  EXPECT_NEAR(sum / n, 0.5, 5 * std::sqrt(1.0 / 12 / n));
}

TEST(Rng, NormalMomentsAndFiniteness) {
  double sum = 0, sum_sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double z = random_normal(9, RngStream::kInit, i);
    ASSERT_TRUE(std::isfinite(z));
    sum += z;
    sum_sq += z * z;
  }
  EXPECT_NEAR(sum / n, 0.0, 5 / std::sqrt(n));
  EXPECT_NEAR(sum_sq / n, 1.0, 0.02);
}

TEST(Rng, PermutationIsAPermutationAndPositionsAreUniform) {
  const int n = 5, trials = 20000;
  std::vector<std::vector<int>> counts(n, std::vector<int>(n, 0));
  for (int t = 0; t < trials; ++t) {
    std::vector<int64_t> p = random_permutation(n, 3, RngStream::kPermutation, t);
    std::vector<int64_t> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    for (int i = 0; i < n; ++i) ASSERT_EQ(sorted[i], i);
    for (int i = 0; i < n; ++i) ++counts[i][p[i]];
  }
  // Chi-square over the 25 (position, value) cells, 16 degrees of freedom: 99.9% quantile ~39.3.
  double chi2 = 0;
  const double expected = static_cast<double>(trials) / n;
  for (const auto& row : counts)
    for (int c : row) chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, 39.3);
}

}  // namespace
}  // namespace mlp
