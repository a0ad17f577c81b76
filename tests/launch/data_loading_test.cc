// From a config to the run's datasets: sizes resolved into the model config, limits, the
// validation split, standardization with training statistics, regression targets, and the one
// error line of each way the data can fail to suit the config.
#include "launch/data_loading.h"

#include <gtest/gtest.h>

#include <string>

#include "core/errors.h"
#include "tests/core/test_files.h"

namespace mlp {
namespace {

using test_files::TempDir;
using test_files::write_text;

// n rows "label,f0,f1,f2": label i % classes, features that grow with the row.
std::string rows(int n, int classes) {
  std::string text;
  for (int i = 0; i < n; ++i)
    text += std::to_string(i % classes) + "," + std::to_string(i) + "," + std::to_string(2 * i) +
            ",1\n";
  return text;
}

pb::TrainConfig csv_config(const std::string& train, const std::string& test = "") {
  pb::TrainConfig c;
  c.mutable_data()->set_train_csv(train);
  c.mutable_data()->set_test_csv(test);
  return c;
}

template <typename E>
std::string error_of(pb::TrainConfig config) {
  try {
    load_training_data(&config);
  } catch (const E& e) {
    return e.what();
  }
  return "no error";
}

TEST(DataLoading, ClassificationCsvResolvesSizesAndSplitsValidation) {
  TempDir dir;
  pb::TrainConfig c = csv_config(write_text(dir.file("train.csv"), rows(40, 3)),
                                 write_text(dir.file("test.csv"), rows(9, 3)));
  c.mutable_data()->set_val_fraction(0.25f);
  const TrainingData data = load_training_data(&c);
  EXPECT_EQ(c.model().inputs(), 3);
  EXPECT_EQ(c.model().outputs(), 3);
  EXPECT_EQ(data.train.size(), 30);
  EXPECT_EQ(data.val.size(), 10);
  EXPECT_EQ(data.test.size(), 9);
  for (const Dataset* set : {&data.train, &data.val, &data.test}) EXPECT_EQ(set->num_classes, 3);
}

TEST(DataLoading, LimitsApplyBeforeTheSplitAndStandardizingUsesTrainingStatistics) {
  TempDir dir;
  pb::TrainConfig c = csv_config(write_text(dir.file("train.csv"), rows(40, 2)),
                                 write_text(dir.file("test.csv"), rows(9, 2)));
  c.mutable_data()->set_train_limit(20);
  c.mutable_data()->set_test_limit(4);
  c.mutable_data()->set_val_fraction(0.5f);
  c.mutable_data()->set_standardize(true);
  const TrainingData data = load_training_data(&c);
  EXPECT_EQ(data.train.size() + data.val.size(), 20);
  EXPECT_EQ(data.test.size(), 4);
  const Eigen::VectorXf mean = data.train.x.rowwise().mean();
  EXPECT_NEAR(mean(0), 0.0f, 1e-5f);
  EXPECT_NEAR(mean(1), 0.0f, 1e-5f);
  EXPECT_EQ(data.train.x(2, 0), 0.0f);  // a constant feature maps to 0, not NaN
}

TEST(DataLoading, SquaredErrorReadsRealTargetsAndOutputsOnePerTarget) {
  TempDir dir;
  pb::TrainConfig c = csv_config(write_text(dir.file("train.csv"), "0.5,1.5,1,2\n2,3,3,4\n"));
  c.mutable_model()->set_loss(pb::SQUARED_ERROR);
  c.mutable_data()->set_csv_targets(2);
  c.mutable_data()->set_val_fraction(0);
  const TrainingData data = load_training_data(&c);
  EXPECT_EQ(c.model().inputs(), 2);
  EXPECT_EQ(c.model().outputs(), 2);
  EXPECT_TRUE(data.train.labels.empty());
  EXPECT_EQ(data.train.targets(1, 0), 1.5f);
}

TEST(DataLoading, DataThatDoesNotSuitTheConfigIsOneLine) {
  TempDir dir;
  const std::string three = write_text(dir.file("three.csv"), rows(6, 3));
  const std::string one = write_text(dir.file("one.csv"), rows(6, 1));
  const std::string narrow = write_text(dir.file("narrow.csv"), "0,1\n1,2\n");

  pb::TrainConfig c = csv_config(three);
  c.mutable_data()->set_csv_targets(2);
  EXPECT_EQ(error_of<UsageError>(c),
            "--csv-targets: a classification loss takes one label column, got 2");

  c = csv_config(three, narrow);
  EXPECT_EQ(error_of<DataError>(c), "the test set has 1 features but the training set has 3");

  c = csv_config(write_text(dir.file("single.csv"), "0,1,2,3\n"));
  c.mutable_data()->set_val_fraction(0.9f);
  EXPECT_EQ(error_of<UsageError>(c), "--val-fraction: 0.900000 leaves no training samples");

  c = csv_config(three);
  c.mutable_model()->set_loss(pb::LOGISTIC);
  EXPECT_EQ(error_of<DataError>(c),
            "the logistic loss needs labels 0 and 1, but the labels go up to 2");

  c = csv_config(one);
  EXPECT_EQ(error_of<DataError>(c), "softmax cross-entropy needs at least 2 classes in the labels");
}

}  // namespace
}  // namespace mlp
