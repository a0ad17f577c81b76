// Predictions from raw outputs: probabilities are the losses' links (softmax columns sum to one,
// the logistic pair is 1 - p and p), classes agree with the training accuracy's rule, and the
// confusion matrix's precision, recall and F1 match a hand count.
#include "core/prediction.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/loss.h"

namespace mlp {
namespace {

TEST(Prediction, SoftmaxProbabilitiesAndClass) {
  Matrix<float> outputs(3, 2);  // (O, N)
  outputs << 1, 100, 2, -50, 3, 99;
  Matrix<float> probs;
  class_probabilities(pb::SOFTMAX_CROSS_ENTROPY, outputs, &probs);
  const double e = std::exp(1.0), total = 1 + e + e * e;
  EXPECT_NEAR(probs(0, 0), 1 / total, 1e-7);
  EXPECT_NEAR(probs(2, 0), e * e / total, 1e-7);
  EXPECT_NEAR(probs.col(1).sum(), 1.0f, 1e-6);  // no overflow at 100
  EXPECT_EQ(predicted_class(pb::SOFTMAX_CROSS_ENTROPY, outputs, 0), 2);
  EXPECT_EQ(predicted_class(pb::SOFTMAX_CROSS_ENTROPY, outputs, 1), 0);
}

TEST(Prediction, LogisticPairAndSingleOutputClasses) {
  Matrix<float> outputs(1, 3);
  outputs << 0.5f, -200, 0;
  Matrix<float> probs;
  class_probabilities(pb::LOGISTIC, outputs, &probs);
  EXPECT_NEAR(probs(1, 0), 1 / (1 + std::exp(-0.5)), 1e-7);
  EXPECT_NEAR(probs(0, 0) + probs(1, 0), 1.0f, 1e-7);
  EXPECT_EQ(probs(1, 1), 0.0f);
  EXPECT_EQ(probs(1, 2), 0.5f);
  // A zero score is class 0, as the training accuracy reads it.
  const int32_t labels[3] = {1, 0, 0};
  const std::unique_ptr<Loss<float>> loss = make_loss<float>(pb::LOGISTIC);
  int correct = 0;
  for (Eigen::Index j = 0; j < 3; ++j)
    correct += predicted_class(pb::LOGISTIC, outputs, j) == labels[j];
  EXPECT_EQ(correct, loss->count_correct(outputs, {labels, nullptr}));
  EXPECT_THROW(class_probabilities(pb::PERCEPTRON, outputs, &probs), std::invalid_argument);
}

TEST(Prediction, ConfusionMetricsMatchAHandCount) {
  ConfusionMatrix c(3);
  // label 0: predicted 0, 0, 1; label 1: predicted 1; label 2: predicted 0. Nothing predicted 2.
  for (const auto [label, predicted] : {std::pair{0, 0}, {0, 0}, {0, 1}, {1, 1}, {2, 0}})
    c.add(label, predicted);
  EXPECT_EQ(c.count(0, 0), 2);
  EXPECT_EQ(c.support(0), 3);
  EXPECT_DOUBLE_EQ(c.precision(0), 2.0 / 3);  // of 3 predicted 0, 2 are
  EXPECT_DOUBLE_EQ(c.recall(0), 2.0 / 3);
  EXPECT_DOUBLE_EQ(c.precision(1), 0.5);
  EXPECT_DOUBLE_EQ(c.recall(1), 1.0);
  EXPECT_DOUBLE_EQ(c.f1(1), 2 * 0.5 / 1.5);
  EXPECT_EQ(c.precision(2), 0.0);
  EXPECT_EQ(c.f1(2), 0.0);
}

}  // namespace
}  // namespace mlp
