// Dataset operations: truncation, the seeded validation split (sizes, disjointness, order,
// determinism), standardization, batch gathering and the fingerprint.
#include "core/dataset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/errors.h"
#include "core/rng.h"

namespace mlp {
namespace {

// Sample j has x(0, j) == j, so every column can be traced back to its original index.
Dataset make_classification(int features, int64_t n) {
  Dataset d;
  d.x.resize(features, n);
  for (int64_t j = 0; j < n; ++j) {
    for (int i = 0; i < features; ++i) d.x(i, j) = static_cast<float>(j + 1000 * i);
    d.labels.push_back(static_cast<int32_t>(j % 3));
  }
  d.num_classes = 3;
  return d;
}

Dataset make_regression(int features, int64_t n) {
  Dataset d = make_classification(features, n);
  d.labels.clear();
  d.num_classes = 0;
  d.targets.resize(2, n);
  for (int64_t j = 0; j < n; ++j) {
    d.targets(0, j) = static_cast<float>(-j);
    d.targets(1, j) = static_cast<float>(j) * 0.5f;
  }
  return d;
}

std::vector<int64_t> original_ids(const Dataset& d) {
  std::vector<int64_t> ids;
  for (int64_t j = 0; j < d.size(); ++j) ids.push_back(static_cast<int64_t>(d.x(0, j)));
  return ids;
}

TEST(Dataset, TruncateKeepsTheFirstSamples) {
  Dataset d = make_regression(3, 10);
  truncate(d, 4);
  ASSERT_EQ(d.size(), 4);
  EXPECT_EQ(d.features(), 3);
  EXPECT_EQ(original_ids(d), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(d.x(2, 3), 2003.0f);
  EXPECT_EQ(d.targets.cols(), 4);
  EXPECT_EQ(d.targets(0, 3), -3.0f);

  Dataset c = make_classification(2, 10);
  truncate(c, 0);
  EXPECT_EQ(c.size(), 10);
  truncate(c, 11);
  EXPECT_EQ(c.size(), 10);
  truncate(c, 7);
  EXPECT_EQ(c.labels.size(), 7u);
}

TEST(Dataset, SplitSizesDisjointnessAndOrder) {
  Dataset train = make_classification(2, 100);
  const Dataset val = split_validation(train, 0.2, 42);
  ASSERT_EQ(val.size(), 20);
  ASSERT_EQ(train.size(), 80);
  EXPECT_EQ(val.num_classes, 3);
  EXPECT_EQ(val.features(), 2);

  const std::vector<int64_t> val_ids = original_ids(val);
  const std::vector<int64_t> train_ids = original_ids(train);
  EXPECT_TRUE(std::is_sorted(train_ids.begin(), train_ids.end()));
  EXPECT_TRUE(std::is_sorted(val_ids.begin(), val_ids.end()));
  std::set<int64_t> all(val_ids.begin(), val_ids.end());
  all.insert(train_ids.begin(), train_ids.end());
  EXPECT_EQ(all.size(), 100u);  // disjoint and together complete

  // The validation samples are the first round(fraction * N) entries of the split permutation.
  std::vector<int64_t> perm = random_permutation(100, 42, RngStream::kSplit, 0);
  perm.resize(20);
  std::sort(perm.begin(), perm.end());
  EXPECT_EQ(val_ids, perm);

  // Labels and other rows travel with their column.
  for (const Dataset* d : {static_cast<const Dataset*>(&train), &val}) {
    for (int64_t j = 0; j < d->size(); ++j) {
      const auto id = static_cast<int64_t>(d->x(0, j));
      EXPECT_EQ(d->labels[static_cast<size_t>(j)], id % 3);
      EXPECT_EQ(d->x(1, j), static_cast<float>(id + 1000));
    }
  }
}

TEST(Dataset, SplitIsDeterminedBySeed) {
  Dataset a = make_regression(1, 50), b = make_regression(1, 50), c = make_regression(1, 50);
  const Dataset va = split_validation(a, 0.3, 7);
  const Dataset vb = split_validation(b, 0.3, 7);
  const Dataset vc = split_validation(c, 0.3, 8);
  EXPECT_EQ(original_ids(va), original_ids(vb));
  EXPECT_EQ(original_ids(a), original_ids(b));
  EXPECT_NE(original_ids(va), original_ids(vc));
  EXPECT_EQ(va.targets.cols(), 15);
  for (int64_t j = 0; j < va.size(); ++j) EXPECT_EQ(va.targets(0, j), -va.x(0, j));
}

TEST(Dataset, SplitRoundsAndAcceptsZero) {
  Dataset d = make_classification(1, 10);
  EXPECT_EQ(split_validation(d, 0.25, 1).size(), 3);  // round(2.5) = 3
  EXPECT_EQ(d.size(), 7);
  const Dataset none = split_validation(d, 0.0, 1);
  EXPECT_EQ(none.size(), 0);
  EXPECT_EQ(none.features(), 1);
  EXPECT_EQ(d.size(), 7);
  EXPECT_THROW(split_validation(d, 1.0, 1), UsageError);
  EXPECT_THROW(split_validation(d, -0.1, 1), UsageError);
}

TEST(Dataset, StandardizerGivesZeroMeanUnitStd) {
  Dataset d;
  d.x.resize(3, 200);  // row 2 is constant
  for (int64_t j = 0; j < 200; ++j) {
    d.x(0, j) = static_cast<float>(j % 7) * 3.0f + 5.0f;
    d.x(1, j) = std::sin(static_cast<float>(j)) * 100.0f - 40.0f;
    d.x(2, j) = 2.5f;
  }
  const Standardizer s = Standardizer::fit(d);
  EXPECT_EQ(s.std(2), 1.0f);
  EXPECT_EQ(s.mean(2), 2.5f);
  s.apply(d);
  for (int i = 0; i < 2; ++i) {
    const double mean = d.x.row(i).cast<double>().mean();
    const double var = (d.x.row(i).cast<double>().array() - mean).square().mean();
    EXPECT_NEAR(mean, 0.0, 1e-5);
    EXPECT_NEAR(std::sqrt(var), 1.0, 1e-5);
  }
  EXPECT_TRUE((d.x.row(2).array() == 0.0f).all());
}

TEST(Dataset, StandardizerAppliesTrainingStatisticsToOtherSets) {
  Dataset train;
  train.x.resize(1, 4);
  train.x << 1, 3, 5, 7;  // mean 4, population std sqrt(5)
  Dataset test;
  test.x.resize(1, 2);
  test.x << 4, 9;
  const Standardizer s = Standardizer::fit(train);
  s.apply(test);
  EXPECT_FLOAT_EQ(test.x(0, 0), 0.0f);
  EXPECT_FLOAT_EQ(test.x(0, 1), 5.0f / std::sqrt(5.0f));

  Dataset wrong = make_classification(2, 3);
  EXPECT_THROW(s.apply(wrong), DataError);
  EXPECT_THROW(Standardizer::fit(Dataset{}), DataError);
}

TEST(Dataset, GatherCopiesTheListedColumns) {
  const Dataset d = make_regression(3, 10);
  const int64_t ids[] = {7, 2, 7, 0};
  Matrix<float> x, targets;
  std::vector<int32_t> labels{99};
  gather(d, ids, 4, &x, &labels, &targets);
  ASSERT_EQ(x.rows(), 3);
  ASSERT_EQ(x.cols(), 4);
  for (int j = 0; j < 4; ++j) {
    EXPECT_EQ(x.col(j), d.x.col(ids[j]));
    EXPECT_EQ(targets.col(j), d.targets.col(ids[j]));
  }
  EXPECT_TRUE(labels.empty());  // regression data has no labels

  // Same shape again: the buffer is reused, not reallocated.
  const float* buffer = x.data();
  const int64_t other[] = {1, 1, 1, 1};
  gather(d, other, 4, &x, &labels, &targets);
  EXPECT_EQ(x.data(), buffer);
  EXPECT_EQ(x(0, 3), 1.0f);

  const Dataset c = make_classification(2, 10);
  gather(c, ids, 3, &x, &labels, &targets);
  EXPECT_EQ(labels, (std::vector<int32_t>{1, 2, 1}));
  EXPECT_EQ(targets.size(), 0);
  EXPECT_EQ(x.cols(), 3);
}

TEST(Dataset, FingerprintEqualForEqualDataAndSensitiveToChanges) {
  const Dataset a = make_classification(4, 25);
  Dataset b = a;
  EXPECT_EQ(fingerprint(a), fingerprint(b));

  b.x(3, 17) += 1.0f / 255.0f;  // one pixel
  EXPECT_NE(fingerprint(a), fingerprint(b));

  Dataset c = a;
  c.labels[5] = 0;
  EXPECT_NE(fingerprint(a), fingerprint(c));

  // Same bytes, different shape.
  Dataset d = a;
  d.x.resize(25, 4);
  d.x = Eigen::Map<const Matrix<float>>(a.x.data(), 25, 4);
  EXPECT_NE(fingerprint(a), fingerprint(d));

  const Dataset r = make_regression(4, 25);
  Dataset s = r;
  s.targets(1, 24) = 0.0f;
  EXPECT_NE(fingerprint(r), fingerprint(s));
}

}  // namespace
}  // namespace mlp
