// Max-norm: rows over the bound are scaled onto it, rows under it and biases are untouched.
#include "core/max_norm.h"

#include <gtest/gtest.h>

namespace mlp {
namespace {

TEST(MaxNorm, RescalesOnlyWeightRowsOverTheBound) {
  ParamStore<float> store;
  const int w = store.add("dense0.weight", 2, 2, {/*decayed=*/true, /*max_normed=*/true});
  const int b = store.add("dense0.bias", 2, 1, {/*decayed=*/false, /*max_normed=*/false});
  store.allocate();
  store.param(w) << 3, 4,  // norm 5
      0.6f, 0.8f;          // norm 1
  store.param(b) << 30, 40;
  apply_max_norm(store, 2.0f);
  EXPECT_FLOAT_EQ(store.param(w)(0, 0), 1.2f);
  EXPECT_FLOAT_EQ(store.param(w)(0, 1), 1.6f);
  EXPECT_FLOAT_EQ(store.param(w).row(0).norm(), 2.0f);
  EXPECT_FLOAT_EQ(store.param(w)(1, 0), 0.6f);
  EXPECT_FLOAT_EQ(store.param(b)(0), 30.0f);
}

}  // namespace
}  // namespace mlp
