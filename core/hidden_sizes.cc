// Parsing of the hidden-layer widths; see hidden_sizes.h.
#include "core/hidden_sizes.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "core/errors.h"

namespace mlp {

std::vector<int> parse_hidden_sizes(const std::string& text) {
  std::vector<int> sizes;
  if (text.empty()) return sizes;
  const auto fail = [&text]() {
    return UsageError("--hidden: " + quote_input(text) + " is not a list of positive integers");
  };
  size_t begin = 0;
  while (true) {
    const size_t end = std::min(text.find(',', begin), text.size());
    if (end == begin) throw fail();
    int64_t width = 0;
    for (size_t i = begin; i < end; ++i) {
      if (text[i] < '0' || text[i] > '9') throw fail();
      width = width * 10 + (text[i] - '0');
      if (width > std::numeric_limits<int>::max()) throw fail();
    }
    if (width == 0) throw fail();
    if (width > kMaxLayerWidth)
      throw UsageError("--hidden: a layer of " + std::to_string(width) + " units; at most " +
                       std::to_string(kMaxLayerWidth) + " per layer");
    if (sizes.size() == static_cast<size_t>(kMaxHiddenLayers))
      throw UsageError("--hidden: more than " + std::to_string(kMaxHiddenLayers) + " layers");
    sizes.push_back(static_cast<int>(width));
    if (end == text.size()) return sizes;
    begin = end + 1;
  }
}

std::vector<int> layer_widths(const pb::ModelConfig& model) {
  std::vector<int> widths = parse_hidden_sizes(model.hidden());
  widths.insert(widths.begin(), model.inputs());
  widths.push_back(model.outputs());
  return widths;
}

}  // namespace mlp
