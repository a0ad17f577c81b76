// Dropout: drop rate within statistical bounds, inverted scaling keeps the expected activation,
// identity at evaluation, masks keyed by sample rather than by column position, and a gradient
// check with a fixed mask.
#include "core/dropout.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <vector>

#include "tests/core/gradient_check.h"

namespace mlp {
namespace {

ForwardContext training_context(const std::vector<int64_t>& ids, int64_t step = 7) {
  return ForwardContext{true, /*seed=*/11, step, ids.data()};
}

std::vector<int64_t> ids_from(int64_t first, int64_t n) {
  std::vector<int64_t> ids(n);
  std::iota(ids.begin(), ids.end(), first);
  return ids;
}

TEST(Dropout, DropRateAndExpectedActivationWithinStatisticalBounds) {
  for (float rate : {0.2f, 0.5f}) {
    const int units = 200, n = 500;
    DropoutLayer<float> layer(rate, units, 1);
    const Matrix<float> x = Matrix<float>::Ones(units, n);
    Matrix<float> y;
    layer.forward(x, y, training_context(ids_from(0, n)));
    const double count = static_cast<double>(units) * n;
    const double dropped = static_cast<double>((y.array() == 0.0f).count());
    // Binomial standard deviation sqrt(p(1-p)/count); 5 of them.
    EXPECT_NEAR(dropped / count, rate, 5 * std::sqrt(rate * (1 - rate) / count)) << rate;
    // Kept units are scaled by 1/(1-p), so the mean activation stays 1.
    const double mean = y.cast<double>().mean();
    EXPECT_NEAR(mean, 1.0, 5 * std::sqrt(rate / (1 - rate) / count)) << rate;
    EXPECT_FLOAT_EQ(y.maxCoeff(), 1.0f / (1.0f - rate));
  }
}

TEST(Dropout, EvaluationIsTheIdentity) {
  DropoutLayer<float> layer(0.5f, 3, 0);
  const Matrix<float> x = Matrix<float>::Random(3, 4);
  Matrix<float> y;
  layer.forward(x, y, ForwardContext{});
  EXPECT_EQ(y, x);
  Matrix<float> dx;
  layer.backward(x, y, x, &dx);
  EXPECT_EQ(dx, x);
}

TEST(Dropout, MaskFollowsTheSampleNotItsColumnOrRank) {
  // Samples 10..19 as one batch, or split as two ranks would compute them.
  DropoutLayer<float> whole(0.5f, 64, 2), first(0.5f, 64, 2), second(0.5f, 64, 2);
  const Matrix<float> x = Matrix<float>::Ones(64, 10);
  Matrix<float> y_whole, y_first, y_second;
  whole.forward(x, y_whole, training_context(ids_from(10, 10)));
  first.forward(x.leftCols(4), y_first, training_context(ids_from(10, 4)));
  second.forward(x.rightCols(6), y_second, training_context(ids_from(14, 6)));
  EXPECT_EQ(y_whole.leftCols(4), y_first);
  EXPECT_EQ(y_whole.rightCols(6), y_second);
  // Another step or another layer draws another mask.
  Matrix<float> y_next_step;
  whole.forward(x, y_next_step, training_context(ids_from(10, 10), 8));
  EXPECT_NE(y_whole, y_next_step);
  EXPECT_NE(dropout_keeps(11, 7, 10, 2, 0, 0.5f) + 2 * dropout_keeps(11, 7, 10, 2, 1, 0.5f) +
                4 * dropout_keeps(11, 7, 10, 2, 2, 0.5f) + 8 * dropout_keeps(11, 7, 10, 2, 3, 0.5f),
            dropout_keeps(11, 7, 10, 3, 0, 0.5f) + 2 * dropout_keeps(11, 7, 10, 3, 1, 0.5f) +
                4 * dropout_keeps(11, 7, 10, 3, 2, 0.5f) +
                8 * dropout_keeps(11, 7, 10, 3, 3, 0.5f));
}

TEST(Dropout, GradientCheckWithAFixedMask) {
  const int units = 6, n = 5;
  DropoutLayer<double> layer(0.5f, units, 1);
  Matrix<double> mask = test_matrix(units, n, 3, 0, 1);
  mask = (mask.array() > 0.5).cast<double>() * 2.0;
  layer.set_fixed_mask(mask);
  Matrix<double> x = test_matrix(units, n, 4);
  const Matrix<double> weights = test_matrix(units, n, 5);  // loss = sum(weights .* y)
  const ForwardContext ctx{true, 0, 0, nullptr};
  Matrix<double> y, dx;
  layer.forward(x, y, ctx);
  layer.backward(x, y, weights, &dx);
  EXPECT_TRUE(gradients_match(x.data(), dx.data(), x.size(), [&] {
    Matrix<double> out;
    layer.forward(x, out, ctx);
    return out.cwiseProduct(weights).sum();
  }));
}

}  // namespace
}  // namespace mlp
