// Inverted dropout keyed by the counter-based RNG; see dropout.h.
#include "core/dropout.h"

#include <stdexcept>

#include "core/rng.h"

namespace mlp {

bool dropout_keeps(uint64_t seed, int64_t step, int64_t sample, int layer, int unit, float rate) {
  const uint64_t where = (static_cast<uint64_t>(layer) << 32) | static_cast<uint32_t>(unit);
  return random_uniform(seed, RngStream::kDropout, static_cast<uint64_t>(step),
                        static_cast<uint64_t>(sample), where) >= rate;
}

template <typename T>
DropoutLayer<T>::DropoutLayer(float rate, int size, int layer)
    : rate_(rate), size_(size), layer_(layer) {
  if (!(rate >= 0.0f && rate < 1.0f)) throw std::invalid_argument("dropout rate must be in [0, 1)");
}

template <typename T>
void DropoutLayer<T>::set_fixed_mask(const Matrix<T>& mask) {
  mask_ = mask;
  fixed_ = true;
}

template <typename T>
bool DropoutLayer<T>::begin_forward(Eigen::Index n, const ForwardContext& ctx) {
  last_training_ = ctx.training;
  if (!ctx.training || fixed_) return ctx.training;
  if (ctx.sample_ids == nullptr)
    throw std::invalid_argument("dropout in training needs sample ids");
  mask_.resize(size_, n);
  return true;
}

template <typename T>
typename Matrix<T>::ColXpr DropoutLayer<T>::mask_column(Eigen::Index j, const ForwardContext& ctx) {
  auto column = mask_.col(j);
  if (fixed_) return column;
  const T scale = T(1) / (T(1) - static_cast<T>(rate_));
  const int64_t sample = ctx.sample_ids[j];
  for (int u = 0; u < size_; ++u)
    column(u) = dropout_keeps(ctx.seed, ctx.step, sample, layer_, u, rate_) ? scale : T(0);
  return column;
}

template <typename T>
void DropoutLayer<T>::forward(const Matrix<T>& x, Matrix<T>& y, const ForwardContext& ctx) {
  if (!begin_forward(x.cols(), ctx)) {
    y = x;
    return;
  }
  y.resize(x.rows(), x.cols());
  for (Eigen::Index j = 0; j < x.cols(); ++j) y.col(j) = x.col(j).cwiseProduct(mask_column(j, ctx));
}

template <typename T>
void DropoutLayer<T>::backward(const Matrix<T>&, const Matrix<T>&, const Matrix<T>& dy,
                               Matrix<T>* dx) {
  if (dx == nullptr) return;
  if (last_training_) {
    dx->noalias() = dy.cwiseProduct(mask_);
  } else {
    *dx = dy;
  }
}

template class DropoutLayer<float>;
template class DropoutLayer<double>;

}  // namespace mlp
