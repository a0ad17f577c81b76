// Datasets as a run sees them: a shared read-only sample table (in memory or a mapped cache
// file), the table columns the set holds, and the standardization applied as samples are read.
// The operations the training loop needs: truncation, the seeded validation split,
// standardization with training statistics, gathering a batch's columns as floats, and a
// fingerprint that ranks compare.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/sample_table.h"
#include "core/tensor.h"

namespace mlp {

struct Dataset {
  std::shared_ptr<const SampleTable> table;  // null for an empty set
  std::vector<int64_t> rows;                 // table columns of the samples, in order
  Vector<float> mean, inv_std;               // (I) x -> (x - mean) * inv_std; empty: identity
  int num_classes = 0;                       // number of classes; 0 for regression

  int64_t size() const { return static_cast<int64_t>(rows.size()); }
  int features() const { return table ? static_cast<int>(table->shape().features) : 0; }
  bool classification() const { return !table || table->shape().target_rows == 0; }
  int target_rows() const { return table ? static_cast<int>(table->shape().target_rows) : 0; }
};

// Every sample of the table, in table order.
Dataset whole_table(std::shared_ptr<const SampleTable> table);

// Keeps the first n samples (all when n <= 0 or n >= size).
void truncate(Dataset& data, int64_t n);

// Moves a seeded random fraction of `train` into the returned validation set, keeping the
// remaining samples of `train` in their original relative order. round(fraction * N) samples,
// chosen by random_permutation(N, seed, kSplit, 0). fraction must be in [0, 1). Both sets share
// the table.
Dataset split_validation(Dataset& train, double fraction, uint64_t seed);

// Per-feature mean and standard deviation of a dataset; constant features get std 1 so they
// map to 0 instead of NaN.
struct Standardizer {
  Vector<float> mean;  // (I)
  Vector<float> std;   // (I)
  static Standardizer fit(const Dataset& data);
  // Makes gather() return (x - mean) / std for this dataset.
  void apply(Dataset& data) const;
  // x (I, N) in place, the same arithmetic as apply(Dataset&).
  void apply(Matrix<float>& x) const;
};

// Writes the samples ids[0..n) of data as floats into x (I, n), standardized when the set is,
// and, as present, labels (n) and targets (K, n). Resizes the outputs only when their shape
// changes.
void gather(const Dataset& data, const int64_t* ids, int64_t n, Matrix<float>* x,
            std::vector<int32_t>* labels, Matrix<float>* targets);

// A 64-bit hash of the samples' shapes, values as gathered (standardized when the set is),
// labels and targets: equal for equal datasets, whatever table holds them.
uint64_t fingerprint(const Dataset& data);

}  // namespace mlp
