// Dataset operations shared by every data source: truncation, the seeded validation split,
// standardization, batch gathering and the fingerprint ranks compare at start-up.
#include "core/dataset.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <numeric>

#include "core/errors.h"
#include "core/hash.h"
#include "core/rng.h"

namespace mlp {
namespace {

// Feeds a byte stream to a WordHasher piece by piece with the result of one add_bytes call over
// all of it.
class WordStream {
 public:
  explicit WordStream(WordHasher* h) : h_(h) {}
  void add(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    total_ += n;
    while (n > 0) {
      const size_t take = std::min(n, sizeof pending_ - pending_bytes_);
      std::memcpy(pending_ + pending_bytes_, p, take);
      pending_bytes_ += take;
      p += take;
      n -= take;
      if (pending_bytes_ == sizeof pending_) {
        uint64_t w;
        std::memcpy(&w, pending_, sizeof w);
        h_->add_word(w);
        pending_bytes_ = 0;
      }
    }
  }
  void finish() {
    uint64_t tail = 0;
    std::memcpy(&tail, pending_, pending_bytes_);
    h_->add_word(tail);
    h_->add_word(total_);
  }

 private:
  WordHasher* h_;
  unsigned char pending_[8] = {};
  size_t pending_bytes_ = 0;
  uint64_t total_ = 0;
};

}  // namespace

Dataset whole_table(std::shared_ptr<const SampleTable> table) {
  Dataset d;
  d.rows.resize(static_cast<size_t>(table->shape().samples));
  for (size_t j = 0; j < d.rows.size(); ++j) d.rows[j] = static_cast<int64_t>(j);
  d.num_classes = table->shape().num_classes;
  d.table = std::move(table);
  return d;
}

void truncate(Dataset& data, int64_t n) {
  if (n <= 0 || n >= data.size()) return;
  data.rows.resize(static_cast<size_t>(n));
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
  Dataset validation = train;
  validation.rows.clear();
  validation.rows.reserve(static_cast<size_t>(n_val));
  std::vector<int64_t> kept;
  kept.reserve(static_cast<size_t>(n - n_val));
  for (int64_t i = 0; i < n; ++i)
    (in_validation[static_cast<size_t>(i)] ? validation.rows : kept)
        .push_back(train.rows[static_cast<size_t>(i)]);
  train.rows = std::move(kept);
  return validation;
}

Standardizer Standardizer::fit(const Dataset& data) {
  const int64_t n = data.size();
  if (n == 0) throw DataError("cannot compute standardization statistics of an empty dataset");
  const int features = data.features();
  // Double accumulation: a float sum over 60000 samples loses digits of the mean. Each
  // feature's terms are added in sample order.
  std::vector<double> sum(static_cast<size_t>(features), 0.0), sum_sq(sum);
  std::vector<float> column(static_cast<size_t>(features));
  for (const int64_t row : data.rows) {
    data.table->column(row, column.data());
    for (int i = 0; i < features; ++i) sum[i] += column[i];
  }
  Standardizer s;
  s.mean.resize(features);
  s.std.resize(features);
  std::vector<double> mean(sum.size());
  for (int i = 0; i < features; ++i) mean[i] = sum[i] / static_cast<double>(n);
  for (const int64_t row : data.rows) {
    data.table->column(row, column.data());
    for (int i = 0; i < features; ++i) {
      const double d = column[i] - mean[i];
      sum_sq[i] += d * d;
    }
  }
  for (int i = 0; i < features; ++i) {
    const auto std_dev = static_cast<float>(std::sqrt(sum_sq[i] / static_cast<double>(n)));
    s.mean(i) = static_cast<float>(mean[i]);
    s.std(i) = std_dev > 0 ? std_dev : 1.0f;
  }
  return s;
}

void Standardizer::apply(Dataset& data) const {
  if (data.features() != mean.size()) {
    throw DataError("standardization statistics are for " + std::to_string(mean.size()) +
                    " features but the dataset has " + std::to_string(data.features()));
  }
  data.mean = mean;
  data.inv_std = std.cwiseInverse();
}

void Standardizer::apply(Matrix<float>& x) const {
  const Vector<float> inv_std = std.cwiseInverse();  // (I)
  x = (x.colwise() - mean).array().colwise() * inv_std.array();
}

void gather(const Dataset& data, const int64_t* ids, int64_t n, Matrix<float>* x,
            std::vector<int32_t>* labels, Matrix<float>* targets) {
  const int features = data.features();
  if (x->rows() != features || x->cols() != n) x->resize(features, n);
  const bool standardized = data.mean.size() > 0;
  for (int64_t j = 0; j < n; ++j) {
    assert(ids[j] >= 0 && ids[j] < data.size());
    data.table->column(data.rows[static_cast<size_t>(ids[j])], x->col(j).data());
    if (standardized)
      x->col(j) = (x->col(j) - data.mean).array() * data.inv_std.array();
  }
  if (labels != nullptr) {
    labels->resize(data.classification() && data.table ? static_cast<size_t>(n) : 0);
    for (size_t j = 0; j < labels->size(); ++j)
      (*labels)[j] = data.table->label(data.rows[static_cast<size_t>(ids[j])]);
  }
  if (targets != nullptr) {
    const int rows = data.target_rows();
    const int64_t cols = rows > 0 ? n : 0;
    if (targets->rows() != rows || targets->cols() != cols) targets->resize(rows, cols);
    for (int64_t j = 0; j < cols; ++j)
      targets->col(j) =
          ConstVectorMap<float>(data.table->targets(data.rows[static_cast<size_t>(ids[j])]), rows);
  }
}

uint64_t fingerprint(const Dataset& data) {
  // The values of the samples as gathered, the same hash whether the table holds bytes or floats
  // (and the value checkpoints have always stored), streamed a chunk at a time so the floats of
  // the whole set are never held at once.
  const int64_t n = data.size();
  WordHasher h;
  h.add_word(static_cast<uint64_t>(data.features()));
  h.add_word(static_cast<uint64_t>(n));
  Matrix<float> x, targets;
  std::vector<int32_t> labels, all_labels;
  std::vector<float> all_targets;
  WordStream stream(&h);
  constexpr int64_t kChunk = 512;
  std::vector<int64_t> ids;
  for (int64_t begin = 0; begin < n; begin += kChunk) {
    ids.resize(static_cast<size_t>(std::min(kChunk, n - begin)));
    std::iota(ids.begin(), ids.end(), begin);
    const auto m = static_cast<int64_t>(ids.size());
    gather(data, ids.data(), m, &x, &labels, &targets);
    stream.add(x.data(), static_cast<size_t>(x.size()) * sizeof(float));
    all_labels.insert(all_labels.end(), labels.begin(), labels.end());
    all_targets.insert(all_targets.end(), targets.data(), targets.data() + targets.size());
  }
  stream.finish();
  h.add_word(static_cast<uint64_t>(data.num_classes));
  h.add_bytes(all_labels.data(), all_labels.size() * sizeof(int32_t));
  const int rows = all_targets.empty() ? 0 : data.target_rows();
  h.add_word(static_cast<uint64_t>(rows));
  h.add_word(static_cast<uint64_t>(rows > 0 ? n : 0));
  h.add_bytes(all_targets.data(), all_targets.size() * sizeof(float));
  return h.value();
}

}  // namespace mlp
