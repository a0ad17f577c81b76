// The confusion matrix's precision, recall and F1 match a hand count.
#include "core/prediction.h"

#include <gtest/gtest.h>


namespace mlp {
namespace {

TEST(Prediction, ConfusionMetricsMatchAHandCount) {
  ConfusionMatrix c(3);
  // label 0: predicted 0, 0, 1; label 1: predicted 1; label 2: predicted 0. Nothing predicted 2.
  for (const auto& [label, predicted] : {std::pair{0, 0}, {0, 0}, {0, 1}, {1, 1}, {2, 0}})
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
