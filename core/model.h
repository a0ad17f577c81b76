// An MLP built from a ModelConfig: [input dropout] then, per hidden layer, dense, activation
// [, dropout], and a final dense layer with raw outputs (the loss applies softmax or sigmoid).
// The model owns the activation buffers and reuses them across steps, so the training loop
// allocates nothing after the first step. It carries the settings its matrix products run with,
// and under bf16 products the bf16 copy of its weights that those products read.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/dropout.h"
#include "core/layer.h"
#include "core/param_store.h"
#include "proto/config.pb.h"

namespace mlp {

template <typename T>
class Model {
 public:
  // cfg.inputs() and cfg.outputs() must be resolved (> 0). Parameters start at zero. Throws
  // UsageError (as set_products does) for a backend this build lacks.
  explicit Model(const pb::ModelConfig& cfg, const ProductSettings& products = {});
  // The layers hold a reference to store_, so a moved or copied model would point into the old.
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // Weights from the counter-based RNG keyed by seed: Glorot uniform for sigmoid, tanh and
  // identity, He normal for ReLU; biases zero.
  void initialize(uint64_t seed);

  // The flat parameters and gradients of all layers. The mutable store may be written, so under
  // bf16 the weights' bf16 copy counts as stale after it is asked for, and the next forward
  // converts all of it: whoever writes the parameters (a resume, early stopping's restore, a
  // model file) needs to do nothing more.
  ParamStore<T>& store() {
    weights_bf16_stale_ = true;
    return store_;
  }
  const ParamStore<T>& store() const { return store_; }
  // The store for the training step, which keeps the bf16 copy current itself as it updates the
  // parameters (with weights_bf16() and refresh_weights_bf16()): nothing is marked stale.
  ParamStore<T>& store_for_step() { return store_; }
  // The bf16 copy of store().values(), at the same offsets, under bf16 products; null otherwise.
  // Updating a range of the parameters makes that range of it stale until written again.
  Bf16* weights_bf16() { return weights_bf16_.empty() ? nullptr : weights_bf16_.data(); }
  // Writes the bf16 copy of values()[range] (nothing unless under bf16).
  void refresh_weights_bf16(FlatRange range);
  int inputs() const;
  int outputs() const;
  const std::vector<std::unique_ptr<Layer<T>>>& layers() const { return layers_; }

  // How every product of forward and backward runs. The trainer sets it once it has chosen the
  // backend, before the first product; throws UsageError naming a backend this build lacks, or
  // for bf16 a CPU without bf16 instructions (core/bf16.h) or a build without oneDNN (bf16
  // products run on oneDNN whatever the backend named; a double model throws
  // std::invalid_argument).
  void set_products(const ProductSettings& products);
  const ProductSettings& products() const { return products_; }

  // x (I, N) -> outputs (O, N), a buffer owned by the model, valid until the next forward.
  const Matrix<T>& forward(const Matrix<T>& x, const ForwardContext& ctx);
  // Hidden layer k's activations in the last forward (k = 1 for the first hidden layer; the
  // activation's output, before any dropout): (width of layer k, N), a buffer owned by the
  // model, valid until the next forward. Throws std::out_of_range unless k names a hidden layer.
  // Read by `trainer predict --layer K`.
  const Matrix<T>& hidden_activations(int k) const;

  // Backpropagates doutputs (O, N) through the last forward(x); OVERWRITES store().grads().
  // After each layer that has parameters, calls on_ready(begin, end) with its
  // flat gradient range, last layer first, so gradient sync can start early.
  void backward(const Matrix<T>& x, const Matrix<T>& doutputs,
                const std::function<void(size_t, size_t)>& on_ready = {});

  // Layers run together: a dense layer with the activation and dropout after it in one pass
  // over its output, or a lone layer (the input dropout, also given as dropout) with dense null.
  struct Block {
    size_t first = 0, last = 0;  // indices into layers_
    size_t output = 0;           // activations_ index of the activation's output (a)
    Dense<T>* dense = nullptr;
    pb::Activation activation = pb::IDENTITY;
    DropoutLayer<T>* dropout = nullptr;
  };
  // The blocks in forward order, for a pass that runs the layers its own way (the exact mode's
  // per-batch-block pass, core/block_pass.h).
  const std::vector<Block>& layer_blocks() const { return blocks_; }

 private:
  pb::ModelConfig config_;
  ProductSettings products_;
  ParamStore<T> store_;
  std::vector<std::unique_ptr<Layer<T>>> layers_;
  std::vector<Block> blocks_;
  std::vector<Matrix<T>> activations_;  // activations_[i] = output of layers_[i]
  // Under bf16: inputs_bf16_[k] is the bf16 copy of block k's input, written by block k - 1's
  // pass when that block is dense (the first dense block converts its own input), and the
  // weights' copy, stale once the mutable store was asked for until the next forward.
  std::vector<Matrix<Bf16>> inputs_bf16_;
  std::vector<Bf16, Eigen::aligned_allocator<Bf16>> weights_bf16_;
  bool weights_bf16_stale_ = true;
  std::vector<Matrix<T>> deltas_;       // gradient w.r.t. each layer's input
  size_t first_param_layer_ = 0;        // layers before it (input dropout) get no backward
};

}  // namespace mlp
