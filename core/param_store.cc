// Flat parameter storage, instantiated for float (training) and double (gradient checks).
#include "core/param_store.h"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace mlp {

size_t layout_size(const std::vector<ParamBlock>& layout) {
  size_t size = 0;
  for (const ParamBlock& block : layout) size = std::max(size, block.offset + block.size());
  return size;
}

template <typename T>
int ParamStore<T>::add(std::string name, int rows, int cols, ParamRoles roles) {
  if (allocated_) throw std::logic_error("ParamStore::add after allocate");
  ParamBlock block{std::move(name), total_, rows, cols, roles};
  total_ += block.size();
  layout_.push_back(std::move(block));
  return static_cast<int>(layout_.size()) - 1;
}

template <typename T>
void ParamStore<T>::allocate() {
  values_.assign(total_, T(0));
  grads_.assign(total_, T(0));
  values_at_ = values_.data();
  grads_at_ = grads_.data();
  allocated_ = true;
}

template <typename T>
void ParamStore<T>::place(T* values, T* grads) {
  if (!allocated_) throw std::logic_error("ParamStore::place before allocate");
  // Vectorized loops split by alignment: elsewhere they would round differently.
  if (reinterpret_cast<uintptr_t>(values) % 64 != 0 || reinterpret_cast<uintptr_t>(grads) % 64 != 0)
    throw std::logic_error("ParamStore::place: buffers not 64-byte aligned");
  std::copy(values_at_, values_at_ + total_, values);
  std::copy(grads_at_, grads_at_ + total_, grads);
  values_at_ = values;
  grads_at_ = grads;
  values_ = {};
  grads_ = {};
}

template <typename T>
MatrixMap<T> ParamStore<T>::param(int block) {
  const ParamBlock& b = layout_[block];
  return MatrixMap<T>(values_at_ + b.offset, b.rows, b.cols);
}

template <typename T>
ConstMatrixMap<T> ParamStore<T>::param(int block) const {
  const ParamBlock& b = layout_[block];
  return ConstMatrixMap<T>(values_at_ + b.offset, b.rows, b.cols);
}

template <typename T>
MatrixMap<T> ParamStore<T>::grad(int block) {
  const ParamBlock& b = layout_[block];
  return MatrixMap<T>(grads_at_ + b.offset, b.rows, b.cols);
}

template <typename T>
void ParamStore<T>::zero_grads() {
  std::fill(grads_at_, grads_at_ + total_, T(0));
}

template class ParamStore<float>;
template class ParamStore<double>;

}  // namespace mlp
