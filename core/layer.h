// The layer interface and the two layer kinds of an MLP: dense (affine) and elementwise
// activation. Forward maps x (I, N) to y (O, N); backward ACCUMULATES parameter gradients into
// the ParamStore and OVERWRITES dx. Written once as templates, instantiated for float
// (training) and double (finite-difference checks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "core/param_store.h"
#include "core/tensor.h"
#include "proto/config.pb.h"

namespace mlp {

// What a forward pass may depend on besides its input: training mode, and the keys of the
// counter-based RNG (dropout masks are keyed by step and global sample index, not by rank).
struct ForwardContext {
  bool training = false;
  uint64_t seed = 0;
  int64_t step = 0;
  const int64_t* sample_ids = nullptr;  // global dataset index of each of the N columns
};

template <typename T>
class Layer {
 public:
  virtual ~Layer() = default;
  virtual int inputs() const = 0;
  virtual int outputs() const = 0;
  // x (I, N) -> y (O, N); resizes y (a no-op when the shape is unchanged).
  virtual void forward(const Matrix<T>& x, Matrix<T>& y, const ForwardContext& ctx) = 0;
  // x and y are those of the last forward, dy (O, N) the gradient of the loss w.r.t. y.
  // ACCUMULATES into this layer's parameter gradients; OVERWRITES dx (I, N) unless dx is null
  // (the first layer's input gradient is never needed).
  virtual void backward(const Matrix<T>& x, const Matrix<T>& y, const Matrix<T>& dy,
                        Matrix<T>* dx) = 0;
  // [begin, end) of this layer's parameters in the flat buffers; empty when it has none.
  virtual std::pair<size_t, size_t> param_range() const { return {0, 0}; }
};

// y = W x + b with W (O, I) and b (O, 1) registered in the store as "<name>.weight" and
// "<name>.bias".
template <typename T>
class Dense : public Layer<T> {
 public:
  Dense(ParamStore<T>& store, const std::string& name, int inputs, int outputs);
  int inputs() const override { return inputs_; }
  int outputs() const override { return outputs_; }
  void forward(const Matrix<T>& x, Matrix<T>& y, const ForwardContext& ctx) override;
  void backward(const Matrix<T>& x, const Matrix<T>& y, const Matrix<T>& dy,
                Matrix<T>* dx) override;
  std::pair<size_t, size_t> param_range() const override;
  int weight_block() const { return weight_; }
  int bias_block() const { return bias_; }

 private:
  ParamStore<T>& store_;
  int inputs_, outputs_;
  int weight_, bias_;
};

// y = f(x) elementwise, f one of relu, tanh, sigmoid, identity.
template <typename T>
class ActivationLayer : public Layer<T> {
 public:
  ActivationLayer(pb::Activation kind, int size);
  int inputs() const override { return size_; }
  int outputs() const override { return size_; }
  void forward(const Matrix<T>& x, Matrix<T>& y, const ForwardContext& ctx) override;
  void backward(const Matrix<T>& x, const Matrix<T>& y, const Matrix<T>& dy,
                Matrix<T>* dx) override;

 private:
  pb::Activation kind_;
  int size_;
};

}  // namespace mlp
