// The MLP as a stack of layers over one ParamStore: building it from a ModelConfig, seeding its
// weights from the counter-based RNG, and running forward and backward through buffers it keeps
// between steps.
#include "core/model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/dropout.h"
#include "core/errors.h"
#include "core/hidden_sizes.h"
#include "core/rng.h"

namespace mlp {

template <typename T>
Model<T>::Model(const pb::ModelConfig& cfg) : config_(cfg) {
  if (cfg.inputs() <= 0 || cfg.outputs() <= 0) {
    throw std::invalid_argument("Model: inputs and outputs must be resolved before building");
  }
  const std::vector<int> hidden = parse_hidden_sizes(cfg.hidden());
  const auto add_dense = [this](int inputs, int outputs) {
    auto dense = std::make_unique<Dense<T>>(store_, "dense" + std::to_string(dense_.size()), inputs,
                                            outputs);
    dense_.push_back(dense.get());
    layers_.push_back(std::move(dense));
  };
  int width = cfg.inputs();
  // Dropout ordinals in the RNG key: 0 for the inputs, h + 1 after hidden layer h.
  if (cfg.input_dropout() > 0)
    layers_.push_back(std::make_unique<DropoutLayer<T>>(cfg.input_dropout(), width, 0));
  for (size_t h = 0; h < hidden.size(); ++h) {
    add_dense(width, hidden[h]);
    layers_.push_back(std::make_unique<ActivationLayer<T>>(cfg.activation(), hidden[h]));
    if (cfg.dropout() > 0)
      layers_.push_back(
          std::make_unique<DropoutLayer<T>>(cfg.dropout(), hidden[h], static_cast<int>(h) + 1));
    width = hidden[h];
  }
  add_dense(width, cfg.outputs());
  store_.allocate();
  while (layers_[first_param_layer_]->param_range().first ==
         layers_[first_param_layer_]->param_range().second)
    ++first_param_layer_;
  activations_.resize(layers_.size());
  deltas_.resize(layers_.size());
}

template <typename T>
void Model<T>::initialize(uint64_t seed) {
  const bool relu = config_.activation() == pb::RELU;
  for (size_t d = 0; d < dense_.size(); ++d) {
    const Dense<T>* dense = dense_[d];
    const auto dense_index = static_cast<uint64_t>(d);
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
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->forward(i == 0 ? x : activations_[i - 1], activations_[i], ctx);
  }
  return activations_.back();
}

template <typename T>
void Model<T>::backward(const Matrix<T>& x, const Matrix<T>& doutputs,
                        const std::function<void(size_t, size_t)>& on_ready) {
  // Layers before the first one with parameters need no gradient at all.
  for (size_t i = layers_.size(); i-- > first_param_layer_;) {
    const Matrix<T>& input = i == 0 ? x : activations_[i - 1];
    const Matrix<T>& dy = i + 1 == layers_.size() ? doutputs : deltas_[i + 1];
    layers_[i]->backward(input, activations_[i], dy,
                         i == first_param_layer_ ? nullptr : &deltas_[i]);
    const auto [begin, end] = layers_[i]->param_range();
    if (begin != end && on_ready) on_ready(begin, end);
  }
}

template class Model<float>;
template class Model<double>;

}  // namespace mlp
