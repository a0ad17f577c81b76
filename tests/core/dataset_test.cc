// Dataset operations: truncation, the seeded validation split (sizes, disjointness, order,
// determinism), standardization, batch gathering and the fingerprint.
#include "core/dataset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "core/errors.h"
#include "core/hash.h"
#include "core/rng.h"
#include "tests/core/gathered.h"

namespace mlp {
namespace {

// Sample j has x(0, j) == j, so every column can be traced back to its original index.
Matrix<float> traceable_features(int features, int64_t n) {
  Matrix<float> x(features, n);
  for (int64_t j = 0; j < n; ++j)
    for (int i = 0; i < features; ++i) x(i, j) = static_cast<float>(j + 1000 * i);
  return x;
}

std::vector<int32_t> labels_mod3(int64_t n) {
  std::vector<int32_t> labels;
  for (int64_t j = 0; j < n; ++j) labels.push_back(static_cast<int32_t>(j % 3));
  return labels;
}

Dataset make_classification(int features, int64_t n) {
  return whole_table(SampleTable::of_floats(traceable_features(features, n), labels_mod3(n), {}, 3));
}

Dataset make_regression(int features, int64_t n) {
  Matrix<float> targets(2, n);
  for (int64_t j = 0; j < n; ++j) {
    targets(0, j) = static_cast<float>(-j);
    targets(1, j) = static_cast<float>(j) * 0.5f;
  }
  return whole_table(SampleTable::of_floats(traceable_features(features, n), {}, targets, 0));
}

Dataset of_features(const Matrix<float>& x) {
  return whole_table(SampleTable::of_floats(x, std::vector<int32_t>(x.cols(), 0), {}, 1));
}

std::vector<int64_t> original_ids(const Dataset& d) {
  std::vector<int64_t> ids;
  const Gathered g = gather_all(d);
  for (int64_t j = 0; j < d.size(); ++j) ids.push_back(static_cast<int64_t>(g.x(0, j)));
  return ids;
}

TEST(Dataset, TruncateKeepsTheFirstSamples) {
  Dataset d = make_regression(3, 10);
  truncate(d, 4);
  ASSERT_EQ(d.size(), 4);
  EXPECT_EQ(d.features(), 3);
  EXPECT_EQ(original_ids(d), (std::vector<int64_t>{0, 1, 2, 3}));
  const Gathered g = gather_all(d);
  EXPECT_EQ(g.x(2, 3), 2003.0f);
  EXPECT_EQ(g.targets.cols(), 4);
  EXPECT_EQ(g.targets(0, 3), -3.0f);

  Dataset c = make_classification(2, 10);
  truncate(c, 0);
  EXPECT_EQ(c.size(), 10);
  truncate(c, 11);
  EXPECT_EQ(c.size(), 10);
  truncate(c, 7);
  EXPECT_EQ(gather_all(c).labels.size(), 7u);
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
    const Gathered g = gather_all(*d);
    for (int64_t j = 0; j < d->size(); ++j) {
      const auto id = static_cast<int64_t>(g.x(0, j));
      EXPECT_EQ(g.labels[static_cast<size_t>(j)], id % 3);
      EXPECT_EQ(g.x(1, j), static_cast<float>(id + 1000));
    }
  }
  EXPECT_EQ(train.table, val.table);  // the split shares the samples, it copies none
}

TEST(Dataset, SplitIsDeterminedBySeed) {
  Dataset a = make_regression(1, 50), b = make_regression(1, 50), c = make_regression(1, 50);
  const Dataset va = split_validation(a, 0.3, 7);
  const Dataset vb = split_validation(b, 0.3, 7);
  const Dataset vc = split_validation(c, 0.3, 8);
  EXPECT_EQ(original_ids(va), original_ids(vb));
  EXPECT_EQ(original_ids(a), original_ids(b));
  EXPECT_NE(original_ids(va), original_ids(vc));
  const Gathered g = gather_all(va);
  EXPECT_EQ(g.targets.cols(), 15);
  for (int64_t j = 0; j < va.size(); ++j) EXPECT_EQ(g.targets(0, j), -g.x(0, j));
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
  Matrix<float> x(3, 200);  // row 2 is constant
  for (int64_t j = 0; j < 200; ++j) {
    x(0, j) = static_cast<float>(j % 7) * 3.0f + 5.0f;
    x(1, j) = std::sin(static_cast<float>(j)) * 100.0f - 40.0f;
    x(2, j) = 2.5f;
  }
  Dataset d = of_features(x);
  const Standardizer s = Standardizer::fit(d);
  EXPECT_EQ(s.std(2), 1.0f);
  EXPECT_EQ(s.mean(2), 2.5f);
  s.apply(d);
  const Matrix<float> z = gather_all(d).x;
  for (int i = 0; i < 2; ++i) {
    const double mean = z.row(i).cast<double>().mean();
    const double var = (z.row(i).cast<double>().array() - mean).square().mean();
    EXPECT_NEAR(mean, 0.0, 1e-5);
    EXPECT_NEAR(std::sqrt(var), 1.0, 1e-5);
  }
  EXPECT_TRUE((z.row(2).array() == 0.0f).all());
}

TEST(Dataset, StandardizerAppliesTrainingStatisticsToOtherSets) {
  Matrix<float> train_x(1, 4), test_x(1, 2);
  train_x << 1, 3, 5, 7;  // mean 4, population std sqrt(5)
  test_x << 4, 9;
  const Dataset train = of_features(train_x);
  Dataset test = of_features(test_x);
  const Standardizer s = Standardizer::fit(train);
  s.apply(test);
  const Gathered g = gather_all(test);
  EXPECT_FLOAT_EQ(g.x(0, 0), 0.0f);
  EXPECT_FLOAT_EQ(g.x(0, 1), 5.0f / std::sqrt(5.0f));

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
  const Gathered all = gather_all(d);
  for (int j = 0; j < 4; ++j) {
    EXPECT_EQ(x.col(j), all.x.col(ids[j]));
    EXPECT_EQ(targets.col(j), all.targets.col(ids[j]));
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
  EXPECT_EQ(fingerprint(a), fingerprint(make_classification(4, 25)));

  Matrix<float> pixel = traceable_features(4, 25);
  pixel(3, 17) += 1.0f / 255.0f;
  EXPECT_NE(fingerprint(a),
            fingerprint(whole_table(SampleTable::of_floats(pixel, labels_mod3(25), {}, 3))));

  std::vector<int32_t> labels = labels_mod3(25);
  labels[5] = 0;
  EXPECT_NE(fingerprint(a), fingerprint(whole_table(SampleTable::of_floats(
                                traceable_features(4, 25), labels, {}, 3))));

  // Same bytes, different shape.
  const Matrix<float> x = traceable_features(4, 25);
  const Matrix<float> reshaped = Eigen::Map<const Matrix<float>>(x.data(), 25, 4);
  EXPECT_NE(fingerprint(a), fingerprint(whole_table(SampleTable::of_floats(
                                reshaped, labels_mod3(4), {}, 3))));

  // The samples chosen and their standardization count, not only the table.
  Dataset fewer = a;
  truncate(fewer, 24);
  EXPECT_NE(fingerprint(a), fingerprint(fewer));
  Dataset standardized = a;
  Standardizer::fit(a).apply(standardized);
  EXPECT_NE(fingerprint(a), fingerprint(standardized));

  const Dataset r = make_regression(4, 25);
  EXPECT_NE(fingerprint(r), fingerprint(a));
}

// The fingerprint is streamed a chunk at a time but equals one pass over whole arrays (the value
// checkpoints store): odd feature counts and several chunks included.
TEST(Dataset, FingerprintIsTheWordHashOfTheWholeArrays) {
  const Matrix<float> x = traceable_features(3, 1100);
  const std::vector<int32_t> labels = labels_mod3(1100);
  WordHasher h;
  h.add_word(3);
  h.add_word(1100);
  h.add_bytes(x.data(), static_cast<size_t>(x.size()) * sizeof(float));
  h.add_word(3);
  h.add_bytes(labels.data(), labels.size() * sizeof(int32_t));
  h.add_word(0);
  h.add_word(0);
  h.add_bytes(nullptr, 0);
  EXPECT_EQ(fingerprint(make_classification(3, 1100)), h.value());
}

// Bytes are read as byte / 255 and standardized on the way out; a float table of the same
// values gives the same floats and so the same fingerprint.
TEST(Dataset, ByteTableGathersLikeItsFloatCopy) {
  std::vector<uint8_t> bytes(3 * 40);
  for (size_t k = 0; k < bytes.size(); ++k) bytes[k] = static_cast<uint8_t>((k * 37) % 256);
  const auto table = SampleTable::of_bytes(3, bytes, labels_mod3(40), 3);
  const auto floats = table->to_floats();
  EXPECT_EQ(floats->shape().type, FeatureType::kFloat32);
  Dataset a = whole_table(table), b = whole_table(floats);
  const Dataset va = split_validation(a, 0.25, 3), vb = split_validation(b, 0.25, 3);
  Standardizer::fit(a).apply(a);
  Standardizer::fit(b).apply(b);
  EXPECT_EQ(fingerprint(a), fingerprint(b));
  const Gathered ga = gather_all(a), gb = gather_all(b);
  EXPECT_EQ(ga.x, gb.x);
  EXPECT_EQ(ga.labels, gb.labels);
  EXPECT_EQ(gather_all(va).x, gather_all(vb).x);
  EXPECT_EQ(gather_all(whole_table(table)).x(1, 0), bytes[1] / 255.0f);
}

}  // namespace
}  // namespace mlp
