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
void DropoutLayer<T>::forward(const Matrix<T>& x, Matrix<T>& y, const ForwardContext& ctx) {
  last_training_ = ctx.training;
  if (!ctx.training) {
    y = x;
    return;
  }
  const auto n = x.cols();
  if (!fixed_) {
    if (ctx.sample_ids == nullptr)
      throw std::invalid_argument("dropout in training needs sample ids");
    const T scale = T(1) / (T(1) - static_cast<T>(rate_));
    mask_.resize(size_, n);
    for (Eigen::Index j = 0; j < n; ++j)
      for (int u = 0; u < size_; ++u)
        mask_(u, j) =
            dropout_keeps(ctx.seed, ctx.step, ctx.sample_ids[j], layer_, u, rate_) ? scale : T(0);
  }
  y.noalias() = x.cwiseProduct(mask_);
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
