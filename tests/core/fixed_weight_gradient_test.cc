// The exact weight-gradient kernel: every kernel of the build gives the portable formula's bits on
// shapes that fill no tile exactly, with empty and one-sample blocks; splitting the blocks between
// calls (as ranks do) and adding the integers gives the same sums; the result is a double-precision
// product's within the float rounding of the blocks; a non-finite factor is reported.
#include "core/fixed_weight_gradient.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/fixed_point.h"
#include "tests/core/gradient_check.h"

namespace mlp {
namespace {

struct Blocks {
  std::vector<Matrix<float>> dz, x;  // (O, n), (I, n) per block
  std::vector<GradientFactors> factors() const {
    std::vector<GradientFactors> f;
    for (size_t b = 0; b < dz.size(); ++b)
      f.push_back({dz[b].data(), x[b].data(), static_cast<int>(dz[b].cols())});
    return f;
  }
};

Blocks make_blocks(int outputs, int inputs, const std::vector<int>& sizes) {
  Blocks blocks;
  for (size_t b = 0; b < sizes.size(); ++b) {
    blocks.dz.push_back(test_matrix(outputs, sizes[b], 10 + b, -1e-3, 1e-3).cast<float>());
    blocks.x.push_back(test_matrix(inputs, sizes[b], 20 + b, 0, 2).cast<float>());
  }
  return blocks;
}

}  // namespace

TEST(FixedWeightGradient, EveryKernelGivesThePortableBits) {
  for (const auto& shape : {std::vector<int>{70, 13}, {10, 1024}, {129, 7}, {1, 1}}) {
    const int outputs = shape[0], inputs = shape[1];
    SCOPED_TRACE(testing::Message() << outputs << "x" << inputs);
    const Blocks blocks = make_blocks(outputs, inputs, {16, 0, 1, 17, 5});
    const int shift = fixed_shift(static_cast<int>(exponent_field(1e-2f)), 5);
    std::vector<int64_t> reference(static_cast<size_t>(outputs) * inputs);
    FixedWeightGradient kernel;
    const uint32_t reference_largest = kernel.compute(outputs, inputs, blocks.factors(), shift,
                                                      reference.data(), FixedKernel::kPortable);
    for (FixedKernel k : available_fixed_kernels()) {
      std::vector<int64_t> sums(reference.size(), 99);
      EXPECT_EQ(kernel.compute(outputs, inputs, blocks.factors(), shift, sums.data(), k),
                reference_largest);
      EXPECT_EQ(sums, reference);
    }
  }
}

TEST(FixedWeightGradient, BlocksSplitBetweenCallsAddUpToTheSameIntegers) {
  const int outputs = 96, inputs = 50;
  const Blocks blocks = make_blocks(outputs, inputs, {8, 8, 7, 7});
  const std::vector<GradientFactors> all = blocks.factors();
  const int shift = fixed_shift(static_cast<int>(exponent_field(1e-2f)), 4);
  FixedWeightGradient kernel;
  std::vector<int64_t> together(static_cast<size_t>(outputs) * inputs), first(together.size()),
      second(together.size());
  kernel.compute(outputs, inputs, all, shift, together.data());
  kernel.compute(outputs, inputs, {all[0]}, shift, first.data());
  kernel.compute(outputs, inputs, {all[1], all[2], all[3]}, shift, second.data());
  for (size_t i = 0; i < together.size(); ++i) ASSERT_EQ(together[i], first[i] + second[i]) << i;
}

TEST(FixedWeightGradient, EqualsADoublePrecisionProductWithinFloatRounding) {
  const int outputs = 33, inputs = 20;
  const Blocks blocks = make_blocks(outputs, inputs, {16, 16, 3});
  Matrix<double> exact = Matrix<double>::Zero(outputs, inputs);
  Matrix<double> magnitude = Matrix<double>::Zero(outputs, inputs);  // sum of |terms|
  for (size_t b = 0; b < blocks.dz.size(); ++b) {
    exact += blocks.dz[b].cast<double>() * blocks.x[b].cast<double>().transpose();
    magnitude += blocks.dz[b].cast<double>().cwiseAbs() * blocks.x[b].cast<double>().transpose();
  }
  const int shift = fixed_shift(static_cast<int>(exponent_field(1e-2f)), 3);
  std::vector<int64_t> sums(static_cast<size_t>(outputs) * inputs);
  FixedWeightGradient kernel;
  kernel.compute(outputs, inputs, blocks.factors(), shift, sums.data());
  std::vector<float> dw(sums.size());
  fixed_to_float(sums.data(), sums.size(), shift, dw.data());
  for (size_t i = 0; i < dw.size(); ++i)
    EXPECT_NEAR(dw[i], exact.data()[i], 2e-6 * magnitude.data()[i]) << i;
}

TEST(FixedWeightGradient, ReportsANonFiniteFactor) {
  const int outputs = 70, inputs = 13;
  Blocks blocks = make_blocks(outputs, inputs, {4, 4});
  blocks.dz[1](5, 2) = std::numeric_limits<float>::infinity();
  std::vector<int64_t> sums(static_cast<size_t>(outputs) * inputs);
  FixedWeightGradient kernel;
  for (FixedKernel k : available_fixed_kernels())
    EXPECT_EQ(kernel.compute(outputs, inputs, blocks.factors(), 0, sums.data(), k),
              kNonFiniteExponent);
}

}  // namespace mlp
