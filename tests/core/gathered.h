// Every sample of a dataset as floats, for tests that look at the values a dataset yields.
#pragma once

#include <numeric>
#include <vector>

#include "core/dataset.h"

namespace mlp {

struct Gathered {
  Matrix<float> x;              // (I, N)
  std::vector<int32_t> labels;  // (N) or empty
  Matrix<float> targets;        // (K, N) or empty
};

inline Gathered gather_all(const Dataset& d) {
  std::vector<int64_t> ids(static_cast<size_t>(d.size()));
  std::iota(ids.begin(), ids.end(), 0);
  Gathered g;
  gather(d, ids.data(), d.size(), &g.x, &g.labels, &g.targets);
  return g;
}

}  // namespace mlp
