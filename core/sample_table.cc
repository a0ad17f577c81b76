// Sample tables over owned or mapped arrays; see sample_table.h.
#include "core/sample_table.h"

namespace mlp {
namespace {

// Owns the arrays of an in-memory table.
struct OwnedArrays {
  std::vector<uint8_t> bytes;
  Matrix<float> floats;
  std::vector<int32_t> labels;
  Matrix<float> targets;
};

}  // namespace

size_t TableShape::feature_bytes() const {
  const size_t element = type == FeatureType::kUint8 ? 1 : sizeof(float);
  return static_cast<size_t>(samples) * static_cast<size_t>(features) * element;
}

size_t TableShape::label_bytes() const {
  return target_rows == 0 ? static_cast<size_t>(samples) * sizeof(int32_t) : 0;
}

size_t TableShape::target_bytes() const {
  return static_cast<size_t>(samples) * static_cast<size_t>(target_rows) * sizeof(float);
}

std::shared_ptr<const SampleTable> SampleTable::over(std::shared_ptr<const void> storage,
                                                     const TableShape& shape, const void* features,
                                                     const int32_t* labels, const float* targets) {
  std::shared_ptr<SampleTable> t(new SampleTable);
  t->storage_ = std::move(storage);
  t->shape_ = shape;
  t->features_ = features;
  t->labels_ = shape.label_bytes() > 0 ? labels : nullptr;
  t->targets_ = shape.target_bytes() > 0 ? targets : nullptr;
  return t;
}

std::shared_ptr<const SampleTable> SampleTable::of_bytes(int64_t features, std::vector<uint8_t> x,
                                                         std::vector<int32_t> labels,
                                                         int num_classes) {
  auto arrays = std::make_shared<OwnedArrays>();
  arrays->bytes = std::move(x);
  arrays->labels = std::move(labels);
  TableShape shape;
  shape.type = FeatureType::kUint8;
  shape.samples = static_cast<int64_t>(arrays->labels.size());
  shape.features = features;
  shape.num_classes = num_classes;
  return over(arrays, shape, arrays->bytes.data(), arrays->labels.data(), nullptr);
}

std::shared_ptr<const SampleTable> SampleTable::of_floats(Matrix<float> x,
                                                          std::vector<int32_t> labels,
                                                          Matrix<float> targets, int num_classes) {
  auto arrays = std::make_shared<OwnedArrays>();
  arrays->floats = std::move(x);
  arrays->labels = std::move(labels);
  arrays->targets = std::move(targets);
  TableShape shape;
  shape.type = FeatureType::kFloat32;
  shape.samples = arrays->floats.cols();
  shape.features = arrays->floats.rows();
  shape.target_rows = arrays->labels.empty() ? arrays->targets.rows() : 0;
  shape.num_classes = num_classes;
  return over(arrays, shape, arrays->floats.data(), arrays->labels.data(), arrays->targets.data());
}

std::shared_ptr<const SampleTable> SampleTable::to_floats() const {
  auto arrays = std::make_shared<OwnedArrays>();
  arrays->floats.resize(shape_.features, shape_.samples);
  for (int64_t j = 0; j < shape_.samples; ++j) column(j, arrays->floats.col(j).data());
  if (labels_ != nullptr) arrays->labels.assign(labels_, labels_ + shape_.samples);
  if (targets_ != nullptr)
    arrays->targets = ConstMatrixMap<float>(targets_, shape_.target_rows, shape_.samples);
  TableShape shape = shape_;
  shape.type = FeatureType::kFloat32;
  return over(arrays, shape, arrays->floats.data(), arrays->labels.data(), arrays->targets.data());
}

void SampleTable::column(int64_t j, float* out) const {
  const int64_t n = shape_.features;
  if (shape_.type == FeatureType::kUint8) {
    const uint8_t* p = static_cast<const uint8_t*>(features_) + j * n;
    // A division, not a multiplication by 1/255: the pixel values IDX readers always produced.
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(p[i]) / 255.0f;
  } else {
    const float* p = static_cast<const float*>(features_) + j * n;
    std::copy(p, p + n, out);
  }
}

}  // namespace mlp
