// Gradients under bf16 products against the double model's exact ones. A dense layer is held to
// the bound of its products' rounding entry by entry; a whole model, whose errors pass through
// several products, to a norm-wise bound built from the same per-product rounding. Skipped on a
// CPU or build without bf16 products.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/bf16.h"
#include "core/layer.h"
#include "core/loss.h"
#include "core/model.h"
#include "tests/core/gradient_check.h"
#include "tests/core/model_configs.h"

namespace mlp {
namespace {

constexpr double kUnit = 1.0 / 256;              // bf16's unit roundoff
const double kFloatUnit = std::ldexp(1.0, -24);  // float's

// The bound of a bf16 product of k terms relative to |op(a)| |op(b)| (see bf16_test.cc).
double product_factor(int k) { return 2 * kUnit + kUnit * kUnit + (k + 1) * kFloatUnit * 1.01; }

::testing::AssertionResult within(const Matrix<double>& got, const Matrix<double>& exact,
                                  const Matrix<double>& bound, const char* what) {
  const Matrix<double> excess = (got - exact).cwiseAbs() - bound;
  if ((excess.array() <= 0).all()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": worst excess over the bound "
                                       << excess.maxCoeff();
}

// A dense layer without activation: a = W x + b, dW = dy x^T, db = sum of dy's columns,
// dx = W^T dy. Under bf16 the products read W, x and dy rounded to bf16, so each entry is
// within product_factor(k) of the magnitudes' product, and the bias adds one float rounding.
TEST(Bf16Gradients, DenseLayerWithinItsProductsRoundingEntryByEntry) {
  if (!bf16_products_run()) GTEST_SKIP() << "no bf16 products on this CPU or build";
  const int inputs = 37, outputs = 21, n = 19;
  ParamStore<float> store;
  Dense<float> dense(store, "d", inputs, outputs);
  store.allocate();
  const Matrix<double> w = test_matrix(outputs, inputs, 1).cast<float>().cast<double>();
  const Matrix<double> b = test_matrix(outputs, 1, 2).cast<float>().cast<double>();
  const Matrix<double> x = test_matrix(inputs, n, 3).cast<float>().cast<double>();
  const Matrix<double> dy = test_matrix(outputs, n, 4).cast<float>().cast<double>();
  store.param(0) = w.cast<float>();
  store.param(1) = b.cast<float>();
  std::vector<Bf16> weights_bf16(store.size());
  to_bf16(store.values(), weights_bf16.data(), store.size());
  dense.set_products({GemmBackend::kOnednn, Precision::kBf16}, weights_bf16.data());

  Matrix<float> a, dx;
  dense.forward_fused(x.cast<float>(), pb::IDENTITY, nullptr, ForwardContext{}, a, nullptr);
  dense.backward_fused(x.cast<float>(), pb::IDENTITY, nullptr, a, dy.cast<float>(), &dx);

  const Matrix<double> wx = w.cwiseAbs() * x.cwiseAbs();
  const Matrix<double> a_exact = (w * x).colwise() + b.col(0);
  const Matrix<double> a_bound =
      product_factor(inputs) * wx + 2 * kFloatUnit * (a_exact.cwiseAbs() + wx);
  EXPECT_TRUE(within(a.cast<double>(), a_exact, a_bound, "outputs"));
  EXPECT_TRUE(within(store.grad(0).cast<double>(), dy * x.transpose(),
                     product_factor(n) * dy.cwiseAbs() * x.cwiseAbs().transpose(), "dW"));
  EXPECT_TRUE(within(store.grad(1).cast<double>(), dy.rowwise().sum(),
                     n * kFloatUnit * dy.cwiseAbs().rowwise().sum(), "db"));
  EXPECT_TRUE(within(dx.cast<double>(), w.transpose() * dy,
                     product_factor(outputs) * w.cwiseAbs().transpose() * dy.cwiseAbs(), "dx"));
  // bf16 did round: the weight gradient is not the float one.
  EXPECT_GT((store.grad(0).cast<double>() - dy * x.transpose()).cwiseAbs().maxCoeff(), 1e-5);
}

// A model of L = 3 dense layers with tanh and softmax cross-entropy. The gradient of the first
// layer's weights passes through 2L products (L forward, L - 1 input gradients, its own weight
// gradient), each off by at most 2u relative to the magnitudes it multiplies; tanh and the
// softmax's gradient are 1-Lipschitz and carry a relative error on no more than it is. With
// random weights of this size the magnitudes' products stay within a factor 2 of the products
// themselves in norm, so the flat gradient is within 2 * 2L * 2u = 8Lu (0.094) of the exact one
// in relative 2-norm, and every layer's within the same. Seen: 0.40% to 0.44% (u is 0.39%).
TEST(Bf16Gradients, ModelWithinItsProductsRoundingInNorm) {
  if (!bf16_products_run()) GTEST_SKIP() << "no bf16 products on this CPU or build";
  const pb::ModelConfig cfg = model_config("24,16", pb::TANH, pb::SOFTMAX_CROSS_ENTROPY, 30, 5);
  const int n = 32;
  Model<float> bf16(cfg, {GemmBackend::kOnednn, Precision::kBf16});
  Model<double> exact(cfg);
  bf16.initialize(11);
  for (size_t i = 0; i < exact.store().size(); ++i)
    exact.store().values()[i] = bf16.store().values()[i];
  const Matrix<double> x = test_matrix(30, n, 21).cast<float>().cast<double>();
  std::vector<int32_t> labels(n);
  for (int j = 0; j < n; ++j) labels[static_cast<size_t>(j)] = j % 5;

  const auto loss_f = make_loss<float>(pb::SOFTMAX_CROSS_ENTROPY);
  const auto loss_d = make_loss<double>(pb::SOFTMAX_CROSS_ENTROPY);
  Matrix<float> dout_f;
  Matrix<double> dout_d;
  const Matrix<float> xf = x.cast<float>();
  loss_f->evaluate(bf16.forward(xf, ForwardContext{}), {labels.data(), nullptr}, 1.0f / n, &dout_f);
  bf16.backward(xf, dout_f);
  loss_d->evaluate(exact.forward(x, ForwardContext{}), {labels.data(), nullptr}, 1.0 / n, &dout_d);
  exact.backward(x, dout_d);

  const double bound = 8 * 3 * kUnit;
  for (const ParamBlock& block : exact.store().layout()) {
    if (!block.roles.decayed) continue;  // weights; biases follow from the same dz
    const ConstVectorMap<float> got(bf16.store().grads() + block.offset,
                                    static_cast<Eigen::Index>(block.size()));
    const ConstVectorMap<double> want(exact.store().grads() + block.offset,
                                      static_cast<Eigen::Index>(block.size()));
    const double relative = (got.cast<double>() - want).norm() / want.norm();
    EXPECT_LE(relative, bound) << block.name;
    EXPECT_GT(relative, 0.0) << block.name;
  }
}

// The model converts its weights again after anyone may have written them.
TEST(Bf16Gradients, WritingTheParametersThroughTheStoreRefreshesTheBf16Copy) {
  if (!bf16_products_run()) GTEST_SKIP() << "no bf16 products on this CPU or build";
  const pb::ModelConfig cfg = model_config("", pb::IDENTITY, pb::SQUARED_ERROR, 2, 1);
  Model<float> model(cfg, {GemmBackend::kOnednn, Precision::kBf16});
  Matrix<float> x(2, 1);
  x << 1, 1;
  model.store().values()[0] = 3;
  model.store().values()[1] = 4;
  EXPECT_EQ(model.forward(x, ForwardContext{})(0, 0), 7.0f);
  model.store().values()[1] = 5;
  EXPECT_EQ(model.forward(x, ForwardContext{})(0, 0), 8.0f);
}

}  // namespace
}  // namespace mlp
