// The layer interface and the two layer kinds of an MLP: dense (affine) and elementwise
// activation. Forward maps x (I, N) to y (O, N); backward OVERWRITES the layer's parameter
// gradients in the ParamStore and dx, so a step needs no pass that zeroes gradients. A dense
// layer also runs the activation and dropout after it in its own pass over its output
// (forward_fused), which is how the model runs it. Written once as templates, instantiated for
// float (training) and double (finite-difference checks). Under bf16 products (float only) a
// dense layer's products read bf16 copies of its input, weights and output gradient, which the
// passes that write those values write as well; results and gradients stay float.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "core/gemm.h"
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
  // OVERWRITES this layer's parameter gradients, and dx (I, N) unless dx is null (the first
  // layer's input gradient is never needed).
  virtual void backward(const Matrix<T>& x, const Matrix<T>& y, const Matrix<T>& dy,
                        Matrix<T>* dx) = 0;
  // [begin, end) of this layer's parameters in the flat buffers; empty when it has none.
  virtual std::pair<size_t, size_t> param_range() const { return {0, 0}; }
};

template <typename T>
class DropoutLayer;

// y = W x + b with W (O, I) and b (O, 1) registered in the store as "<name>.weight" and
// "<name>.bias". Its products run as `products` says (Eigen by default; the model sets them).
template <typename T>
class Dense : public Layer<T> {
 public:
  Dense(ParamStore<T>& store, const std::string& name, int inputs, int outputs);
  // Under Precision::kBf16 (float layers only), weights_bf16 is the bf16 copy of the store's
  // values (the same offsets), which the owner keeps current; otherwise it is not read.
  void set_products(const ProductSettings& products, const Bf16* weights_bf16 = nullptr);
  int inputs() const override { return inputs_; }
  int outputs() const override { return outputs_; }
  void forward(const Matrix<T>& x, Matrix<T>& y, const ForwardContext& ctx) override;
  void backward(const Matrix<T>& x, const Matrix<T>& y, const Matrix<T>& dy,
                Matrix<T>* dx) override;
  // The layer, then the activation `kind`, then `dropout` (may be null), in one pass over the
  // output after the product: a = f(W x + b) (O, N), and with dropout y = a * mask (O, N).
  // Under bf16: x_bf16 is x's bf16 copy (I, N), or null, and then the layer converts x itself
  // (the model's input, which no pass writes in bf16); the pass also writes the bf16 copy of
  // its last output (y with dropout, else a) into *out_bf16 (O, N) unless out_bf16 is null.
  void forward_fused(const Matrix<T>& x, pb::Activation kind, DropoutLayer<T>* dropout,
                     const ForwardContext& ctx, Matrix<T>& a, Matrix<T>* y,
                     const Matrix<Bf16>* x_bf16 = nullptr, Matrix<Bf16>* out_bf16 = nullptr);
  // Backward of forward_fused from dy (O, N), the gradient w.r.t. its last output (y with
  // dropout, else a): one pass forms dz = dy * mask * f'(a) and the bias gradient (and under
  // bf16 dz's bf16 copy), then the products write the weight gradient and dx (unless null).
  // OVERWRITES all of them. x_bf16: as given to the forward.
  void backward_fused(const Matrix<T>& x, pb::Activation kind, const DropoutLayer<T>* dropout,
                      const Matrix<T>& a, const Matrix<T>& dy, Matrix<T>* dx,
                      const Matrix<Bf16>* x_bf16 = nullptr);
  // forward_fused's pass after its product, over the columns of a (O, n) that hold W x:
  // a = f(a + b), and with dropout y (O, n) = a * mask (masked: column j takes the mask of column
  // first_mask + j of the dropout's last draw) or y = a (not masked). Resizes y. With out_bf16,
  // also writes the bf16 rounding of the layer's output there. Also run per block of a batch by
  // the exact mode (core/block_pass.h), on masks drawn for all its columns.
  void activate_columns(pb::Activation kind, const DropoutLayer<T>* dropout, bool masked,
                        Eigen::Index first_mask, Matrix<T>& a, Matrix<T>* y,
                        Matrix<Bf16>* out_bf16 = nullptr) const;
  // backward_fused's pass before its products: OVERWRITES dz (O, n), resized, with
  // dy * mask * f'(a) (the mask of column first_mask + j when masked) and db (O values) with
  // the sum of dz's columns, in column order; with dz_bf16, also dz's bf16 rounding, resized.
  void delta_columns(pb::Activation kind, const DropoutLayer<T>* dropout, bool masked,
                     Eigen::Index first_mask, const Matrix<T>& a, const Matrix<T>& dy,
                     Matrix<T>& dz, T* db, Matrix<Bf16>* dz_bf16 = nullptr) const;
  std::pair<size_t, size_t> param_range() const override;
  int weight_block() const { return weight_; }
  int bias_block() const { return bias_; }

 private:
  bool bf16() const { return products_.precision == Precision::kBf16; }
  ConstMatrixMap<Bf16> weight_bf16() const;  // (O, I)

  ParamStore<T>& store_;
  int inputs_, outputs_;
  int weight_, bias_;
  ProductSettings products_;
  const Bf16* weights_bf16_ = nullptr;
  Matrix<T> dz_;            // (O, N) gradient w.r.t. W x + b, kept between steps
  Matrix<Bf16> dz_bf16_;    // (O, N) its bf16 copy under bf16
  Matrix<Bf16> x_bf16_;     // (I, N) under bf16: the input's copy when none was given
};

// y = f(x) elementwise, f one of relu, tanh, sigmoid, identity.
template <typename T>
class ActivationLayer : public Layer<T> {
 public:
  ActivationLayer(pb::Activation kind, int size);
  pb::Activation kind() const { return kind_; }
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
