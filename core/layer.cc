// Dense and activation layers, written once and instantiated for float (training) and double
// (finite-difference checks). Every product writes straight into its destination buffer, so a
// step allocates nothing once the buffers have their batch shape.
#include "core/layer.h"

#include <stdexcept>

#include "core/gemm.h"

namespace mlp {

template <typename T>
Dense<T>::Dense(ParamStore<T>& store, const std::string& name, int inputs, int outputs)
    : store_(store),
      inputs_(inputs),
      outputs_(outputs),
      weight_(
          store.add(name + ".weight", outputs, inputs, {/*decayed=*/true, /*max_normed=*/true})),
      bias_(store.add(name + ".bias", outputs, 1, {/*decayed=*/false, /*max_normed=*/false})) {}

template <typename T>
void Dense<T>::forward(const Matrix<T>& x, Matrix<T>& y, const ForwardContext&) {
  const auto w = store_.param(weight_);  // (O, I)
  const auto b = store_.param(bias_);    // (O, 1)
  // Seeding y with the bias and letting the product accumulate costs no pass of its own.
  y.resize(outputs_, x.cols());
  y.colwise() = b.col(0);
  gemm<T>(w, false, x, false, y, Accumulate::kAdd);
}

template <typename T>
void Dense<T>::backward(const Matrix<T>& x, const Matrix<T>&, const Matrix<T>& dy, Matrix<T>* dx) {
  auto dw = store_.grad(weight_);  // (O, I)
  auto db = store_.grad(bias_);    // (O, 1)
  gemm<T>(dy, false, x, true, dw, Accumulate::kAdd);
  db.col(0).noalias() += dy.rowwise().sum();
  if (dx != nullptr) {
    const auto w = store_.param(weight_);
    dx->resize(inputs_, dy.cols());
    gemm<T>(w, true, dy, false, *dx, Accumulate::kOverwrite);
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
  y.resize(x.rows(), x.cols());
  switch (kind_) {
    case pb::RELU:
      y.array() = x.array().max(T(0));
      break;
    case pb::TANH:
      y.array() = x.array().tanh();
      break;
    case pb::SIGMOID:
      y.array() = x.array().logistic();
      break;
    case pb::IDENTITY:
      y = x;
      break;
  }
}

// Each derivative is written in terms of y, which the forward pass already computed.
template <typename T>
void ActivationLayer<T>::backward(const Matrix<T>&, const Matrix<T>& y, const Matrix<T>& dy,
                                  Matrix<T>* dx) {
  if (dx == nullptr) return;
  dx->resize(dy.rows(), dy.cols());
  switch (kind_) {
    case pb::RELU:
      dx->array() = (y.array() > T(0)).select(dy.array(), T(0));
      break;
    case pb::TANH:
      dx->array() = dy.array() * (T(1) - y.array().square());
      break;
    case pb::SIGMOID:
      dx->array() = dy.array() * y.array() * (T(1) - y.array());
      break;
    case pb::IDENTITY:
      *dx = dy;
      break;
  }
}

template class Dense<float>;
template class Dense<double>;
template class ActivationLayer<float>;
template class ActivationLayer<double>;

}  // namespace mlp
