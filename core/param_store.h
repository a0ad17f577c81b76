// One flat buffer of all parameters and a twin buffer of their gradients, with a layout table.
// Layers own no parameter memory: they address their blocks by index and see them through
// Eigen maps, so zeroing, synchronizing, optimizing and saving are each one pass over a span.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace mlp {

// What the regularizers do to a block. A dense layer's weights take both; its biases neither.
struct ParamRoles {
  bool decayed = false;     // the optimizer's weight decay applies
  bool max_normed = false;  // the max-norm constraint rescales its rows (one row per unit)
};

struct ParamBlock {
  std::string name;   // e.g. "dense0.weight"
  size_t offset = 0;  // into the flat buffers
  int rows = 0;
  int cols = 0;
  ParamRoles roles;
  size_t size() const { return static_cast<size_t>(rows) * static_cast<size_t>(cols); }
};

// A range [begin, end) of the flat buffers.
struct FlatRange {
  size_t begin = 0, end = 0;
  size_t size() const { return end - begin; }
};

// The length of the flat buffers a layout describes: the end of its last block.
size_t layout_size(const std::vector<ParamBlock>& layout);

template <typename T>
class ParamStore {
 public:
  // Registers a (rows, cols) block and returns its index. Blocks are laid out in call order.
  // Must precede allocate().
  int add(std::string name, int rows, int cols, ParamRoles roles);
  // Sizes both buffers to the total and fills them with zeros; the layout is fixed afterwards.
  void allocate();

  size_t size() const { return values_.size(); }
  const std::vector<ParamBlock>& layout() const { return layout_; }

  // The flat buffers, size() values each, in layout order.
  T* values() { return values_.data(); }
  const T* values() const { return values_.data(); }
  T* grads() { return grads_.data(); }
  const T* grads() const { return grads_.data(); }

  // One block of the values or of the gradients, (rows, cols).
  MatrixMap<T> param(int block);
  ConstMatrixMap<T> param(int block) const;
  MatrixMap<T> grad(int block);

  void zero_grads();

 private:
  std::vector<ParamBlock> layout_;
  // Aligned like Eigen's own matrices, so vectorized loops split the same way in every process.
  std::vector<T, Eigen::aligned_allocator<T>> values_;
  std::vector<T, Eigen::aligned_allocator<T>> grads_;
  size_t total_ = 0;
};

}  // namespace mlp
