// The exact sums' fixed point: the shift leaves room for N blocks of the largest value the
// headroom allows, of either sign, at every exponent; sums are exact where a float sum cancels;
// rounding is to nearest with ties to even; the unit and the largest sum convert back exactly;
// values that outgrow the headroom, non-finite values and sums beyond a float are reported
// instead of wrapping; the vector loop gives the scalar formula's integers.
#include "core/fixed_point.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/rng.h"

namespace mlp {
namespace {

// The largest finite float with exponent field `field` (1..254).
float largest_with_field(int field) {
  return std::ldexp(2.0f - std::ldexp(1.0f, -23), field - 127);
}

int64_t fixed_of(float value, int shift) {
  int64_t sum = 0;
  add_fixed(&value, 1, shift, true, &sum);
  return sum;
}

}  // namespace

TEST(FixedPoint, BlockBitsIsTheCeilingOfLog2) {
  EXPECT_EQ(block_bits(1), 0);
  EXPECT_EQ(block_bits(2), 1);
  EXPECT_EQ(block_bits(3), 2);
  EXPECT_EQ(block_bits(8), 3);
  EXPECT_EQ(block_bits(9), 4);
  EXPECT_EQ(block_bits(1 << 20), 20);
}

TEST(FixedPoint, NBlocksOfTheLargestAllowedValueOfEitherSignSumWithoutOverflow) {
  for (int blocks : {1, 2, 3, 6, 8, 1000}) {
    for (int exponent = 0; exponent + kFixedHeadroomBits <= 254; exponent += 7) {
      SCOPED_TRACE(testing::Message() << blocks << " blocks, exponent " << exponent);
      const int shift = fixed_shift(exponent, blocks);
      const int field = exponent + kFixedHeadroomBits;
      ASSERT_TRUE(exponent_fits(exponent, field));
      for (float sign : {1.0f, -1.0f}) {
        const float value = sign * largest_with_field(std::max(field, 1));
        const int64_t one = fixed_of(value, shift);
        // Each block at most 2^(62 - c), so 2^c blocks stay within 2^62.
        EXPECT_LE(std::abs(one), int64_t{1} << (62 - block_bits(blocks)));
        std::vector<float> values(static_cast<size_t>(blocks), value);
        int64_t sum = 0;
        for (int b = 0; b < blocks; ++b) add_fixed(&values[b], 1, shift, b == 0, &sum);
        EXPECT_EQ(sum, one * blocks);
      }
    }
  }
}

TEST(FixedPoint, TheLargestFieldGetsTheLargestUsefulShiftAndTheCapHolds) {
  // A tensor of tiny values still converts with a normal unit.
  EXPECT_EQ(fixed_shift(0, 1), 126);
  EXPECT_EQ(fixed_shift(kNoExponent, 8), fixed_shift(254, 8));
  EXPECT_FALSE(exponent_fits(kNoExponent, 0));
  EXPECT_TRUE(exponent_fits(100, 100 + kFixedHeadroomBits));
  EXPECT_FALSE(exponent_fits(100, 101 + kFixedHeadroomBits));
  EXPECT_TRUE(exponent_fits(100, 0));
}

TEST(FixedPoint, SumsExactlyWhereAFloatSumCancels) {
  // 1 + 2^-30 - 1 in float is 0; the fixed-point sum keeps the small value, in any order.
  const std::vector<float> values = {1.0f, std::ldexp(1.0f, -30), -1.0f};
  EXPECT_EQ((values[0] + values[1]) + values[2], 0.0f);
  const int shift = fixed_shift(static_cast<int>(exponent_field(1.0f)), 3);
  for (const std::vector<int>& order : {std::vector<int>{0, 1, 2}, {2, 0, 1}, {1, 2, 0}}) {
    int64_t sum = 0;
    for (size_t k = 0; k < order.size(); ++k)
      add_fixed(&values[static_cast<size_t>(order[k])], 1, shift, k == 0, &sum);
    float back = 0;
    fixed_to_float(&sum, 1, shift, &back);
    EXPECT_EQ(back, std::ldexp(1.0f, -30));
  }
}

TEST(FixedPoint, RoundsToNearestWithTiesToEven) {
  const int shift = 4;  // unit 1/16
  const float unit = 1.0f / 16;
  EXPECT_EQ(fixed_of(0.5f * unit, shift), 0);
  EXPECT_EQ(fixed_of(1.5f * unit, shift), 2);
  EXPECT_EQ(fixed_of(2.5f * unit, shift), 2);
  EXPECT_EQ(fixed_of(-1.5f * unit, shift), -2);
  EXPECT_EQ(fixed_of(-2.5f * unit, shift), -2);
  EXPECT_EQ(fixed_of(0.51f * unit, shift), 1);
  EXPECT_EQ(fixed_of(-0.49f * unit, shift), 0);
}

TEST(FixedPoint, ConvertsBackWithOneRoundingAndTheUnitStaysNormal) {
  float out[4];
  const int64_t sums[4] = {1, -1, (int64_t{1} << 62), (int64_t{1} << 24) + 1};
  fixed_to_float(sums, 4, 126, out);
  EXPECT_EQ(out[0], std::numeric_limits<float>::min());  // 2^-126, normal
  EXPECT_EQ(out[1], -std::numeric_limits<float>::min());
  EXPECT_EQ(out[2], std::ldexp(1.0f, 62 - 126));
  // 2^24 + 1 is not a float: rounded to nearest even, 2^24.
  EXPECT_EQ(out[3], std::ldexp(1.0f, 24 - 126));
}

TEST(FixedPoint, ReportsValuesBeyondTheHeadroomAndNonFiniteOnesInsteadOfWrapping) {
  const int assumed = static_cast<int>(exponent_field(1.0f));
  const int shift = fixed_shift(assumed, 4);
  const float grown[2] = {1.0f, std::ldexp(1.0f, kFixedHeadroomBits + 1)};
  int64_t sums[2];
  const uint32_t seen = add_fixed(grown, 2, shift, true, sums);
  EXPECT_FALSE(exponent_fits(assumed, static_cast<int>(seen)));
  EXPECT_EQ(fixed_of(1.0f, shift), sums[0]);
  for (float bad : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                    std::numeric_limits<float>::quiet_NaN()}) {
    int64_t sum = 0;
    EXPECT_EQ(add_fixed(&bad, 1, shift, true, &sum), kNonFiniteExponent);
  }
  // Values near the top of the float range may sum past it: counted as non-finite.
  EXPECT_TRUE(sum_may_overflow_float(254, 2));
  EXPECT_FALSE(sum_may_overflow_float(252, 2));
  EXPECT_TRUE(sum_may_overflow_float(250, 64));
}

