// The flat parameter store: blocks laid out in call order, both buffers zeroed, block maps that
// address the flat buffers (column-major, one column per input), a fixed layout once
// allocated, and buffers placed in memory the caller keeps.
#include "core/param_store.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace mlp {
namespace {

TEST(ParamStore, LaysOutBlocksInCallOrderWithTheirRoles) {
  ParamStore<float> store;
  EXPECT_EQ(store.add("w", 3, 2, {/*decayed=*/true, /*max_normed=*/true}), 0);
  EXPECT_EQ(store.add("b", 3, 1, {/*decayed=*/false, /*max_normed=*/false}), 1);
  EXPECT_EQ(store.add("v", 1, 4, {/*decayed=*/true, /*max_normed=*/false}), 2);
  store.allocate();
  const std::vector<ParamBlock>& layout = store.layout();
  ASSERT_EQ(layout.size(), 3u);
  EXPECT_EQ(layout[1].name, "b");
  EXPECT_EQ(layout[1].offset, 6u);
  EXPECT_EQ(layout[2].offset, 9u);
  EXPECT_TRUE(layout[2].roles.decayed);
  EXPECT_FALSE(layout[2].roles.max_normed);
  EXPECT_EQ(store.size(), 13u);
  EXPECT_EQ(layout_size(layout), 13u);
  for (size_t i = 0; i < store.size(); ++i) {
    EXPECT_EQ(store.values()[i], 0.0f);
    EXPECT_EQ(store.grads()[i], 0.0f);
  }
}

TEST(ParamStore, BlockMapsAddressTheFlatBuffers) {
  ParamStore<double> store;
  store.add("first", 2, 2, {});
  const int w = store.add("w", 2, 3, {});
  store.allocate();
  store.param(w)(1, 2) = 5.0;  // column-major: offset 4 + 2 * 2 + 1
  store.grad(w)(0, 1) = -1.0;  // offset 4 + 1 * 2 + 0
  EXPECT_EQ(store.values()[9], 5.0);
  EXPECT_EQ(store.grads()[6], -1.0);
  const ParamStore<double>& read_only = store;
  EXPECT_EQ(read_only.param(w).rows(), 2);
  EXPECT_EQ(read_only.param(w).cols(), 3);
  EXPECT_EQ(read_only.param(w)(1, 2), 5.0);
}

TEST(ParamStore, ZeroGradsClearsOnlyTheGradients) {
  ParamStore<float> store;
  store.add("w", 2, 2, {});
  store.allocate();
  store.param(0).setConstant(3.0f);
  store.grad(0).setConstant(4.0f);
  store.zero_grads();
  EXPECT_TRUE(store.grad(0).isZero());
  EXPECT_EQ(store.values()[3], 3.0f);
}

TEST(ParamStore, TheLayoutIsFixedOnceAllocated) {
  ParamStore<float> store;
  store.add("w", 2, 2, {});
  store.allocate();
  EXPECT_THROW(store.add("late", 1, 1, {}), std::logic_error);
}

TEST(ParamStore, PlacedBuffersKeepTheValuesAndAreTheOnesInUse) {
  ParamStore<float> store;
  const int w = store.add("w", 2, 3, {});
  EXPECT_THROW(store.place(nullptr, nullptr), std::logic_error);
  store.allocate();
  store.param(w).setConstant(2.0f);
  store.grad(w).setConstant(-1.0f);
  alignas(64) float values[6] = {}, grads[6] = {};
  store.place(values, grads);
  EXPECT_EQ(store.values(), values);
  EXPECT_EQ(store.grads(), grads);
  EXPECT_EQ(values[5], 2.0f);
  EXPECT_EQ(grads[0], -1.0f);
  store.param(w)(1, 2) = 7.0f;
  EXPECT_EQ(values[5], 7.0f);
  store.zero_grads();
  EXPECT_EQ(grads[3], 0.0f);
  EXPECT_EQ(store.size(), 6u);
}

}  // namespace
}  // namespace mlp
