// Dense and activation layers, written once and instantiated for float (training) and double
// (finite-difference checks). Every product writes straight into its destination buffer, and
// the element-wise work after a product (bias, activation, dropout; their gradients and the
// bias gradient) is one pass over the output, column by column while the column sits in cache.
// A step allocates nothing once the buffers have their batch shape. Under bf16 those passes also
// write the bf16 copies the next products read, while the column is in cache.
#include "core/layer.h"

#include <stdexcept>
#include <type_traits>

#include "core/dropout.h"

namespace mlp {
namespace {

// a = f(a) elementwise, in place.
template <typename T, typename A>
void activate(pb::Activation kind, A&& a) {
  switch (kind) {
    case pb::RELU:
      a = a.array().max(T(0)).matrix();
      break;
    case pb::TANH:
      a = a.array().tanh().matrix();
      break;
    case pb::SIGMOID:
      a = a.array().logistic().matrix();
      break;
    case pb::IDENTITY:
      break;
  }
}

// d *= f'(z) in place, where a = f(z): each derivative is written in terms of the output.
template <typename T, typename A, typename D>
void times_derivative(pb::Activation kind, const A& a, D&& d) {
  switch (kind) {
    case pb::RELU:
      d = (a.array() > T(0)).select(d.array(), T(0)).matrix();
      break;
    case pb::TANH:
      d = (d.array() * (T(1) - a.array().square())).matrix();
      break;
    case pb::SIGMOID:
      d = (d.array() * a.array() * (T(1) - a.array())).matrix();
      break;
    case pb::IDENTITY:
      break;
  }
}

}  // namespace

template <typename T>
Dense<T>::Dense(ParamStore<T>& store, const std::string& name, int inputs, int outputs)
    : store_(store),
      inputs_(inputs),
      outputs_(outputs),
      weight_(
          store.add(name + ".weight", outputs, inputs, {/*decayed=*/true, /*max_normed=*/true})),
      bias_(store.add(name + ".bias", outputs, 1, {/*decayed=*/false, /*max_normed=*/false})) {}

template <typename T>
void Dense<T>::set_products(const ProductSettings& products, const Bf16* weights_bf16) {
  if (products.precision == Precision::kBf16 && !std::is_same_v<T, float>)
    throw std::invalid_argument("Dense: bf16 products are for float layers only");
  products_ = products;
  weights_bf16_ = weights_bf16;
}

template <typename T>
ConstMatrixMap<Bf16> Dense<T>::weight_bf16() const {
  if (weights_bf16_ == nullptr) throw std::logic_error("Dense: bf16 products without bf16 weights");
  return ConstMatrixMap<Bf16>(weights_bf16_ + store_.layout()[weight_].offset, outputs_, inputs_);
}

template <typename T>
void Dense<T>::forward(const Matrix<T>& x, Matrix<T>& y, const ForwardContext& ctx) {
  forward_fused(x, pb::IDENTITY, nullptr, ctx, y, nullptr);
}

template <typename T>
void Dense<T>::forward_fused(const Matrix<T>& x, pb::Activation kind, DropoutLayer<T>* dropout,
                             const ForwardContext& ctx, Matrix<T>& a, Matrix<T>* y,
                             const Matrix<Bf16>* x_bf16, Matrix<Bf16>* out_bf16) {
  const auto w = store_.param(weight_);  // (O, I)
  const auto n = x.cols();
  a.resize(outputs_, n);
  if constexpr (std::is_same_v<T, float>) {
    if (bf16()) {
      if (x_bf16 == nullptr) {
        x_bf16_.resize(inputs_, n);
        to_bf16(x.data(), x_bf16_.data(), static_cast<size_t>(x.size()));
        x_bf16 = &x_bf16_;
      }
      gemm(products_, weight_bf16(), false, *x_bf16, false, a, Accumulate::kOverwrite);
    } else {
      gemm<T>(products_, w, false, x, false, a, Accumulate::kOverwrite);
    }
    if (out_bf16 != nullptr) out_bf16->resize(outputs_, n);
  } else {
    gemm<T>(products_, w, false, x, false, a, Accumulate::kOverwrite);
  }
  const bool masked = dropout != nullptr && dropout->begin_forward(n, ctx);
  activate_columns(kind, dropout, masked, 0, a, y, out_bf16);
}

template <typename T>
void Dense<T>::activate_columns(pb::Activation kind, const DropoutLayer<T>* dropout, bool masked,
                                Eigen::Index first_mask, Matrix<T>& a, Matrix<T>* y,
                                Matrix<Bf16>* out_bf16) const {
  const auto b = store_.param(bias_).col(0);  // (O)
  const auto n = a.cols();
  if (dropout != nullptr) y->resize(outputs_, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    auto column = a.col(j);  // (O)
    column += b;
    activate<T>(kind, column);
    if (masked) {
      dropout->apply_mask(first_mask + j, column.data(), y->col(j).data());
    } else if (dropout != nullptr) {
      y->col(j) = column;
    }
    if constexpr (std::is_same_v<T, float>) {
      if (out_bf16 != nullptr)
        to_bf16(dropout != nullptr ? y->col(j).data() : column.data(), out_bf16->col(j).data(),
                static_cast<size_t>(outputs_));
    }
  }
}

template <typename T>
void Dense<T>::backward(const Matrix<T>& x, const Matrix<T>& y, const Matrix<T>& dy,
                        Matrix<T>* dx) {
  backward_fused(x, pb::IDENTITY, nullptr, y, dy, dx);
}

template <typename T>
void Dense<T>::backward_fused(const Matrix<T>& x, pb::Activation kind,
                              const DropoutLayer<T>* dropout, const Matrix<T>& a,
                              const Matrix<T>& dy, Matrix<T>* dx, const Matrix<Bf16>* x_bf16) {
  auto dw = store_.grad(weight_);  // (O, I)
  const auto n = dy.cols();
  const bool masked = dropout != nullptr && dropout->masked();
  if (dx != nullptr) dx->resize(inputs_, n);
  if constexpr (std::is_same_v<T, float>) {
    if (bf16()) {
      delta_columns(kind, dropout, masked, 0, a, dy, dz_, store_.grad(bias_).data(), &dz_bf16_);
      gemm(products_, dz_bf16_, false, x_bf16 != nullptr ? *x_bf16 : x_bf16_, true, dw,
           Accumulate::kOverwrite);
      if (dx != nullptr)
        gemm(products_, weight_bf16(), true, dz_bf16_, false, *dx, Accumulate::kOverwrite);
      return;
    }
  }
  delta_columns(kind, dropout, masked, 0, a, dy, dz_, store_.grad(bias_).data());
  gemm<T>(products_, dz_, false, x, true, dw, Accumulate::kOverwrite);
  if (dx != nullptr)
    gemm<T>(products_, store_.param(weight_), true, dz_, false, *dx, Accumulate::kOverwrite);
}

template <typename T>
void Dense<T>::delta_columns(pb::Activation kind, const DropoutLayer<T>* dropout, bool masked,
                             Eigen::Index first_mask, const Matrix<T>& a, const Matrix<T>& dy,
                             Matrix<T>& dz, T* db, Matrix<Bf16>* dz_bf16) const {
  const auto n = dy.cols();
  VectorMap<T> bias_gradient(db, outputs_);  // (O)
  dz.resize(outputs_, n);
  if (dz_bf16 != nullptr) dz_bf16->resize(outputs_, n);
  bias_gradient.setZero();
  for (Eigen::Index j = 0; j < n; ++j) {
    auto column = dz.col(j);  // (O)
    if (masked) {
      dropout->apply_mask(first_mask + j, dy.col(j).data(), column.data());
    } else {
      column = dy.col(j);
    }
    times_derivative<T>(kind, a.col(j), column);
    bias_gradient += column;
    if constexpr (std::is_same_v<T, float>) {
      if (dz_bf16 != nullptr)
        to_bf16(column.data(), dz_bf16->col(j).data(), static_cast<size_t>(outputs_));
    }
  }
}

template <typename T>
std::pair<size_t, size_t> Dense<T>::param_range() const {
  // The bias block is registered right after the weight block, so the two are contiguous.
  const ParamBlock& w = store_.layout()[weight_];
  const ParamBlock& b = store_.layout()[bias_];
  return {w.offset, b.offset + b.size()};
}

template <typename T>
ActivationLayer<T>::ActivationLayer(pb::Activation kind, int size) : kind_(kind), size_(size) {
  if (!pb::Activation_IsValid(kind)) throw std::invalid_argument("unknown activation");
}

template <typename T>
void ActivationLayer<T>::forward(const Matrix<T>& x, Matrix<T>& y, const ForwardContext&) {
  y = x;
  activate<T>(kind_, y);
}

template <typename T>
void ActivationLayer<T>::backward(const Matrix<T>&, const Matrix<T>& y, const Matrix<T>& dy,
                                  Matrix<T>* dx) {
  if (dx == nullptr) return;
  *dx = dy;
  times_derivative<T>(kind_, y, *dx);
}

template class Dense<float>;
template class Dense<double>;
template class ActivationLayer<float>;
template class ActivationLayer<double>;

}  // namespace mlp
