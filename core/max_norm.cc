// Max-norm constraint; see max_norm.h.
#include "core/max_norm.h"

#include <cmath>

namespace mlp {

void apply_max_norm(ParamStore<float>& store, float max_norm) {
  for (size_t b = 0; b < store.layout().size(); ++b) {
    if (!store.layout()[b].roles.max_normed) continue;
    auto w = store.param(static_cast<int>(b));  // (O, I): row o holds unit o's incoming weights
    for (Eigen::Index o = 0; o < w.rows(); ++o) {
      const float norm = w.row(o).norm();
      if (norm > max_norm) w.row(o) *= max_norm / norm;
    }
  }
}

}  // namespace mlp
