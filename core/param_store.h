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
  ParamStore() = default;
  // Layers address the store by reference and it may point into memory it does not own.
  ParamStore(const ParamStore&) = delete;
  ParamStore& operator=(const ParamStore&) = delete;

  // Registers a (rows, cols) block and returns its index. Blocks are laid out in call order.
  // Must precede allocate().
  int add(std::string name, int rows, int cols, ParamRoles roles);
  // Sizes both buffers to the total and fills them with zeros; the layout is fixed afterwards.
  void allocate();
  // Moves both buffers into memory the caller keeps for the store's lifetime (size() values
  // each, 64-byte aligned), copying what they hold: memory other processes of the host can read,
  // so that summing gradients and sharing parameters need no messages. After allocate().
  void place(T* values, T* grads);

  size_t size() const { return total_; }
  const std::vector<ParamBlock>& layout() const { return layout_; }

  // The flat buffers, size() values each, in layout order.
  T* values() { return values_at_; }
  const T* values() const { return values_at_; }
  T* grads() { return grads_at_; }
  const T* grads() const { return grads_at_; }

  // One block of the values or of the gradients, (rows, cols).
  MatrixMap<T> param(int block);
  ConstMatrixMap<T> param(int block) const;
  MatrixMap<T> grad(int block);

  void zero_grads();

 private:
  std::vector<ParamBlock> layout_;
  // Aligned like Eigen's own matrices, so vectorized loops split the same way in every process;
  // empty once the buffers are placed elsewhere.
  std::vector<T, Eigen::aligned_allocator<T>> values_;
  std::vector<T, Eigen::aligned_allocator<T>> grads_;
  T* values_at_ = nullptr;  // the buffers in use: the vectors' or the placed memory
  T* grads_at_ = nullptr;
  bool allocated_ = false;
  size_t total_ = 0;
};

}  // namespace mlp
