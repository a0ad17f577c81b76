// Flat parameter storage, instantiated for float (training) and double (gradient checks).
#include "core/param_store.h"

#include <algorithm>
#include <stdexcept>

namespace mlp {

size_t layout_size(const std::vector<ParamBlock>& layout) {
  size_t size = 0;
  for (const ParamBlock& block : layout) size = std::max(size, block.offset + block.size());
  return size;
}

template <typename T>
int ParamStore<T>::add(std::string name, int rows, int cols, ParamRoles roles) {
  if (!values_.empty()) throw std::logic_error("ParamStore::add after allocate");
  ParamBlock block{std::move(name), total_, rows, cols, roles};
  total_ += block.size();
  layout_.push_back(std::move(block));
  return static_cast<int>(layout_.size()) - 1;
}

template <typename T>
void ParamStore<T>::allocate() {
  values_.assign(total_, T(0));
  grads_.assign(total_, T(0));
}

template <typename T>
MatrixMap<T> ParamStore<T>::param(int block) {
  const ParamBlock& b = layout_[block];
  return MatrixMap<T>(values_.data() + b.offset, b.rows, b.cols);
}

template <typename T>
ConstMatrixMap<T> ParamStore<T>::param(int block) const {
  const ParamBlock& b = layout_[block];
  return ConstMatrixMap<T>(values_.data() + b.offset, b.rows, b.cols);
}

template <typename T>
MatrixMap<T> ParamStore<T>::grad(int block) {
  const ParamBlock& b = layout_[block];
  return MatrixMap<T>(grads_.data() + b.offset, b.rows, b.cols);
}

template <typename T>
void ParamStore<T>::zero_grads() {
  std::fill(grads_.begin(), grads_.end(), T(0));
}

template class ParamStore<float>;
template class ParamStore<double>;

}  // namespace mlp
