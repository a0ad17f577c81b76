// The MLP as a stack of layers over one ParamStore: building it from a ModelConfig, seeding its
// weights from the counter-based RNG, and running forward and backward through buffers it keeps
// between steps.
#include "core/model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/dropout.h"
#include "core/errors.h"
#include "core/hidden_sizes.h"
#include "core/rng.h"

namespace mlp {

template <typename T>
Model<T>::Model(const pb::ModelConfig& cfg, const ProductSettings& products) : config_(cfg) {
  if (cfg.inputs() <= 0 || cfg.outputs() <= 0) {
    throw std::invalid_argument("Model: inputs and outputs must be resolved before building");
  }
  const std::vector<int> hidden = parse_hidden_sizes(cfg.hidden());
  int64_t parameters = 0;
  int64_t fan_in = cfg.inputs();
  for (int64_t fan_out : hidden) {
    parameters += (fan_in + 1) * fan_out;
    fan_in = fan_out;
  }
  parameters += (fan_in + 1) * cfg.outputs();
  if (parameters > kMaxParameters)
    throw UsageError("the model has " + std::to_string(parameters) + " parameters (" +
                     std::to_string(cfg.inputs()) + " inputs, " + std::to_string(hidden.size()) +
                     " hidden layers, " + std::to_string(cfg.outputs()) + " outputs); at most " +
                     std::to_string(kMaxParameters) + " fit a checkpoint");
  // The blocks are recorded as the layers are added, so nothing asks a layer for its type.
  const auto add = [this](std::unique_ptr<Layer<T>> layer) {
    layers_.push_back(std::move(layer));
    return layers_.size() - 1;
  };
  const auto start_block = [this, &add](std::unique_ptr<Layer<T>> layer, Dense<T>* dense) {
    Block block;
    block.dense = dense;
    block.first = block.last = block.output = add(std::move(layer));
    blocks_.push_back(block);
  };
  int dense_count = 0;
  const auto add_dense = [&](int inputs, int outputs) {
    auto dense = std::make_unique<Dense<T>>(store_, "dense" + std::to_string(dense_count++), inputs,
                                            outputs);
    Dense<T>* raw = dense.get();
    start_block(std::move(dense), raw);
  };
  int width = cfg.inputs();
  // Dropout ordinals in the RNG key: 0 for the inputs, h + 1 after hidden layer h.
  if (cfg.input_dropout() > 0) {
    auto dropout = std::make_unique<DropoutLayer<T>>(cfg.input_dropout(), width, 0);
    DropoutLayer<T>* raw = dropout.get();
    start_block(std::move(dropout), nullptr);
    blocks_.back().dropout = raw;
  }
  for (size_t h = 0; h < hidden.size(); ++h) {
    add_dense(width, hidden[h]);
    blocks_.back().activation = cfg.activation();
    blocks_.back().last = blocks_.back().output =
        add(std::make_unique<ActivationLayer<T>>(cfg.activation(), hidden[h]));
    if (cfg.dropout() > 0) {
      auto dropout =
          std::make_unique<DropoutLayer<T>>(cfg.dropout(), hidden[h], static_cast<int>(h) + 1);
      blocks_.back().dropout = dropout.get();
      blocks_.back().last = add(std::move(dropout));
    }
    width = hidden[h];
  }
  add_dense(width, cfg.outputs());
  store_.allocate();
  while (layers_[first_param_layer_]->param_range().first ==
         layers_[first_param_layer_]->param_range().second)
    ++first_param_layer_;
  activations_.resize(layers_.size());
  deltas_.resize(layers_.size());
  inputs_bf16_.resize(blocks_.size());
  set_products(products);
}

template <typename T>
void Model<T>::set_products(const ProductSettings& products) {
  ProductSettings settings = products;
  if (settings.precision == Precision::kBf16) {
    if (!std::is_same_v<T, float>)
      throw std::invalid_argument("Model: bf16 products are for float models only");
    require_bf16_cpu("bf16 products");
    settings.backend = parse_gemm_backend("onednn", "bf16 products");
    weights_bf16_.resize(store_.size());
    weights_bf16_stale_ = true;
  } else {
    // parse_gemm_backend throws the error --gemm gives for it, saying how to get the backend.
    if (!gemm_backend_available(settings.backend))
      parse_gemm_backend(gemm_backend_name(settings.backend));
    weights_bf16_.clear();
    weights_bf16_.shrink_to_fit();
  }
  products_ = settings;
  for (const Block& block : blocks_)
    if (block.dense != nullptr) block.dense->set_products(settings, weights_bf16());
}

template <typename T>
void Model<T>::refresh_weights_bf16(FlatRange range) {
  if constexpr (std::is_same_v<T, float>) {
    if (weights_bf16_.empty()) return;
    if (range.begin > range.end || range.end > store_.size())
      throw std::logic_error("Model::refresh_weights_bf16: range outside the parameters");
    to_bf16(store_.values() + range.begin, weights_bf16_.data() + range.begin, range.size());
  }
}

template <typename T>
void Model<T>::initialize(uint64_t seed) {
  const bool relu = config_.activation() == pb::RELU;
  uint64_t dense_index = 0;
  for (const Block& block : blocks_) {
    const Dense<T>* dense = block.dense;
    if (dense == nullptr) continue;
    auto w = store_.param(dense->weight_block());  // (O, I)
    const double fan_in = dense->inputs();
    const double fan_out = dense->outputs();
    const double he_std = std::sqrt(2.0 / fan_in);
    const double glorot_limit = std::sqrt(6.0 / (fan_in + fan_out));
    // Keyed by the flat element index, so a weight's value does not depend on fill order.
    for (Eigen::Index e = 0; e < w.size(); ++e) {
      const auto key = static_cast<uint64_t>(e);
      const double value =
          relu ? he_std * random_normal(seed, RngStream::kInit, dense_index, key)
               : glorot_limit *
                     (2.0 * random_uniform(seed, RngStream::kInit, dense_index, key) - 1.0);
      w.data()[e] = static_cast<T>(value);
    }
    store_.param(dense->bias_block()).setZero();
    ++dense_index;
  }
}

template <typename T>
int Model<T>::inputs() const {
  return layers_.front()->inputs();
}

template <typename T>
int Model<T>::outputs() const {
  return layers_.back()->outputs();
}

template <typename T>
const Matrix<T>& Model<T>::forward(const Matrix<T>& x, const ForwardContext& ctx) {
  const bool bf16 = !weights_bf16_.empty();
  if (bf16 && weights_bf16_stale_) {
    refresh_weights_bf16({0, store_.size()});
    weights_bf16_stale_ = false;
  }
  for (size_t k = 0; k < blocks_.size(); ++k) {
    const Block& b = blocks_[k];
    const Matrix<T>& input = b.first == 0 ? x : activations_[b.first - 1];
    if (b.dense == nullptr) {
      layers_[b.first]->forward(input, activations_[b.first], ctx);
    } else {
      // A block after a dense one reads the copy that block's pass wrote; the first dense block
      // converts its own input.
      const bool after_dense = k > 0 && blocks_[k - 1].dense != nullptr;
      Matrix<Bf16>* out_bf16 = bf16 && k + 1 < blocks_.size() ? &inputs_bf16_[k + 1] : nullptr;
      b.dense->forward_fused(input, b.activation, b.dropout, ctx, activations_[b.output],
                             b.dropout != nullptr ? &activations_[b.last] : nullptr,
                             bf16 && after_dense ? &inputs_bf16_[k] : nullptr, out_bf16);
    }
  }
  return activations_.back();
}

template <typename T>
const Matrix<T>& Model<T>::hidden_activations(int k) const {
  int hidden = 0;
  // The last block is the output layer, the only dense block without an activation after it.
  for (size_t i = 0; i + 1 < blocks_.size(); ++i)
    if (blocks_[i].dense != nullptr && ++hidden == k) return activations_[blocks_[i].output];
  throw std::out_of_range("Model: no hidden layer " + std::to_string(k) + " (" +
                          std::to_string(hidden) + " hidden layers)");
}

template <typename T>
void Model<T>::backward(const Matrix<T>& x, const Matrix<T>& doutputs,
                        const std::function<void(size_t, size_t)>& on_ready) {
  // Layers before the first one with parameters need no gradient at all.
  for (size_t k = blocks_.size(); k-- > 0;) {
    const Block& b = blocks_[k];
    if (b.first < first_param_layer_) break;
    const Matrix<T>& input = b.first == 0 ? x : activations_[b.first - 1];
    const Matrix<T>& dy = b.last + 1 == layers_.size() ? doutputs : deltas_[b.last + 1];
    Matrix<T>* dx = b.first == first_param_layer_ ? nullptr : &deltas_[b.first];
    if (b.dense == nullptr) {
      layers_[b.first]->backward(input, activations_[b.first], dy, dx);
      continue;
    }
    const bool after_dense = k > 0 && blocks_[k - 1].dense != nullptr;
    b.dense->backward_fused(input, b.activation, b.dropout, activations_[b.output], dy, dx,
                            !weights_bf16_.empty() && after_dense ? &inputs_bf16_[k] : nullptr);
    const auto [begin, end] = b.dense->param_range();
    if (on_ready) on_ready(begin, end);
  }
}

template class Model<float>;
template class Model<double>;

}  // namespace mlp
