// Dataset operations shared by every data source: truncation, the seeded validation split,
// standardization, batch gathering and the fingerprint ranks compare at start-up.
#include "core/dataset.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "core/errors.h"
#include "core/hash.h"
#include "core/rng.h"

namespace mlp {
namespace {

// Copies the listed columns of every per-sample array of `from` into a new dataset.
Dataset select_columns(const Dataset& from, const std::vector<int64_t>& ids) {
  Dataset out;
  out.num_classes = from.num_classes;
  gather(from, ids.data(), static_cast<int64_t>(ids.size()), &out.x, &out.labels, &out.targets);
  return out;
}

}  // namespace

void truncate(Dataset& data, int64_t n) {
  if (n <= 0 || n >= data.size()) return;
  data.x.conservativeResize(Eigen::NoChange, n);
  if (!data.labels.empty()) data.labels.resize(static_cast<size_t>(n));
  if (data.targets.size() > 0) data.targets.conservativeResize(Eigen::NoChange, n);
}

Dataset split_validation(Dataset& train, double fraction, uint64_t seed) {
  if (!(fraction >= 0.0 && fraction < 1.0)) {
    throw UsageError("validation fraction " + std::to_string(fraction) +
                     " is outside [0, 1); use e.g. 0.1 to hold out 10% of the training set");
  }
  const int64_t n = train.size();
  const auto n_val = static_cast<int64_t>(std::llround(fraction * static_cast<double>(n)));
  const std::vector<int64_t> perm = random_permutation(n, seed, RngStream::kSplit, 0);

  // Both parts keep the file order, so the split is a pure function of (N, fraction, seed)
  // and the samples of each part stay in sequential memory order.
  std::vector<char> in_validation(static_cast<size_t>(n), 0);
  for (int64_t i = 0; i < n_val; ++i) in_validation[static_cast<size_t>(perm[i])] = 1;
  std::vector<int64_t> val_ids, train_ids;
  val_ids.reserve(static_cast<size_t>(n_val));
  train_ids.reserve(static_cast<size_t>(n - n_val));
  for (int64_t i = 0; i < n; ++i)
    (in_validation[static_cast<size_t>(i)] ? val_ids : train_ids).push_back(i);

  Dataset validation = select_columns(train, val_ids);
  train = select_columns(train, train_ids);
  return validation;
}

Standardizer Standardizer::fit(const Dataset& data) {
  const int64_t n = data.size();
  if (n == 0) throw DataError("cannot compute standardization statistics of an empty dataset");
  const int features = data.features();
  Standardizer s;
  s.mean.resize(features);
  s.std.resize(features);
  // Double accumulation: a float sum over 60000 samples loses digits of the mean.
  for (int i = 0; i < features; ++i) {
    double sum = 0;
    for (int64_t j = 0; j < n; ++j) sum += data.x(i, j);
    const double mean = sum / static_cast<double>(n);
    double sum_sq = 0;
    for (int64_t j = 0; j < n; ++j) {
      const double d = data.x(i, j) - mean;
      sum_sq += d * d;
    }
    const auto std_dev = static_cast<float>(std::sqrt(sum_sq / static_cast<double>(n)));
    s.mean(i) = static_cast<float>(mean);
    s.std(i) = std_dev > 0 ? std_dev : 1.0f;
  }
  return s;
}

void Standardizer::apply(Dataset& data) const {
  if (data.features() != mean.size()) {
    throw DataError("standardization statistics are for " + std::to_string(mean.size()) +
                    " features but the dataset has " + std::to_string(data.features()));
  }
  apply(data.x);
}

void Standardizer::apply(Matrix<float>& x) const {
  const Vector<float> inv_std = std.cwiseInverse();  // (I)
  x = (x.colwise() - mean).array().colwise() * inv_std.array();
}

void gather(const Dataset& data, const int64_t* ids, int64_t n, Matrix<float>* x,
            std::vector<int32_t>* labels, Matrix<float>* targets) {
  if (x->rows() != data.x.rows() || x->cols() != n) x->resize(data.x.rows(), n);
  for (int64_t j = 0; j < n; ++j) {
    assert(ids[j] >= 0 && ids[j] < data.size());
    x->col(j) = data.x.col(ids[j]);
  }
  if (labels != nullptr) {
    labels->resize(data.labels.empty() ? 0 : static_cast<size_t>(n));
    for (size_t j = 0; j < labels->size(); ++j)
      (*labels)[j] = data.labels[static_cast<size_t>(ids[j])];
  }
  if (targets != nullptr) {
    const int64_t cols = data.targets.size() > 0 ? n : 0;
    if (targets->rows() != data.targets.rows() || targets->cols() != cols) {
      targets->resize(data.targets.rows(), cols);
    }
    for (int64_t j = 0; j < cols; ++j) targets->col(j) = data.targets.col(ids[j]);
  }
}

uint64_t fingerprint(const Dataset& data) {
  WordHasher h;
  h.add_word(static_cast<uint64_t>(data.x.rows()));
  h.add_word(static_cast<uint64_t>(data.x.cols()));
  h.add_bytes(data.x.data(), static_cast<size_t>(data.x.size()) * sizeof(float));
  h.add_word(static_cast<uint64_t>(data.num_classes));
  h.add_bytes(data.labels.data(), data.labels.size() * sizeof(int32_t));
  h.add_word(static_cast<uint64_t>(data.targets.rows()));
  h.add_word(static_cast<uint64_t>(data.targets.cols()));
  h.add_bytes(data.targets.data(), static_cast<size_t>(data.targets.size()) * sizeof(float));
  return h.value();
}

}  // namespace mlp
