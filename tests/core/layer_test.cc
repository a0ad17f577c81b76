// Dense and activation layers: forward values by hand, finite-difference checks of the input
// and parameter gradients in double, and the accumulate-versus-overwrite contract of backward.
#include "core/layer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/dropout.h"
#include "gradient_check.h"

namespace mlp {
namespace {

// A scalar function of the layer output with a different weight on every entry, so that a
// gradient landing on the wrong entry changes the result.
double weighted_sum(const Matrix<double>& y, const Matrix<double>& weights) {
  return (y.array() * weights.array()).sum();
}

TEST(Dense, ForwardIsWeightsTimesInputPlusBias) {
  ParamStore<double> store;
  Dense<double> dense(store, "d", 2, 3);
  store.allocate();
  store.param(dense.weight_block()) << 1, 2, 3, 4, 5, 6;  // (3, 2)
  store.param(dense.bias_block()) << 1, -1, 0.5;
  Matrix<double> x(2, 2);  // (I, N)
  x << 1, 0, -1, 2;
  Matrix<double> y;
  dense.forward(x, y, {});
  Matrix<double> expected(3, 2);  // (O, N)
  expected << 0, 5, -2, 7, -0.5, 12.5;
  EXPECT_EQ(y, expected);
}

TEST(Dense, GradientsMatchFiniteDifferences) {
  const int inputs = 4, outputs = 3, batch = 5;
  ParamStore<double> store;
  Dense<double> dense(store, "d", inputs, outputs);
  store.allocate();
  Eigen::Map<Vector<double>>(store.values(), store.size()) = test_matrix(store.size(), 1, 1);
  Matrix<double> x = test_matrix(inputs, batch, 2);         // (I, N)
  const Matrix<double> r = test_matrix(outputs, batch, 3);  // (O, N)

  Matrix<double> y, dx;
  dense.forward(x, y, {});
  dense.backward(x, y, r, &dx);
  const auto f = [&]() {
    Matrix<double> out;
    dense.forward(x, out, {});
    return weighted_sum(out, r);
  };
  EXPECT_TRUE(gradients_match(x.data(), dx.data(), x.size(), f));
  EXPECT_TRUE(gradients_match(store.values(), store.grads(), store.size(), f));
}

// The dense layer's own pass with tanh and dropout after it, as the model runs it, with fixed keep
// decisions: 70 units, so a sample's decisions span two words of bits.
TEST(Dense, FusedActivationAndDropoutGradientsMatchFiniteDifferences) {
  const int inputs = 3, outputs = 70, batch = 4;
  ParamStore<double> store;
  Dense<double> dense(store, "d", inputs, outputs);
  store.allocate();
  Eigen::Map<Vector<double>>(store.values(), store.size()) = test_matrix(store.size(), 1, 7);
  DropoutLayer<double> dropout(0.4f, outputs, 1);
  dropout.set_fixed_keeps(test_matrix(outputs, batch, 8, 0, 1).array() > 0.4);
  Matrix<double> x = test_matrix(inputs, batch, 9);          // (I, N)
  const Matrix<double> r = test_matrix(outputs, batch, 10);  // (O, N)
  const ForwardContext training{true, 0, 0, nullptr};

  Matrix<double> a, y, dx;
  dense.forward_fused(x, pb::TANH, &dropout, training, a, &y);
  dense.backward_fused(x, pb::TANH, &dropout, a, r, &dx);
  const auto f = [&]() {
    Matrix<double> a_out, y_out;
    dense.forward_fused(x, pb::TANH, &dropout, training, a_out, &y_out);
    return weighted_sum(y_out, r);
  };
  EXPECT_TRUE(gradients_match(x.data(), dx.data(), x.size(), f));
  EXPECT_TRUE(gradients_match(store.values(), store.grads(), store.size(), f));
  const double scale = 1.0 / (1.0 - static_cast<double>(0.4f));
  for (Eigen::Index j = 0; j < batch; ++j)
    for (int u = 0; u < outputs; ++u)
      EXPECT_EQ(y(u, j), dropout.kept(u, j) ? a(u, j) * scale : 0.0) << u << ", " << j;
}

// Stale gradients (NaN) must not leak: the products write with beta = 0.
TEST(Dense, BackwardOverwritesParameterAndInputGradients) {
  ParamStore<double> store;
  Dense<double> dense(store, "d", 3, 2);
  store.allocate();
  Eigen::Map<Vector<double>>(store.values(), store.size()) = test_matrix(store.size(), 1, 4);
  const Matrix<double> x = test_matrix(3, 4, 5);
  const Matrix<double> dy = test_matrix(2, 4, 6);
  Matrix<double> y, dx_once, dx_twice;
  dense.forward(x, y, {});
  dense.backward(x, y, dy, &dx_once);
  const Vector<double> once = Eigen::Map<Vector<double>>(store.grads(), store.size());
  Eigen::Map<Vector<double>>(store.grads(), store.size()).setConstant(std::nan(""));
  dx_twice = Matrix<double>::Constant(3, 4, std::nan(""));
  dense.backward(x, y, dy, &dx_twice);
  const Vector<double> twice = Eigen::Map<Vector<double>>(store.grads(), store.size());
  EXPECT_EQ(twice, once);
  EXPECT_EQ(dx_twice, dx_once);
}

TEST(Dense, RegistersContiguousNamedBlocks) {
  ParamStore<float> store;
  Dense<float> first(store, "dense0", 4, 3);
  Dense<float> second(store, "dense1", 3, 2);
  store.allocate();
  ASSERT_EQ(store.layout().size(), 4u);
  EXPECT_EQ(store.layout()[0].name, "dense0.weight");
  EXPECT_TRUE(store.layout()[0].roles.decayed);
  EXPECT_TRUE(store.layout()[0].roles.max_normed);
  EXPECT_EQ(store.layout()[1].name, "dense0.bias");
  EXPECT_FALSE(store.layout()[1].roles.decayed);
  EXPECT_FALSE(store.layout()[1].roles.max_normed);
  EXPECT_EQ(store.layout()[3].name, "dense1.bias");
  EXPECT_EQ(first.param_range(), std::make_pair(size_t{0}, size_t{15}));
  EXPECT_EQ(second.param_range(), std::make_pair(size_t{15}, size_t{23}));
  EXPECT_EQ(store.size(), 23u);
}

TEST(ActivationLayer, ForwardValues) {
  Matrix<double> x(1, 3);
  x << -2, 0, 1.5;
  Matrix<double> y;
  ActivationLayer<double>(pb::RELU, 1).forward(x, y, {});
  EXPECT_EQ(y, (Matrix<double>(1, 3) << 0, 0, 1.5).finished());
  ActivationLayer<double>(pb::TANH, 1).forward(x, y, {});
  EXPECT_NEAR(y(0), std::tanh(-2.0), 1e-15);
  EXPECT_EQ(y(1), 0);
  ActivationLayer<double>(pb::SIGMOID, 1).forward(x, y, {});
  EXPECT_NEAR(y(0), 1 / (1 + std::exp(2.0)), 1e-15);
  EXPECT_EQ(y(1), 0.5);
  ActivationLayer<double>(pb::IDENTITY, 1).forward(x, y, {});
  EXPECT_EQ(y, x);
}

TEST(ActivationLayer, SigmoidSaturatesWithoutOverflow) {
  Matrix<float> x(1, 2);
  x << -1000.0f, 1000.0f;
  Matrix<float> y;
  ActivationLayer<float>(pb::SIGMOID, 1).forward(x, y, {});
  EXPECT_EQ(y(0), 0.0f);
  EXPECT_EQ(y(1), 1.0f);
}

class ActivationGradient : public ::testing::TestWithParam<pb::Activation> {};

TEST_P(ActivationGradient, InputGradientMatchesFiniteDifferences) {
  const int size = 4, batch = 6;
  ActivationLayer<double> layer(GetParam(), size);
  // Magnitudes in [0.1, 2) with random signs keep every input far from ReLU's kink at 0.
  Matrix<double> x = test_matrix(size, batch, 7, 0.1, 2.0);  // (I, N)
  const Matrix<double> signs = test_matrix(size, batch, 8);
  x.array() *= signs.array().sign();
  const Matrix<double> r = test_matrix(size, batch, 9);

  Matrix<double> y, dx;
  layer.forward(x, y, {});
  layer.backward(x, y, r, &dx);
  EXPECT_TRUE(gradients_match(x.data(), dx.data(), x.size(), [&]() {
    Matrix<double> out;
    layer.forward(x, out, {});
    return weighted_sum(out, r);
  }));
}

INSTANTIATE_TEST_SUITE_P(AllKinds, ActivationGradient,
                         ::testing::Values(pb::RELU, pb::TANH, pb::SIGMOID, pb::IDENTITY),
                         [](const auto& info) { return pb::Activation_Name(info.param); });

}  // namespace
}  // namespace mlp
