// GradientSync without MPI: how the layout is cut into buckets, and that ranges must arrive
// contiguous and last first.
#include "dist/gradient_sync.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace mlp {
namespace {

std::vector<ParamBlock> blocks(const std::vector<int>& sizes) {
  std::vector<ParamBlock> layout;
  size_t offset = 0;
  for (int size : sizes) {
    layout.push_back({"block", offset, size, 1, false});
    offset += static_cast<size_t>(size);
  }
  return layout;
}

TEST(GradientSync, GroupsSmallBlocksFromTheLastBackwards) {
  std::unique_ptr<Communicator> comm = make_local_communicator();
  std::vector<float> grads(1000);
  // Blocks at offsets 0, 400, 410, 900, 905 of sizes 400, 10, 490, 5, 95.
  GradientSync sync(*comm, grads.data(), blocks({400, 10, 490, 5, 95}),
                    GradientSync::Mode::kOverlap, 100);
  const std::vector<GradientSync::Bucket>& b = sync.buckets();
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].begin, 900u);  // 95 + 5: the small last blocks grouped
  EXPECT_EQ(b[0].end, 1000u);
  EXPECT_EQ(b[1].begin, 410u);
  EXPECT_EQ(b[1].end, 900u);
  EXPECT_EQ(b[2].begin, 0u);  // 10 alone is too small: joined with the block before it
  EXPECT_EQ(b[2].end, 410u);
}

TEST(GradientSync, AFinalSmallRemainderIsItsOwnBucket) {
  std::unique_ptr<Communicator> comm = make_local_communicator();
  std::vector<float> grads(210);
  GradientSync sync(*comm, grads.data(), blocks({10, 200}), GradientSync::Mode::kOverlap, 100);
  ASSERT_EQ(sync.buckets().size(), 2u);
  EXPECT_EQ(sync.buckets()[1].begin, 0u);
  EXPECT_EQ(sync.buckets()[1].end, 10u);
}

TEST(GradientSync, RejectsRangesOutOfOrder) {
  std::unique_ptr<Communicator> comm = make_local_communicator();
  std::vector<float> grads(30);
  GradientSync sync(*comm, grads.data(), blocks({10, 10, 10}), GradientSync::Mode::kOverlap, 1);
  sync.begin_step();
  EXPECT_THROW(sync.on_ready(10, 20), std::logic_error);
  sync.on_ready(20, 30);
  EXPECT_THROW(sync.on_ready(0, 10), std::logic_error);
}

TEST(GradientSync, LocalNonFiniteIsReported) {
  std::unique_ptr<Communicator> comm = make_local_communicator();
  std::vector<float> grads(30, 1.0f);
  grads[3] = 1.0f / 0.0f;
  for (GradientSync::Mode mode : {GradientSync::Mode::kBlocking, GradientSync::Mode::kOverlap}) {
    GradientSync sync(*comm, grads.data(), blocks({10, 10, 10}), mode, 1);
    sync.begin_step();
    EXPECT_FALSE(sync.finish(true));
    EXPECT_FALSE(sync.locally_finite());
  }
}

}  // namespace
}  // namespace mlp