TEST(FixedPoint, VectorLoopsGiveTheScalarFormula) {
  // 37 values: two vectors and a tail; magnitudes over 40 binades, both signs.
  std::vector<float> values(37);
  for (size_t i = 0; i < values.size(); ++i) {
    const double u = random_uniform(5, RngStream::kSplit, i);
    values[i] =
        static_cast<float>((i % 2 ? -1 : 1) * std::ldexp(1.0 + u, static_cast<int>(i) - 30));
  }
  const int shift = fixed_shift(static_cast<int>(exponent_field(values.back())), 2);
  std::vector<int64_t> sums(values.size(), 5);
  add_fixed(values.data(), values.size(), shift, false, sums.data());
  add_fixed(values.data(), values.size(), shift, false, sums.data());
  std::vector<float> back(values.size());
  fixed_to_float(sums.data(), sums.size(), shift, back.data());
  const float scale = std::ldexp(1.0f, shift);
  for (size_t i = 0; i < values.size(); ++i) {
    const int64_t q = std::llrintf(values[i] * scale);
    EXPECT_EQ(sums[i], 5 + 2 * q) << i;
    EXPECT_EQ(back[i], static_cast<float>(sums[i]) * std::ldexp(1.0f, -shift)) << i;
  }
}

TEST(FixedPoint, SeveralPartsConvertAsTheirIntegerSumWithPartialSumsOfEitherSign) {
  // 37 values: two vectors and a tail. Three parts whose partial sums reach past 2^62 in both
  // directions while the total stays small, and totals that round when converted.
  constexpr size_t kCount = 37;
  std::vector<int64_t> a(kCount), b(kCount), c(kCount);
  const int64_t big = (int64_t{1} << 62) - 1;
  for (size_t i = 0; i < kCount; ++i) {
    const auto small = static_cast<int64_t>(i * 1000003 + 1) * (i % 2 ? -1 : 1);
    a[i] = i % 3 ? big : -big;
    b[i] = small + (int64_t{1} << 25) + 1;
    c[i] = -a[i];
  }
  const int64_t* parts[3] = {a.data(), b.data(), c.data()};
  std::vector<float> got(kCount);
  fixed_sum_to_float(parts, 3, kCount, 30, got.data());
  for (size_t i = 0; i < kCount; ++i)
    EXPECT_EQ(got[i], static_cast<float>(b[i]) * std::ldexp(1.0f, -30)) << i;
  // One part is fixed_to_float.
  std::vector<float> one(kCount);
  fixed_sum_to_float(parts + 1, 1, kCount, 30, got.data());
  fixed_to_float(b.data(), kCount, 30, one.data());
  EXPECT_EQ(got, one);
}

}  // namespace mlp
