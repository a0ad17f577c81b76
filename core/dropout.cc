// Inverted dropout keyed by the counter-based RNG; see dropout.h.
#include "core/dropout.h"

#include <stdexcept>

#include "core/keep_bits.h"

namespace mlp {

template <typename T>
DropoutLayer<T>::DropoutLayer(float rate, int size, int layer)
    : rate_(rate),
      size_(size),
      layer_(layer),
      words_(keep_words(size)),
      scale_(T(1) / (T(1) - static_cast<T>(rate))) {
  if (!(rate >= 0.0f && rate < 1.0f)) throw std::invalid_argument("dropout rate must be in [0, 1)");
}

template <typename T>
bool DropoutLayer<T>::kept(int u, Eigen::Index j) const {
  return ((keeps_[static_cast<size_t>(j * words_ + u / 64)] >> (u % 64)) & 1) != 0;
}

template <typename T>
void DropoutLayer<T>::set_fixed_keeps(
    const Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic>& keeps) {
  if (keeps.rows() != size_) throw std::invalid_argument("fixed keeps: one row per unit");
  keeps_.assign(static_cast<size_t>(keeps.cols() * words_), 0);
  for (Eigen::Index j = 0; j < keeps.cols(); ++j)
    for (int u = 0; u < size_; ++u)
      keeps_[static_cast<size_t>(j * words_ + u / 64)] |= static_cast<uint64_t>(keeps(u, j))
                                                          << (u % 64);
  fixed_ = true;
}

template <typename T>
bool DropoutLayer<T>::begin_forward(Eigen::Index n, const ForwardContext& ctx) {
  last_training_ = ctx.training;
  if (!ctx.training || fixed_) return ctx.training;
  if (ctx.sample_ids == nullptr)
    throw std::invalid_argument("dropout in training needs sample ids");
  // Sized once for the batch; a step of the same shape allocates nothing.
  keeps_.resize(static_cast<size_t>(n * words_));
  for (Eigen::Index j = 0; j < n; ++j)
    draw_keep_bits(keep_column(ctx.seed, ctx.step, ctx.sample_ids[j], layer_, rate_), size_,
                   keeps_.data() + j * words_);
  return true;
}

template <typename T>
void DropoutLayer<T>::apply_mask(Eigen::Index j, const T* in, T* out) const {
  apply_keep_bits(keeps_.data() + j * words_, scale_, size_, in, out);
}

template <typename T>
void DropoutLayer<T>::forward(const Matrix<T>& x, Matrix<T>& y, const ForwardContext& ctx) {
  if (!begin_forward(x.cols(), ctx)) {
    y = x;
    return;
  }
  y.resize(x.rows(), x.cols());
  for (Eigen::Index j = 0; j < x.cols(); ++j) apply_mask(j, x.col(j).data(), y.col(j).data());
}

template <typename T>
void DropoutLayer<T>::backward(const Matrix<T>&, const Matrix<T>&, const Matrix<T>& dy,
                               Matrix<T>* dx) {
  if (dx == nullptr) return;
  if (!last_training_) {
    *dx = dy;
    return;
  }
  dx->resize(dy.rows(), dy.cols());
  for (Eigen::Index j = 0; j < dy.cols(); ++j) apply_mask(j, dy.col(j).data(), dx->col(j).data());
}

template class DropoutLayer<float>;
template class DropoutLayer<double>;

}  // namespace mlp
