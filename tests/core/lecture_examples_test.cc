// The lecture's classic examples, trained end to end with the real model, losses and
// optimizers: the perceptron separates separable data and cannot fit XOR, one hidden layer
// can; logistic and linear regression recover the weights that generated their data.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/loss.h"
#include "core/model.h"
#include "core/optimizer.h"
#include "core/rng.h"
#include "tests/core/model_configs.h"

namespace mlp {
namespace {

pb::OptimizerConfig optimizer_config(pb::OptimizerKind kind, float lr) {
  pb::OptimizerConfig cfg;
  cfg.set_kind(kind);
  cfg.set_lr(lr);
  return cfg;
}

// Everything one gradient step needs, wired as the training loop wires it.
struct Trainer {
  Trainer(const pb::ModelConfig& model_cfg, const pb::OptimizerConfig& opt_cfg)
      : model(model_cfg),
        loss(make_loss<float>(model_cfg.loss())),
        optimizer(make_optimizer(opt_cfg, model.store().layout())),
        lr(opt_cfg.lr()) {}

  // One step on the mean loss of the batch x (I, N); returns the summed loss before the step.
  double step(const Matrix<float>& x, const Targets<float>& targets) {
    const double total = loss->evaluate(model.forward(x, {}), targets,
                                        1.0f / static_cast<float>(x.cols()), &doutputs);
    model.backward(x, doutputs);
    optimizer->step(model.store().values(), model.store().grads(), lr);
    return total;
  }

  int64_t correct(const Matrix<float>& x, const Targets<float>& targets) {
    return loss->count_correct(model.forward(x, {}), targets);
  }

