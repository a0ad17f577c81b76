// The matrix-product backends: each one against a double-precision reference on awkward shapes
// and transposes, the whole model's gradient under each one against finite differences, the
// backend timing on a model's shapes, and the names.
#include "core/gemm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/gemm_choice.h"
#include "core/loss.h"
#include "core/model.h"
#include "gradient_check.h"
#include "tests/core/model_configs.h"

namespace mlp {
namespace {

std::string name_of(const ::testing::TestParamInfo<GemmBackend>& info) {
  return gemm_backend_name(info.param);
}

class EachBackend : public ::testing::TestWithParam<GemmBackend> {
 protected:
  const ProductSettings products_{GetParam()};
};

struct Shape {
  int m, n, k;
};

// Row vectors, column vectors, odd sizes and sizes that are not multiples of a vector width.
const std::vector<Shape> kShapes = {{1, 1, 1},    {1, 37, 5},   {37, 1, 5},   {5, 7, 1},
                                    {17, 33, 65}, {31, 1, 129}, {1, 19, 300}, {130, 67, 47},
                                    {64, 48, 16}, {255, 3, 257}};

// Each entry's error against the double product, relative to the sum of the magnitudes of its
// terms: the scale float rounding works on, which stays meaningful where terms cancel.
double worst_relative_error(const Matrix<double>& a, bool ta, const Matrix<double>& b, bool tb,
                            const Matrix<double>& c0, bool add, const Matrix<float>& c) {
  const Matrix<double> opa = ta ? Matrix<double>(a.transpose()) : a;
  const Matrix<double> opb = tb ? Matrix<double>(b.transpose()) : b;
  Matrix<double> reference = opa * opb;
  Matrix<double> magnitude = opa.cwiseAbs() * opb.cwiseAbs();
  if (add) {
    reference += c0;
    magnitude += c0.cwiseAbs();
  }
  const Matrix<double> error = (c.cast<double>() - reference).cwiseAbs();
  return (error.array() / magnitude.array().max(1e-30)).maxCoeff();
}

TEST_P(EachBackend, ProductsMatchDoubleReferenceOnAwkwardShapesAndTransposes) {
  uint64_t key = 100;
  for (const Shape& s : kShapes) {
    for (int variant = 0; variant < 8; ++variant) {
      const bool ta = variant & 1, tb = variant & 2, add = variant & 4;
      const Matrix<double> a = ta ? test_matrix(s.k, s.m, ++key) : test_matrix(s.m, s.k, ++key);
      const Matrix<double> b = tb ? test_matrix(s.n, s.k, ++key) : test_matrix(s.k, s.n, ++key);
      const Matrix<double> c0 = test_matrix(s.m, s.n, ++key);
      // Stale values (NaN) where an overwrite must not read.
      Matrix<float> c =
          add ? Matrix<float>(c0.cast<float>()) : Matrix<float>::Constant(s.m, s.n, std::nanf(""));
      gemm<float>(products_, a.cast<float>(), ta, b.cast<float>(), tb, c,
                  add ? Accumulate::kAdd : Accumulate::kOverwrite);
      EXPECT_LE(worst_relative_error(a, ta, b, tb, c0, add, c), 1e-5)
          << s.m << "x" << s.n << "x" << s.k << " ta " << ta << " tb " << tb << " add " << add;
    }
  }
}

TEST_P(EachBackend, ProductsIntoAndFromBlocksOfColumns) {
  const Matrix<float> big_a = test_matrix(23, 40, 1).cast<float>();
  const Matrix<float> big_b = test_matrix(40, 30, 2).cast<float>();
  Matrix<float> big_c = Matrix<float>::Zero(23, 30);
  // Columns 5..14 of c from columns 3..42 of a... the strided views keep their leading dimension.
  gemm<float>(products_, big_a.middleCols(3, 17), false, big_b.block(0, 5, 17, 10), false,
              big_c.middleCols(5, 10), Accumulate::kOverwrite);
  const Matrix<double> expected =
      big_a.middleCols(3, 17).cast<double>() * big_b.block(0, 5, 17, 10).cast<double>();
  EXPECT_LE((big_c.middleCols(5, 10).cast<double>() - expected).cwiseAbs().maxCoeff(), 1e-5);
  EXPECT_EQ(big_c.leftCols(5).cwiseAbs().maxCoeff(), 0.0f);
  EXPECT_EQ(big_c.rightCols(15).cwiseAbs().maxCoeff(), 0.0f);
}

TEST_P(EachBackend, EmptyInnerDimensionOverwritesWithZeroOrLeavesAlone) {
  const Matrix<float> a(3, 0), b(0, 4);
  Matrix<float> c = Matrix<float>::Constant(3, 4, 2.0f);
  gemm<float>(products_, a, false, b, false, c, Accumulate::kAdd);
  EXPECT_EQ(c, Matrix<float>::Constant(3, 4, 2.0f));
  gemm<float>(products_, a, false, b, false, c, Accumulate::kOverwrite);
  EXPECT_EQ(c, Matrix<float>::Zero(3, 4));
}

TEST_P(EachBackend, MismatchedShapesAreRejected) {
  const Matrix<float> a(3, 5), b(4, 2);
  Matrix<float> c(3, 2);
  EXPECT_THROW(gemm<float>(products_, a, false, b, false, c, Accumulate::kOverwrite),
               std::invalid_argument);
}

TEST_P(EachBackend, SameInputsGiveIdenticalBits) {
  const Matrix<float> a = test_matrix(129, 77, 5).cast<float>();
  const Matrix<float> b = test_matrix(77, 31, 6).cast<float>();
  Matrix<float> first(129, 31), second(129, 31);
  gemm<float>(products_, a, false, b, false, first, Accumulate::kOverwrite);
  gemm<float>(products_, a, false, b, false, second, Accumulate::kOverwrite);
  EXPECT_EQ(first, second);
}

// The float model's analytic gradient, computed with this backend's products, against central
// differences of the same model in double: the gradient the training loop really uses. Dropout
// runs in training mode: its masks are a pure function of the context, the same in every call.
TEST_P(EachBackend, FloatModelGradientMatchesFiniteDifferences) {
  for (const pb::Activation activation : {pb::TANH, pb::SIGMOID}) {
    const int inputs = 6, outputs = 3, batch = 7;
    pb::ModelConfig cfg =
        model_config("9,5", activation, pb::SOFTMAX_CROSS_ENTROPY, inputs, outputs);
    cfg.set_dropout(0.3f);
    cfg.set_input_dropout(0.2f);
    const std::vector<int64_t> ids = {11, 3, 5, 8, 13, 21, 34};
    const ForwardContext ctx{true, 9, 4, ids.data()};
    Model<double> exact(cfg, products_);
    exact.initialize(5);
    Model<float> model(cfg, products_);
    ParamStore<double>& store = exact.store();
    std::copy(store.values(), store.values() + store.size(), model.store().values());
    const auto loss = make_loss<float>(cfg.loss());
    const auto exact_loss = make_loss<double>(cfg.loss());
    const Matrix<double> x = test_matrix(inputs, batch, 40, -2, 2);  // (I, N)
    const std::vector<int32_t> labels = {2, 0, 1, 1, 0, 2, 2};
    Targets<float> targets;
    targets.labels = labels.data();
    Targets<double> exact_targets;
    exact_targets.labels = labels.data();
    const double scale = 1.0 / batch;

    const Matrix<float> xf = x.cast<float>();
    Matrix<float> doutputs;
    loss->evaluate(model.forward(xf, ctx), targets, static_cast<float>(scale), &doutputs);
    model.backward(xf, doutputs);
    const std::vector<double> analytic(model.store().grads(),
                                       model.store().grads() + model.store().size());
    EXPECT_TRUE(gradients_match(
        store.values(), analytic.data(), store.size(),
        [&]() {
          return scale * exact_loss->evaluate(exact.forward(x, ctx), exact_targets, 1, nullptr);
        },
        2e-4))
        << pb::Activation_Name(activation);
  }
}

INSTANTIATE_TEST_SUITE_P(Available, EachBackend, ::testing::ValuesIn(available_gemm_backends()),
                         name_of);

TEST(GemmBackend, NamesRoundTripAndUnknownNamesAreUsageErrors) {
  for (GemmBackend b : available_gemm_backends())
    EXPECT_EQ(parse_gemm_backend(gemm_backend_name(b)), b);
  try {
    parse_gemm_backend("mkl");
    ADD_FAILURE() << "accepted mkl";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), "--gemm: \"mkl\" is not one of auto, onednn, eigen, blas");
  }
  // Names come from config files too: shown escaped, on one line.
  try {
    parse_gemm_backend("eig\nen");
    ADD_FAILURE() << "accepted a name with a newline";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()),
              "--gemm: \"eig\\nen\" is not one of auto, onednn, eigen, blas");
  }
}

