// Read-only sample storage, one column per sample: features (I, N) as unsigned bytes (IDX pixels,
// read as byte / 255) or float32, and class labels (N) or regression targets (K, N). The arrays
// live in memory or in a read-only mapping of a cache file (core/data_cache.h); datasets share a
// table and never copy it, so a step converts only its own batch to float.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/tensor.h"

namespace mlp {

enum class FeatureType : uint32_t { kUint8 = 1, kFloat32 = 2 };

// Labels index the output layer, so an absurd label would allocate an absurd model: every
// reader of labels (data files, cache files, model files) refuses classes beyond this.
constexpr int32_t kMaxClasses = 1 << 16;

struct TableShape {
  FeatureType type = FeatureType::kFloat32;
  int64_t samples = 0;      // N
  int64_t features = 0;     // I
  int64_t target_rows = 0;  // K; 0 for classification, which has labels instead
  int32_t num_classes = 0;  // 0 for regression

  size_t feature_bytes() const;
  size_t label_bytes() const;   // N int32 for classification, else 0
  size_t target_bytes() const;  // K * N float32
};

class SampleTable {
 public:
  // In-memory tables; the arrays are moved in. x is (I, N) column-major.
  static std::shared_ptr<const SampleTable> of_bytes(int64_t features, std::vector<uint8_t> x,
                                                     std::vector<int32_t> labels, int num_classes);
  static std::shared_ptr<const SampleTable> of_floats(Matrix<float> x, std::vector<int32_t> labels,
                                                      Matrix<float> targets, int num_classes);
  // A table over arrays laid out as `shape` says and kept alive by `storage` (a file mapping).
  // labels or targets may be null when the shape has none.
  static std::shared_ptr<const SampleTable> over(std::shared_ptr<const void> storage,
                                                 const TableShape& shape, const void* features,
                                                 const int32_t* labels, const float* targets);
  // A float32 copy held in memory (runs that keep floats resident); gathers the same values.
  std::shared_ptr<const SampleTable> to_floats() const;

  const TableShape& shape() const { return shape_; }

  // Writes column j as floats into out (I): bytes become byte / 255.
  void column(int64_t j, float* out) const;
  int32_t label(int64_t j) const { return labels_[j]; }
  const float* targets(int64_t j) const { return targets_ + j * shape_.target_rows; }

  // The stored arrays, for writing a cache file.
  const void* feature_data() const { return features_; }
  const int32_t* label_data() const { return labels_; }
  const float* target_data() const { return targets_; }

 private:
  SampleTable() = default;

  std::shared_ptr<const void> storage_;
  TableShape shape_;
  const void* features_ = nullptr;
  const int32_t* labels_ = nullptr;
  const float* targets_ = nullptr;
};

}  // namespace mlp