  Model<float> model;
  std::unique_ptr<Loss<float>> loss;
  std::unique_ptr<Optimizer> optimizer;
  float lr;
  Matrix<float> doutputs;  // (O, N)
};

// The perceptron learning algorithm: visit the samples one at a time, and after each mistake
// add t x to the weights (t = +-1): SGD at learning rate 1 on the perceptron criterion with
// batches of one. Returns the best training accuracy seen after any epoch.
int64_t perceptron_learning(Trainer& perceptron, const Matrix<float>& x,
                            const std::vector<int32_t>& labels, int max_epochs) {
  Matrix<float> sample(x.rows(), 1);  // (I, 1)
  int64_t best = 0;
  for (int epoch = 0; epoch < max_epochs && best < x.cols(); ++epoch) {
    for (Eigen::Index n = 0; n < x.cols(); ++n) {
      sample = x.col(n);
      perceptron.step(sample, {&labels[n], nullptr});
    }
    best = std::max(best, perceptron.correct(x, {labels.data(), nullptr}));
  }
  return best;
}

TEST(LectureExamples, PerceptronSeparatesLinearlySeparableData) {
  // Points of [-1, 1]^2 labelled by the side of 1.5 x0 - x1 + 0.25 = 0, keeping a margin of
  // 0.1 so that the perceptron convergence theorem bounds the number of mistakes.
  std::vector<float> coords;
  std::vector<int32_t> labels;
  for (uint64_t i = 0; labels.size() < 200; ++i) {
    const float x0 = 2 * random_uniform(1, RngStream::kSplit, i, 0) - 1;
    const float x1 = 2 * random_uniform(1, RngStream::kSplit, i, 1) - 1;
    const float side = 1.5f * x0 - x1 + 0.25f;
    if (std::abs(side) < 0.1f) continue;
    coords.insert(coords.end(), {x0, x1});
    labels.push_back(side > 0);
  }
  const Matrix<float> x = Eigen::Map<const Matrix<float>>(coords.data(), 2, labels.size());
  // Zero weights, as the algorithm starts.
  Trainer perceptron(model_config("", pb::IDENTITY, pb::PERCEPTRON, 2, 1),
                     optimizer_config(pb::SGD, 1.0f));
  EXPECT_EQ(perceptron_learning(perceptron, x, labels, 100), x.cols());
}

// The four corners of the unit square, labelled by x0 XOR x1.
const float kXorInputs[] = {0, 0, 0, 1, 1, 0, 1, 1};
const std::vector<int32_t> kXorLabels = {0, 1, 1, 0};

TEST(LectureExamples, PerceptronCannotFitXor) {
  const Matrix<float> x = Eigen::Map<const Matrix<float>>(kXorInputs, 2, 4);
  Trainer perceptron(model_config("", pb::IDENTITY, pb::PERCEPTRON, 2, 1),
                     optimizer_config(pb::SGD, 1.0f));
  // No line separates XOR, so at least one corner is always misclassified.
  EXPECT_LT(perceptron_learning(perceptron, x, kXorLabels, 1000), 4);
  EXPECT_GT(perceptron.optimizer->step_count(), 0);
}

TEST(LectureExamples, OneHiddenLayerLearnsXor) {
  const Matrix<float> x = Eigen::Map<const Matrix<float>>(kXorInputs, 2, 4);
  const Targets<float> targets{kXorLabels.data(), nullptr};
  Trainer mlp(model_config("8", pb::RELU, pb::LOGISTIC, 2, 1), optimizer_config(pb::ADAM, 0.05f));
  mlp.model.initialize(1);
  double total = 0;
  for (int step = 0; step < 1000; ++step) total = mlp.step(x, targets);
  EXPECT_EQ(mlp.correct(x, targets), 4);
  EXPECT_LT(total / 4, 0.05);
}

TEST(LectureExamples, LogisticRegressionRecoversTheGeneratingWeights) {
  const int samples = 20000;
  const Eigen::Vector3f w_true(2.0f, -1.0f, 0.5f);
  const float b_true = -0.3f;
  Matrix<float> x(3, samples);  // (I, N)
  std::vector<int32_t> labels(samples);
  for (int n = 0; n < samples; ++n) {
    for (int i = 0; i < 3; ++i) x(i, n) = random_normal(2, RngStream::kSplit, n, i);
    const float p = 1 / (1 + std::exp(-(w_true.dot(x.col(n)) + b_true)));
    labels[n] = random_uniform(2, RngStream::kSplit, n, 3) < p;
  }
  Trainer logistic(model_config("", pb::IDENTITY, pb::LOGISTIC, 3, 1),
                   optimizer_config(pb::SGD, 4.0f));
  for (int step = 0; step < 500; ++step) logistic.step(x, {labels.data(), nullptr});
  // The maximum-likelihood estimate from 20000 samples has standard errors of about 0.03.
  const ParamStore<float>& store = logistic.model.store();
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(store.param(0)(0, i), w_true(i), 0.1) << "weight " << i;
  EXPECT_NEAR(store.param(1)(0), b_true, 0.1);
}

TEST(LectureExamples, LinearRegressionRecoversWeightsAndBiases) {
  const int inputs = 4, outputs = 3, samples = 1000;
  Matrix<float> a_true(outputs, inputs);  // (O, I)
  a_true << 1, -2, 0.5, 0, 0.3, 0, -1, 2, -0.7, 1.5, 0.2, -0.4;
  const Eigen::Vector3f b_true(0.5f, -1.0f, 2.0f);
  Matrix<float> x(inputs, samples);       // (I, N)
  Matrix<float> noise(outputs, samples);  // (O, N)
  for (int n = 0; n < samples; ++n) {
    for (int i = 0; i < inputs; ++i) x(i, n) = random_normal(3, RngStream::kSplit, n, i);
    for (int o = 0; o < outputs; ++o) {
      noise(o, n) = 0.01f * random_normal(4, RngStream::kSplit, n, o);
    }
  }
  const Matrix<float> y = (a_true * x).colwise() + b_true + noise;  // (O, N)
  Trainer regression(model_config("", pb::IDENTITY, pb::SQUARED_ERROR, inputs, outputs),
                     optimizer_config(pb::SGD, 0.5f));
  for (int step = 0; step < 300; ++step) regression.step(x, {nullptr, &y});
  // Noise of 0.01 over 1000 samples leaves an error of about 3e-4 in the least-squares fit.
  const ParamStore<float>& store = regression.model.store();
  EXPECT_LT((store.param(0) - a_true).cwiseAbs().maxCoeff(), 0.005f);
  EXPECT_LT((store.param(1) - b_true).cwiseAbs().maxCoeff(), 0.005f);
}

}  // namespace
}  // namespace mlp