// A model refuses a backend this build leaves out with a usage error naming the package and the
// build switch; the default build has all three, which the first expectation states.
TEST(GemmBackend, BackendsOutsideThisBuildAreUsageErrors) {
  EXPECT_EQ(available_gemm_backends().size(), all_gemm_backends().size());
  Model<float> model(model_config("4", pb::RELU, pb::SOFTMAX_CROSS_ENTROPY, 3, 2));
  for (GemmBackend b : all_gemm_backends()) {
    if (gemm_backend_available(b)) {
      model.set_products({b});
      EXPECT_EQ(model.products().backend, b);
    } else {
      EXPECT_THROW(model.set_products({b}), UsageError);
    }
  }
}

// The model hands its settings to every product: a model on each backend computes what the
// same products give on that backend, and the Eigen default until told otherwise.
TEST_P(EachBackend, ModelRunsItsProductsOnItsBackend) {
  const pb::ModelConfig cfg = model_config("", pb::IDENTITY, pb::SQUARED_ERROR, 37, 19);
  Model<float> model(cfg);
  EXPECT_EQ(model.products().backend, GemmBackend::kEigen);
  model.initialize(3);
  model.set_products(products_);
  const Matrix<float> x = test_matrix(37, 29, 8).cast<float>();  // (I, N)
  const ParamStore<float>& store = model.store();
  Matrix<float> expected(19, 29);  // (O, N)
  gemm<float>(products_, store.param(0), false, x, false, expected, Accumulate::kOverwrite);
  EXPECT_EQ(model.forward(x, {}), expected);  // the bias is zero
}

