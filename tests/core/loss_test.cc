// Losses: finite-difference checks of every loss's output gradient (with the caller's scale),
// values by hand, stability at extreme outputs, the accuracy count of each kind, predicted
// classes and class probabilities by each loss's link, and what each loss asks of a model's
// outputs and of its data's labels.
#include "core/loss.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/errors.h"
#include "gradient_check.h"

namespace mlp {
namespace {

struct GradientCase {
  const char* name;
  pb::LossKind kind;
  int outputs;
  bool values;  // regression targets instead of labels
};

class LossGradient : public ::testing::TestWithParam<GradientCase> {};

TEST_P(LossGradient, MatchesScaledFiniteDifferences) {
  const GradientCase& c = GetParam();
  const int batch = 6;
  const double scale = 0.25;
  const auto loss = make_loss<double>(c.kind);
  // Magnitudes in [0.2, 2) with random signs keep the perceptron's margins away from its kink.
  Matrix<double> outputs = test_matrix(c.outputs, batch, 11, 0.2, 2.0);  // (O, N)
  outputs.array() *= test_matrix(c.outputs, batch, 12).array().sign();
  const std::vector<int32_t> labels = c.outputs == 1 ? std::vector<int32_t>{0, 1, 1, 0, 1, 0}
                                                     : std::vector<int32_t>{0, 2, 1, 2, 0, 1};
  const Matrix<double> values = test_matrix(c.outputs, batch, 13);  // (K, N)
  Targets<double> targets;
  if (c.values) {
    targets.values = &values;
  } else {
    targets.labels = labels.data();
  }

  Matrix<double> doutputs;
  loss->evaluate(outputs, targets, scale, &doutputs);
  ASSERT_EQ(doutputs.rows(), outputs.rows());
  ASSERT_EQ(doutputs.cols(), outputs.cols());
  EXPECT_TRUE(gradients_match(outputs.data(), doutputs.data(), outputs.size(), [&]() {
    return scale * loss->evaluate(outputs, targets, scale, nullptr);
  }));
}

INSTANTIATE_TEST_SUITE_P(
    AllKinds, LossGradient,
    ::testing::Values(GradientCase{"SoftmaxCrossEntropy", pb::SOFTMAX_CROSS_ENTROPY, 3, false},
                      GradientCase{"SquaredErrorValues", pb::SQUARED_ERROR, 3, true},
                      GradientCase{"SquaredErrorOneHot", pb::SQUARED_ERROR, 3, false},
                      GradientCase{"Logistic", pb::LOGISTIC, 1, false},
                      GradientCase{"Perceptron", pb::PERCEPTRON, 1, false}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SoftmaxCrossEntropy, ValuesAndGradientByHand) {
  const auto loss = make_loss<double>(pb::SOFTMAX_CROSS_ENTROPY);
  Matrix<double> outputs(2, 2);  // (O, N)
  outputs << 0, 0, 0, std::log(3.0);
  const int32_t labels[] = {0, 1};
  Matrix<double> doutputs;
  // Column 0: p = (1/2, 1/2), loss ln 2. Column 1: p = (1/4, 3/4), loss -ln(3/4).
  const double total = loss->evaluate(outputs, {labels, nullptr}, 0.5, &doutputs);
  EXPECT_NEAR(total, std::log(2.0) - std::log(0.75), 1e-15);
  Matrix<double> expected(2, 2);
  expected << 0.5 * (0.5 - 1), 0.5 * 0.25, 0.5 * 0.5, 0.5 * (0.75 - 1);
  EXPECT_TRUE(doutputs.isApprox(expected, 1e-14));
}

TEST(SoftmaxCrossEntropy, StableForHugeLogits) {
  const auto loss = make_loss<float>(pb::SOFTMAX_CROSS_ENTROPY);
  Matrix<float> outputs(2, 2);
  outputs << 1000, 1000, 0, 0;
  const int32_t labels[] = {0, 1};
  Matrix<float> doutputs;
  EXPECT_NEAR(loss->evaluate(outputs, {labels, nullptr}, 1.0f, &doutputs), 1000.0, 1e-3);
  EXPECT_TRUE(doutputs.allFinite());
  EXPECT_NEAR(doutputs(1, 1), -1.0f, 1e-6);
}

TEST(SquaredError, ValueIsHalfTheSumOfSquares) {
  const auto loss = make_loss<double>(pb::SQUARED_ERROR);
  Matrix<double> outputs(2, 1);
  outputs << 3, -1;
  Matrix<double> values(2, 1);
  values << 1, 1;
  Matrix<double> doutputs;
  EXPECT_DOUBLE_EQ(loss->evaluate(outputs, {nullptr, &values}, 1.0, &doutputs), 4.0);
  EXPECT_EQ(doutputs, (Matrix<double>(2, 1) << 2, -2).finished());
}

TEST(SquaredError, LabelsBecomeOneHotTargets) {
  const auto loss = make_loss<double>(pb::SQUARED_ERROR);
  Matrix<double> outputs(3, 1);
  outputs << 0.5, 0.5, 0;
  const int32_t labels[] = {1};
  Matrix<double> doutputs;
  EXPECT_DOUBLE_EQ(loss->evaluate(outputs, {labels, nullptr}, 2.0, &doutputs), 0.25);
  EXPECT_EQ(doutputs, (Matrix<double>(3, 1) << 1, -1, 0).finished());
}

TEST(Logistic, ValuesByHandAndStableForHugeOutputs) {
  const auto loss = make_loss<double>(pb::LOGISTIC);
  Matrix<double> outputs(1, 4);
  outputs << 0, 1000, -1000, 1000;
  const int32_t labels[] = {1, 0, 0, 1};
  Matrix<double> doutputs;
  // ln 2 at the boundary, 1000 for a confident mistake, 0 for confident hits.
  EXPECT_NEAR(loss->evaluate(outputs, {labels, nullptr}, 1.0, &doutputs), std::log(2.0) + 1000,
              1e-12);
  EXPECT_EQ(doutputs, (Matrix<double>(1, 4) << -0.5, 1, 0, 0).finished());
}

TEST(Perceptron, LossIsNegativeMarginOfMistakes) {
  const auto loss = make_loss<double>(pb::PERCEPTRON);
  Matrix<double> outputs(1, 4);
  outputs << 2, -3, 0.5, 0;
  const int32_t labels[] = {1, 1, 0, 0};
  Matrix<double> doutputs;
  // t = (1, 1, -1, -1): margins 2 (hit), -3 (mistake), -0.5 (mistake), 0 (on the boundary).
  EXPECT_DOUBLE_EQ(loss->evaluate(outputs, {labels, nullptr}, 0.5, &doutputs), 3.5);
  EXPECT_EQ(doutputs, (Matrix<double>(1, 4) << 0, -0.5, 0.5, 0.5).finished());
}

TEST(Perceptron, ZeroOutputStillGetsAGradient) {
  const auto loss = make_loss<float>(pb::PERCEPTRON);
  const Matrix<float> outputs = Matrix<float>::Zero(1, 2);
  const int32_t labels[] = {1, 0};
  Matrix<float> doutputs;
  EXPECT_EQ(loss->evaluate(outputs, {labels, nullptr}, 1.0f, &doutputs), 0.0);
  EXPECT_EQ(doutputs, (Matrix<float>(1, 2) << -1, 1).finished());
}

TEST(CountCorrect, ArgmaxForMultiOutputLosses) {
  Matrix<float> outputs(3, 3);  // (O, N)
  outputs << 1, 0, 0, 2, 0, 5, 0, 3, 1;
  const int32_t labels[] = {1, 2, 0};
  for (const pb::LossKind kind : {pb::SOFTMAX_CROSS_ENTROPY, pb::SQUARED_ERROR}) {
    EXPECT_EQ(make_loss<float>(kind)->count_correct(outputs, {labels, nullptr}), 2);
  }
  const Matrix<float> values = Matrix<float>::Zero(3, 3);
  EXPECT_EQ(make_loss<float>(pb::SQUARED_ERROR)->count_correct(outputs, {nullptr, &values}), 0);
}

TEST(CountCorrect, SignForSingleOutputLosses) {
  Matrix<float> outputs(1, 4);
  outputs << 0.5f, -0.5f, 0.0f, -2.0f;
  const int32_t labels[] = {1, 1, 0, 0};
  // Logistic predicts 1 when sigmoid > 1/2, so 0 reads as class 0; the perceptron counts the
  // boundary as a mistake either way.
  EXPECT_EQ(make_loss<float>(pb::LOGISTIC)->count_correct(outputs, {labels, nullptr}), 3);
  EXPECT_EQ(make_loss<float>(pb::PERCEPTRON)->count_correct(outputs, {labels, nullptr}), 2);
}

TEST(Loss, ClassifyingKinds) {
  EXPECT_TRUE(loss_classifies(pb::SOFTMAX_CROSS_ENTROPY));
  EXPECT_TRUE(loss_classifies(pb::LOGISTIC));
  EXPECT_TRUE(loss_classifies(pb::PERCEPTRON));
  EXPECT_FALSE(loss_classifies(pb::SQUARED_ERROR));
}

// The outputs each loss asks of the data, and the one-line refusal of labels it cannot use.
TEST(Loss, OutputsFollowTheTargets) {
  const TargetShape ten_classes{true, 10, 0}, three_values{false, 0, 3};
  EXPECT_EQ(make_loss<float>(pb::SOFTMAX_CROSS_ENTROPY)->outputs_for(ten_classes), 10);
  EXPECT_EQ(make_loss<float>(pb::SQUARED_ERROR)->outputs_for(ten_classes), 10);
  EXPECT_EQ(make_loss<float>(pb::SQUARED_ERROR)->outputs_for(three_values), 3);
  EXPECT_EQ(make_loss<float>(pb::LOGISTIC)->outputs_for({true, 2, 0}), 1);
  EXPECT_EQ(make_loss<float>(pb::PERCEPTRON)->outputs_for({true, 2, 0}), 1);
  try {
    make_loss<float>(pb::PERCEPTRON)->outputs_for(ten_classes);
    FAIL() << "no error for ten classes";
  } catch (const DataError& e) {
    EXPECT_STREQ(e.what(), "the perceptron loss needs labels 0 and 1, but the labels go up to 9");
  }
  EXPECT_THROW(make_loss<float>(pb::SOFTMAX_CROSS_ENTROPY)->outputs_for({true, 1, 0}), DataError);
}

// The output count a model file's network must have for its loss, and the line that refuses
// another.
TEST(Loss, OutputsProblemNamesTheCountEachLossNeeds) {
  EXPECT_EQ(make_loss<float>(pb::SOFTMAX_CROSS_ENTROPY)->outputs_problem(2), "");
  EXPECT_EQ(make_loss<float>(pb::SOFTMAX_CROSS_ENTROPY)->outputs_problem(1),
            "softmax cross-entropy needs at least 2 outputs, the model has 1");
  EXPECT_EQ(make_loss<float>(pb::LOGISTIC)->outputs_problem(1), "");
  EXPECT_EQ(make_loss<float>(pb::LOGISTIC)->outputs_problem(3),
            "LOGISTIC needs 1 output, the model has 3");
  EXPECT_EQ(make_loss<double>(pb::PERCEPTRON)->outputs_problem(2),
            "PERCEPTRON needs 1 output, the model has 2");
  EXPECT_EQ(make_loss<double>(pb::PERCEPTRON)->outputs_problem(1), "");
  for (const int outputs : {1, 2, 7})
    EXPECT_EQ(make_loss<float>(pb::SQUARED_ERROR)->outputs_problem(outputs), "") << outputs;
}

// Only the perceptron's data may write its labels -1/+1.
TEST(Loss, SignedLabelsAreThePerceptronsOnly) {
  EXPECT_TRUE(make_loss<float>(pb::PERCEPTRON)->reads_signed_labels());
  EXPECT_FALSE(make_loss<float>(pb::LOGISTIC)->reads_signed_labels());
  EXPECT_FALSE(make_loss<float>(pb::SOFTMAX_CROSS_ENTROPY)->reads_signed_labels());
  EXPECT_FALSE(make_loss<double>(pb::SQUARED_ERROR)->reads_signed_labels());
}

// The link each loss names is the one its probabilities apply.
TEST(Loss, LinkIsTheOneTheProbabilitiesApply) {
  EXPECT_EQ(make_loss<float>(pb::SOFTMAX_CROSS_ENTROPY)->link(), ProbabilityLink::kSoftmax);
  EXPECT_EQ(make_loss<float>(pb::LOGISTIC)->link(), ProbabilityLink::kSigmoidPair);
  EXPECT_EQ(make_loss<float>(pb::PERCEPTRON)->link(), ProbabilityLink::kNone);
  EXPECT_EQ(make_loss<float>(pb::SQUARED_ERROR)->link(), ProbabilityLink::kNone);

  Matrix<double> outputs(2, 2);  // (O, N)
  outputs << 0.5, -1, 2, 3;
  Matrix<double> probs;  // (C, N)
  make_loss<double>(pb::SOFTMAX_CROSS_ENTROPY)->probabilities(outputs, &probs);
  for (Eigen::Index n = 0; n < outputs.cols(); ++n) {
    const Eigen::VectorXd e = outputs.col(n).array().exp();
    EXPECT_NEAR((probs.col(n) - e / e.sum()).norm(), 0, 1e-15) << n;
  }
  const Matrix<double> single = outputs.topRows(1);  // (1, N)
  make_loss<double>(pb::LOGISTIC)->probabilities(single, &probs);
  for (Eigen::Index n = 0; n < single.cols(); ++n) {
    const double p1 = 1 / (1 + std::exp(-single(0, n)));
    EXPECT_NEAR(probs(1, n), p1, 1e-15) << n;
    EXPECT_NEAR(probs(0, n), 1 - p1, 1e-15) << n;
  }
}

TEST(Loss, MissingOrMisshapenTargetsAreRejected) {
  const Matrix<double> outputs = Matrix<double>::Zero(2, 3);
  EXPECT_THROW(make_loss<double>(pb::SOFTMAX_CROSS_ENTROPY)->evaluate(outputs, {}, 1.0, nullptr),
               std::invalid_argument);
  const int32_t labels[] = {0, 1, 0};
  EXPECT_THROW(make_loss<double>(pb::LOGISTIC)->evaluate(outputs, {labels, nullptr}, 1.0, nullptr),
               std::invalid_argument);
  const Matrix<double> values = Matrix<double>::Zero(3, 3);
  EXPECT_THROW(
      make_loss<double>(pb::SQUARED_ERROR)->evaluate(outputs, {nullptr, &values}, 1.0, nullptr),
      std::invalid_argument);
  try {
    make_loss<double>(static_cast<pb::LossKind>(99));
    FAIL() << "no error for an unknown kind";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "--loss: no loss is built for 99");
  }
}

TEST(LossPredictions, SoftmaxProbabilitiesAndClass) {
  Matrix<float> outputs(3, 2);  // (O, N)
  outputs << 1, 100, 2, -50, 3, 99;
  const std::unique_ptr<Loss<float>> loss = make_loss<float>(pb::SOFTMAX_CROSS_ENTROPY);
  ASSERT_TRUE(loss->gives_probabilities());
  Matrix<float> probs;
  loss->probabilities(outputs, &probs);
  const double e = std::exp(1.0), total = 1 + e + e * e;
  EXPECT_NEAR(probs(0, 0), 1 / total, 1e-7);
  EXPECT_NEAR(probs(2, 0), e * e / total, 1e-7);
  EXPECT_NEAR(probs.col(1).sum(), 1.0f, 1e-6);  // no overflow at 100
  EXPECT_EQ(loss->predicted_class(outputs, 0), 2);
  EXPECT_EQ(loss->predicted_class(outputs, 1), 0);
}

TEST(LossPredictions, LogisticPairAndSingleOutputClasses) {
  Matrix<float> outputs(1, 3);
  outputs << 0.5f, -200, 0;
  const std::unique_ptr<Loss<float>> loss = make_loss<float>(pb::LOGISTIC);
  ASSERT_TRUE(loss->gives_probabilities());
  Matrix<float> probs;
  loss->probabilities(outputs, &probs);
  EXPECT_NEAR(probs(1, 0), 1 / (1 + std::exp(-0.5)), 1e-7);
  EXPECT_NEAR(probs(0, 0) + probs(1, 0), 1.0f, 1e-7);
  EXPECT_EQ(probs(1, 1), 0.0f);
  EXPECT_EQ(probs(1, 2), 0.5f);
  // A zero score is class 0, as the training accuracy reads it.
  const int32_t labels[3] = {1, 0, 0};
  int correct = 0;
  for (Eigen::Index j = 0; j < 3; ++j)
    correct += loss->predicted_class(outputs, j) == labels[j];
  EXPECT_EQ(correct, loss->count_correct(outputs, {labels, nullptr}));
  const std::unique_ptr<Loss<float>> perceptron = make_loss<float>(pb::PERCEPTRON);
  EXPECT_FALSE(perceptron->gives_probabilities());
  EXPECT_FALSE(make_loss<float>(pb::SQUARED_ERROR)->gives_probabilities());
  EXPECT_THROW(perceptron->probabilities(outputs, &probs), std::logic_error);
}

}  // namespace
}  // namespace mlp
