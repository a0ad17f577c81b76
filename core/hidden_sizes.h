// The hidden-layer widths of a ModelConfig ("256,128"), read by the model that builds the layers
// and by config validation, which runs where no model is built (the sweep launcher).
#pragma once

#include <string>
#include <vector>

namespace mlp {

// Parses "256,128" into {256, 128}; "" gives {}. Throws UsageError on anything else
// (non-numbers, zero or negative widths, empty items).
std::vector<int> parse_hidden_sizes(const std::string& text);

}  // namespace mlp