TEST(GemmChoice, StepProductsOfAModel) {
  const std::vector<GemmProduct> p = step_products({784, 1024, 10}, 128);
  ASSERT_EQ(p.size(), 5u);
  double flop = 0;
  for (const GemmProduct& q : p) flop += q.flop();
  // 9.56 MFLOP per sample for 784-1024-1024-10 comes from the same rule: 4 I O for the first
  // layer, 6 I O for the others.
  EXPECT_DOUBLE_EQ(flop, 128.0 * (4.0 * 784 * 1024 + 6.0 * 1024 * 10));
  EXPECT_EQ(p[1].m, 1024);
  EXPECT_EQ(p[1].n, 784);
  EXPECT_EQ(p[1].k, 128);
  EXPECT_TRUE(p[1].transpose_b);
  EXPECT_TRUE(p[4].transpose_a);
}

TEST(GemmChoice, TimesEveryAvailableBackendWithinItsBudget) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<GemmTiming> timings =
      time_gemm_backends(step_products({100, 64, 10}, 32), 0.05);
  const double spent =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(timings.size(), available_gemm_backends().size());
  for (const GemmTiming& t : timings) {
    EXPECT_GT(t.gflops, 0.0) << gemm_backend_name(t.backend);
    EXPECT_GE(fastest_gemm(timings).step_seconds, 0.0);
    EXPECT_LE(fastest_gemm(timings).step_seconds, t.step_seconds);
  }
  EXPECT_LT(spent, 1.0);
}

}  // namespace
}  // namespace mlp
