// In-memory datasets, one column per sample, and the operations the training loop needs on
// them: the seeded validation split, standardization with training statistics, gathering a
// batch's columns, and a fingerprint that ranks compare.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace mlp {

struct Dataset {
  Matrix<float> x;              // (I, N) features
  std::vector<int32_t> labels;  // N class indices; empty for regression
  Matrix<float> targets;        // (K, N) regression targets; empty for classification
  int num_classes = 0;          // number of classes; 0 for regression

  int64_t size() const { return x.cols(); }
  int features() const { return static_cast<int>(x.rows()); }
  bool classification() const { return !labels.empty() || targets.size() == 0; }
};

// Keeps the first n samples (all when n <= 0 or n >= size).
void truncate(Dataset& data, int64_t n);

// Moves a seeded random fraction of `train` into the returned validation set, keeping the
// remaining samples of `train` in their original relative order. round(fraction * N) samples,
// chosen by random_permutation(N, seed, kSplit, 0). fraction must be in [0, 1).
Dataset split_validation(Dataset& train, double fraction, uint64_t seed);

// Per-feature mean and standard deviation of a dataset; constant features get std 1 so they
// map to 0 instead of NaN.
struct Standardizer {
  Vector<float> mean;  // (I)
  Vector<float> std;   // (I)
  static Standardizer fit(const Dataset& data);
  void apply(Dataset& data) const;
  // x (I, N) in place, the same arithmetic as apply(Dataset&).
  void apply(Matrix<float>& x) const;
};

// Copies the columns ids[0..n) of data into x (I, n) and, as present, labels (n) and
// targets (K, n). Resizes the outputs only when their shape changes.
void gather(const Dataset& data, const int64_t* ids, int64_t n, Matrix<float>* x,
            std::vector<int32_t>* labels, Matrix<float>* targets);

// A 64-bit hash of shapes, features, labels and targets, equal for equal datasets.
uint64_t fingerprint(const Dataset& data);

}  // namespace mlp
