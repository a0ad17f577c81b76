// The model: the layer stack it builds, weight initialization, whole-model finite-difference
// checks for every activation and loss, the order in which backward reports finished
// gradients, buffer reuse, and that a tiny model can overfit.
#include "core/model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "core/loss.h"
#include "core/optimizer.h"
#include "gradient_check.h"
#include "tests/core/model_configs.h"

namespace mlp {
namespace {

TEST(Model, BuildsDenseLayersWithAnActivationAfterEachHiddenOne) {
  Model<float> model(model_config("5,3", pb::TANH, pb::SOFTMAX_CROSS_ENTROPY, 4, 2));
  const auto& layers = model.layers();
  ASSERT_EQ(layers.size(), 5u);
  const std::vector<std::pair<int, int>> shapes = {{4, 5}, {5, 5}, {5, 3}, {3, 3}, {3, 2}};
  for (size_t i = 0; i < layers.size(); ++i) {
    EXPECT_EQ(layers[i]->inputs(), shapes[i].first) << "layer " << i;
    EXPECT_EQ(layers[i]->outputs(), shapes[i].second) << "layer " << i;
    EXPECT_EQ(dynamic_cast<Dense<float>*>(layers[i].get()) != nullptr, i % 2 == 0);
  }
  EXPECT_EQ(model.inputs(), 4);
  EXPECT_EQ(model.outputs(), 2);
  EXPECT_EQ(model.store().size(), size_t{4 * 5 + 5 + 5 * 3 + 3 + 3 * 2 + 2});
  EXPECT_EQ(model.store().layout().back().name, "dense2.bias");
}

TEST(Model, NoHiddenLayersIsOneDenseLayer) {
  Model<float> model(model_config("", pb::IDENTITY, pb::PERCEPTRON, 2, 1));
  ASSERT_EQ(model.layers().size(), 1u);
  EXPECT_EQ(model.store().size(), 3u);
}

// Each hidden layer's activations of the last forward, by hand: tanh(W x + b) layer by layer,
// dropout (inactive outside training) changing nothing.
TEST(Model, HiddenActivationsAreEachHiddenLayersOutput) {
  pb::ModelConfig cfg = model_config("5,3", pb::TANH, pb::SOFTMAX_CROSS_ENTROPY, 4, 2);
  cfg.set_input_dropout(0.2f);
  cfg.set_dropout(0.5f);
  Model<double> model(cfg);
  model.initialize(7);
  const Matrix<double> x = Matrix<double>::Random(4, 6);  // (I, N)
  model.forward(x, ForwardContext{});
  const ParamStore<double>& store = model.store();
  Matrix<double> a = x;
  for (int k = 1; k <= 2; ++k) {
    const auto w = store.param(2 * (k - 1));              // (O, I)
    const auto b = store.param(2 * (k - 1) + 1).col(0);   // (O)
    a = ((w * a).colwise() + b).array().tanh().matrix();  // (O, N)
    EXPECT_LT((model.hidden_activations(k) - a).cwiseAbs().maxCoeff(), 1e-15) << k;
  }
  EXPECT_THROW(model.hidden_activations(0), std::out_of_range);
  EXPECT_THROW(model.hidden_activations(3), std::out_of_range);
  Model<float> linear(model_config("", pb::IDENTITY, pb::PERCEPTRON, 2, 1));
  EXPECT_THROW(linear.hidden_activations(1), std::out_of_range);
}

TEST(Model, InitializationIsAPureFunctionOfTheSeed) {
  Model<float> a(model_config("6", pb::RELU, pb::SOFTMAX_CROSS_ENTROPY, 5, 3));
  Model<float> b(model_config("6", pb::RELU, pb::SOFTMAX_CROSS_ENTROPY, 5, 3));
  a.initialize(42);
  b.initialize(42);
  const size_t n = a.store().size();
  const std::vector<float> first(a.store().values(), a.store().values() + n);
  EXPECT_EQ(first, std::vector<float>(b.store().values(), b.store().values() + n));
  b.initialize(43);
  EXPECT_NE(first, std::vector<float>(b.store().values(), b.store().values() + n));
}

// Sample mean and standard deviation of one block.
std::pair<double, double> moments(const ParamStore<double>& store, int block) {
  const auto w = store.param(block);
  const double mean = w.mean();
  return {mean, std::sqrt((w.array() - mean).square().mean())};
}

TEST(Model, HeNormalForReluGlorotUniformOtherwiseBiasesZero) {
  const int inputs = 300, hidden = 200;
  Model<double> relu(model_config("200", pb::RELU, pb::SOFTMAX_CROSS_ENTROPY, inputs, 10));
  relu.initialize(7);
  // 60000 draws: the sample standard deviation is within about 0.3% of the true one.
  const auto [he_mean, he_std] = moments(relu.store(), 0);
  EXPECT_NEAR(he_mean, 0.0, 0.01 * std::sqrt(2.0 / inputs));
  EXPECT_NEAR(he_std, std::sqrt(2.0 / inputs), 0.02 * std::sqrt(2.0 / inputs));

  Model<double> tanh(model_config("200", pb::TANH, pb::SOFTMAX_CROSS_ENTROPY, inputs, 10));
  tanh.store().param(1).setConstant(5);  // a bias that initialize must reset
  tanh.initialize(7);
  const double limit = std::sqrt(6.0 / (inputs + hidden));
  const auto w = tanh.store().param(0);
  EXPECT_LE(w.maxCoeff(), limit);
  EXPECT_GE(w.minCoeff(), -limit);
  // Uniform on [-limit, limit] has standard deviation limit / sqrt(3).
  EXPECT_NEAR(moments(tanh.store(), 0).second, limit / std::sqrt(3.0), 0.02 * limit);
  const std::vector<ParamBlock>& layout = tanh.store().layout();
  for (size_t b = 0; b < layout.size(); ++b) {
    if (!layout[b].roles.decayed) {
      EXPECT_TRUE(tanh.store().param(static_cast<int>(b)).isZero());
    }
  }
}

// The smallest |z| over the batch among the points where the model is not differentiable: the
// inputs of ReLU units and, for the perceptron criterion, the output. Finite differences across
// a kink measure a one-sided slope, so the check needs this well above the step.
double distance_to_kink(const Model<double>& model, const Matrix<double>& x, bool relu,
                        bool perceptron) {
  double nearest = std::numeric_limits<double>::infinity();
  Matrix<double> in = x, out;
  const auto& layers = model.layers();
  for (size_t i = 0; i < layers.size(); ++i) {
    layers[i]->forward(in, out, {});
    const bool last = i + 1 == layers.size();
    if ((last && perceptron) || (!last && relu && i % 2 == 0)) {
      nearest = std::min(nearest, out.cwiseAbs().minCoeff());
    }
    in.swap(out);
  }
  return nearest;
}

struct ModelCase {
  pb::Activation activation;
  pb::LossKind loss;
};

class ModelGradient : public ::testing::TestWithParam<ModelCase> {};

TEST_P(ModelGradient, EveryParameterMatchesFiniteDifferences) {
  const ModelCase& c = GetParam();
  const bool binary = c.loss == pb::LOGISTIC || c.loss == pb::PERCEPTRON;
  const int inputs = 4, outputs = binary ? 1 : 3, batch = 5;
  Model<double> model(model_config("5,4", c.activation, c.loss, inputs, outputs));
  model.initialize(3);
  // Non-zero biases, so that no ReLU unit sits exactly at its kink for every sample.
  for (const ParamBlock& block : model.store().layout()) {
    if (block.roles.decayed) continue;
    Eigen::Map<Vector<double>>(model.store().values() + block.offset, block.size()) =
        test_matrix(block.rows, 1, 20 + block.offset, -0.5, 0.5);
  }
  const auto loss = make_loss<double>(c.loss);
  const Matrix<double> x = test_matrix(inputs, batch, 21, -2, 2);  // (I, N)
  const std::vector<int32_t> labels =
      binary ? std::vector<int32_t>{0, 1, 1, 0, 1} : std::vector<int32_t>{2, 0, 1, 1, 0};
  const Matrix<double> values = test_matrix(outputs, batch, 22);  // (K, N)
  Targets<double> targets;
  if (c.loss == pb::SQUARED_ERROR) {
    targets.values = &values;
  } else {
    targets.labels = labels.data();
  }
  const double scale = 1.0 / batch;
  ASSERT_GT(distance_to_kink(model, x, c.activation == pb::RELU, c.loss == pb::PERCEPTRON), 1e-3);

  Matrix<double> doutputs;
  loss->evaluate(model.forward(x, {}), targets, scale, &doutputs);
  model.backward(x, doutputs);
  ParamStore<double>& store = model.store();
  EXPECT_TRUE(gradients_match(store.values(), store.grads(), store.size(), [&]() {
    return scale * loss->evaluate(model.forward(x, {}), targets, scale, nullptr);
  }));
}

std::vector<ModelCase> all_model_cases() {
  std::vector<ModelCase> cases;
  for (const pb::Activation a : {pb::RELU, pb::TANH, pb::SIGMOID, pb::IDENTITY}) {
    for (const pb::LossKind l :
         {pb::SOFTMAX_CROSS_ENTROPY, pb::SQUARED_ERROR, pb::LOGISTIC, pb::PERCEPTRON}) {
      cases.push_back({a, l});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(AllActivationsAndLosses, ModelGradient,
                         ::testing::ValuesIn(all_model_cases()), [](const auto& info) {
                           return pb::Activation_Name(info.param.activation) + "_" +
                                  pb::LossKind_Name(info.param.loss);
                         });

TEST(Model, BackwardReportsEachLayersGradientsLastLayerFirst) {
  Model<float> model(model_config("5,4", pb::RELU, pb::SOFTMAX_CROSS_ENTROPY, 3, 2));
  model.initialize(1);
  const Matrix<float> x = test_matrix(3, 4, 30).cast<float>();
  const Matrix<float> doutputs = test_matrix(2, 4, 31).cast<float>();
  model.forward(x, {});
  std::vector<std::pair<size_t, size_t>> ranges;
  model.backward(x, doutputs, [&](size_t begin, size_t end) { ranges.emplace_back(begin, end); });
  const size_t total = model.store().size();
  const std::vector<std::pair<size_t, size_t>> expected = {
      {3 * 5 + 5 + 5 * 4 + 4, total}, {3 * 5 + 5, 3 * 5 + 5 + 5 * 4 + 4}, {0, 3 * 5 + 5}};
  EXPECT_EQ(ranges, expected);
}

TEST(Model, ForwardAndBackwardReuseTheirBuffers) {
  Model<float> model(model_config("8", pb::SIGMOID, pb::SOFTMAX_CROSS_ENTROPY, 3, 2));
  model.initialize(1);
  const Matrix<float> x = test_matrix(3, 6, 32).cast<float>();
  const Matrix<float> doutputs = test_matrix(2, 6, 33).cast<float>();
  const float* first = model.forward(x, {}).data();
  model.backward(x, doutputs);
  const Vector<float> grads_once =
      Eigen::Map<const Vector<float>>(model.store().grads(), model.store().size());
  EXPECT_EQ(model.forward(x, {}).data(), first);
  model.backward(x, doutputs);
  // Each backward overwrites the gradients, so a step needs no zeroing pass before it.
  const Vector<float> grads_twice =
      Eigen::Map<const Vector<float>>(model.store().grads(), model.store().size());
  EXPECT_EQ(grads_twice, grads_once);
}

TEST(Model, TinyModelOverfitsSixteenSamples) {
  const int inputs = 5, classes = 4, samples = 16;
  Model<float> model(model_config("32", pb::TANH, pb::SOFTMAX_CROSS_ENTROPY, inputs, classes));
  model.initialize(5);
  pb::OptimizerConfig opt_cfg;
  opt_cfg.set_kind(pb::ADAM);
  opt_cfg.set_lr(0.02f);
  auto optimizer = make_optimizer(opt_cfg, model.store().layout());
  const auto loss = make_loss<float>(pb::SOFTMAX_CROSS_ENTROPY);
  // Random inputs with arbitrary labels: only memorization can fit them.
  const Matrix<float> x = test_matrix(inputs, samples, 40).cast<float>();
  std::vector<int32_t> labels(samples);
  for (int n = 0; n < samples; ++n) labels[n] = (n * 7 + 3) % classes;
  const Targets<float> targets{labels.data(), nullptr};

  Matrix<float> doutputs;
  double total = 0;
  for (int step = 0; step < 500; ++step) {
    total = loss->evaluate(model.forward(x, {}), targets, 1.0f / samples, &doutputs);
    model.backward(x, doutputs);
    optimizer->step(model.store().values(), model.store().grads(), opt_cfg.lr());
  }
  EXPECT_LT(total / samples, 0.01);
  EXPECT_EQ(loss->count_correct(model.forward(x, {}), targets), samples);
}

// A few bytes of config must not allocate gigabytes: the parameter count is bounded before
// anything is built.
TEST(Model, ParameterCountIsBoundedBeforeAllocating) {
  pb::ModelConfig config;
  config.set_inputs(784);
  config.set_outputs(10);
  config.set_hidden("65536,65536");
  try {
    Model<float> model(config);
    ADD_FAILURE() << "a model of 4.3 billion parameters was built";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "the model has 4347133962 parameters (784 inputs, 2 hidden layers, 10 outputs); "
                 "at most 100000000 fit a checkpoint");
  }
}

}  // namespace
}  // namespace mlp
