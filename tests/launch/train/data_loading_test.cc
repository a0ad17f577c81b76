// From a config to the run's datasets: sizes resolved into the model config, limits, the
// validation split, standardization with training statistics, regression targets, and the one
// error line of each way the data can fail to suit the config. Through the per-host cache the
// samples (and so the fingerprint) are exactly those of floats held in memory, for IDX bytes and
// CSV floats; a second load maps the file the first one wrote; a damaged file is rebuilt.
#include "launch/train/data_loading.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/data_cache.h"
#include "core/errors.h"
#include "tests/core/gathered.h"
#include "tests/core/test_files.h"

namespace mlp {
namespace {

using test_files::TempDir;
using test_files::write_gzip;
using test_files::write_raw;
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
  const Matrix<float> x = gather_all(data.train).x;
  const Eigen::VectorXf mean = x.rowwise().mean();
  EXPECT_NEAR(mean(0), 0.0f, 1e-5f);
  EXPECT_NEAR(mean(1), 0.0f, 1e-5f);
  EXPECT_EQ(x(2, 0), 0.0f);  // a constant feature maps to 0, not NaN
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
  const Gathered g = gather_all(data.train);
  EXPECT_TRUE(g.labels.empty());
  EXPECT_EQ(g.targets(1, 0), 1.5f);
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

std::vector<uint8_t> idx(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> bytes = {0, 0, 8, static_cast<uint8_t>(dims.size())};
  for (const uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(d >> shift));
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

// n images of 2x3 pixels and their labels, as a prefix (train, t10k) of an IDX folder.
void write_idx_set(const TempDir& dir, const std::string& prefix, uint32_t n) {
  std::vector<uint8_t> pixels(n * 6), labels(n);
  for (size_t k = 0; k < pixels.size(); ++k) pixels[k] = static_cast<uint8_t>(k * 53 % 256);
  for (uint32_t j = 0; j < n; ++j) labels[j] = static_cast<uint8_t>(j % 10);
  write_gzip(dir.file(prefix + "-images-idx3-ubyte.gz"), idx({n, 2, 3}, pixels));
  write_raw(dir.file(prefix + "-labels-idx1-ubyte"), idx({n}, labels));
}

pb::TrainConfig config_with_cache(const std::string& cache_dir) {
  pb::TrainConfig c;
  c.mutable_data()->set_cache_dir(cache_dir);
  c.mutable_data()->set_standardize(true);
  c.mutable_data()->set_val_fraction(0.25);
  return c;
}

void expect_same_sets(const TrainingData& a, const TrainingData& b) {
  const Dataset* sets_a[] = {&a.train, &a.val, &a.test};
  const Dataset* sets_b[] = {&b.train, &b.val, &b.test};
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(fingerprint(*sets_a[k]), fingerprint(*sets_b[k]));
    const Gathered ga = gather_all(*sets_a[k]), gb = gather_all(*sets_b[k]);
    EXPECT_EQ(ga.x, gb.x);
    EXPECT_EQ(ga.labels, gb.labels);
    EXPECT_EQ(ga.targets, gb.targets);
  }
}

TEST(DataLoading, IdxThroughTheCacheEqualsFloatsInMemory) {
  TempDir data, cache;
  write_idx_set(data, "train", 40);
  write_idx_set(data, "t10k", 12);
  pb::TrainConfig cached = config_with_cache(cache.path()), in_memory = config_with_cache("off");
  cached.mutable_data()->set_data_dir(data.path());
  in_memory.mutable_data()->set_data_dir(data.path());

  const TrainingData a = load_training_data(&cached);
  EXPECT_EQ(a.train.table->shape().type, FeatureType::kUint8);
  const TrainingData b = load_training_data(&in_memory);
  EXPECT_EQ(b.train.table->shape().type, FeatureType::kFloat32);
  expect_same_sets(a, b);
  EXPECT_EQ(cached.model().inputs(), 6);
  EXPECT_EQ(cached.model().outputs(), 10);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(cache.path()), {}), 4);  // + locks

  // A second run maps the files the first one wrote.
  expect_same_sets(load_training_data(&cached), a);
}

TEST(DataLoading, CsvRegressionThroughTheCacheEqualsFloatsInMemory) {
  TempDir data, cache;
  std::string text;
  for (int j = 0; j < 30; ++j)
    text += std::to_string(j * 0.5) + "," + std::to_string(-j) + "," + std::to_string(j % 7) +
            "," + std::to_string(j * j % 11) + "\n";
  const std::string csv = write_text(data.file("train.csv"), text);
  pb::TrainConfig cached = config_with_cache(cache.path()), in_memory = config_with_cache("off");
  for (pb::TrainConfig* c : {&cached, &in_memory}) {
    c->mutable_data()->set_train_csv(csv);
    c->mutable_data()->set_csv_targets(2);
    c->mutable_model()->set_loss(pb::SQUARED_ERROR);
  }
  const TrainingData a = load_training_data(&cached), b = load_training_data(&in_memory);
  expect_same_sets(a, b);
  EXPECT_EQ(cached.model().outputs(), 2);
}

TEST(DataLoading, DamagedCacheFileIsRebuilt) {
  TempDir data, cache;
  write_idx_set(data, "train", 40);
  write_idx_set(data, "t10k", 12);
  pb::TrainConfig c = config_with_cache(cache.path());
  c.mutable_data()->set_data_dir(data.path());
  const TrainingData before = load_training_data(&c);
  const std::string path =
      data_cache_path(cache.path(), source_key({data.file("train-images-idx3-ubyte.gz"),
                                                data.file("train-labels-idx1-ubyte")},
                                               "idx classes=10"));
  ASSERT_TRUE(std::filesystem::exists(path));
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 1);

  ::testing::internal::CaptureStderr();
  const TrainingData after = load_training_data(&c);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("trainer: warning: data cache: " + path + ": truncated"), std::string::npos) << err;
  expect_same_sets(before, after);
}

}  // namespace
}  // namespace mlp
