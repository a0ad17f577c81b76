// GradientSync without MPI: how the layout is cut into buckets, that ranges must arrive
// contiguous and last first, and that the factory knows every config value and refuses others.
#include "dist/gradient_sync.h"

#include <gtest/gtest.h>

#include <iterator>
#include <stdexcept>
#include <vector>

#include "core/errors.h"

namespace mlp {
namespace {

constexpr pb::GradSync kAllKinds[] = {pb::BLOCKING, pb::OVERLAP, pb::SHARDED};

std::vector<ParamBlock> blocks(const std::vector<int>& sizes) {
  std::vector<ParamBlock> layout;
  size_t offset = 0;
  for (int size : sizes) {
    layout.push_back({"block", offset, size, 1, {}});
    offset += static_cast<size_t>(size);
  }
  return layout;
}

TEST(GradientBuckets, GroupSmallBlocksFromTheLastBackwards) {
  // Blocks at offsets 0, 400, 410, 900, 905 of sizes 400, 10, 490, 5, 95.
  const std::vector<GradientBucket> b = gradient_buckets(blocks({400, 10, 490, 5, 95}), 100);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].begin, 900u);  // 95 + 5: the small last blocks grouped
  EXPECT_EQ(b[0].end, 1000u);
  EXPECT_EQ(b[1].begin, 410u);
  EXPECT_EQ(b[1].end, 900u);
  EXPECT_EQ(b[2].begin, 0u);  // 10 alone is too small: joined with the block before it
  EXPECT_EQ(b[2].end, 410u);
}

TEST(GradientBuckets, AFinalSmallRemainderIsItsOwnBucket) {
  const std::vector<GradientBucket> b = gradient_buckets(blocks({10, 200}), 100);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[1].begin, 0u);
  EXPECT_EQ(b[1].end, 10u);
}

TEST(GradientSync, RejectsRangesOutOfOrder) {
  std::unique_ptr<Communicator> comm = make_local_communicator();
  std::vector<float> grads(30);
  for (pb::GradSync kind : kAllKinds) {
    const auto sync = make_gradient_sync(kind, *comm, grads.data(), blocks({10, 10, 10}), 1);
    sync->begin_step();
    EXPECT_THROW(sync->on_ready(10, 20), std::logic_error);
    sync->on_ready(20, 30);
    EXPECT_THROW(sync->on_ready(0, 10), std::logic_error);
  }
}

TEST(GradientSync, LocalNonFiniteIsReported) {
  std::unique_ptr<Communicator> comm = make_local_communicator();
  std::vector<float> grads(30, 1.0f);
  grads[3] = 1.0f / 0.0f;
  for (pb::GradSync kind : kAllKinds) {
    const auto sync = make_gradient_sync(kind, *comm, grads.data(), blocks({10, 10, 10}), 1);
    sync->begin_step();
    EXPECT_FALSE(sync->finish(true));
    EXPECT_FALSE(sync->locally_finite());
  }
}

// Every value of the config's enum has an algorithm; anything else is a usage error, never a
// silent default.
TEST(GradientSync, EveryConfigValueHasAnAlgorithmAndOthersAreRefused) {
  const google::protobuf::EnumDescriptor* values = pb::GradSync_descriptor();
  ASSERT_EQ(static_cast<size_t>(values->value_count()), std::size(kAllKinds));
  std::unique_ptr<Communicator> comm = make_local_communicator();
  std::vector<float> grads(10);
  for (int i = 0; i < values->value_count(); ++i) {
    const auto kind = static_cast<pb::GradSync>(values->value(i)->number());
    EXPECT_NE(make_gradient_sync(kind, *comm, grads.data(), blocks({10}), 1), nullptr);
  }
  try {
    make_gradient_sync(static_cast<pb::GradSync>(99), *comm, grads.data(), blocks({10}), 1);
    FAIL() << "no error for an unknown value";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "grad_sync: no gradient synchronization is built for 99");
  }
}

}  // namespace
}  // namespace mlp
