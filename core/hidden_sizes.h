// The hidden-layer widths of a ModelConfig ("256,128"), read by the model that builds the layers
// and by config validation, which runs where no model is built (the sweep launcher); and the
// widths of all its layers, which size the products of a step.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proto/config.pb.h"

namespace mlp {

// Bounds on what a config may ask for, checked before anything is allocated. With Adam's two
// state vectors and early stopping's best copy a checkpoint holds 16 bytes per parameter, and
// protobuf parses no message of 2 GiB or more.
constexpr int kMaxHiddenLayers = 100;
constexpr int kMaxLayerWidth = 1 << 16;
constexpr int64_t kMaxParameters = 100'000'000;

// Parses "256,128" into {256, 128}; "" gives {}. Throws UsageError on anything else
// (non-numbers, zero or negative widths, empty items, more than kMaxHiddenLayers layers or a
// width over kMaxLayerWidth).
std::vector<int> parse_hidden_sizes(const std::string& text);

// The widths of a model's layers: inputs, hidden..., outputs (as the config has them, resolved
// or not). Throws as parse_hidden_sizes does.
std::vector<int> layer_widths(const pb::ModelConfig& model);

}  // namespace mlp
