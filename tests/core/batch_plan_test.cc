// The global batch plan: every sample once per epoch, short last batch, order set by the seed.
#include "core/batch_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace mlp {
namespace {

TEST(BatchPlan, EpochVisitsEverySampleOnceWithShortLastBatch) {
  BatchPlan plan(/*samples=*/103, /*batch_size=*/10, /*seed=*/7);
  ASSERT_EQ(plan.steps_per_epoch(), 11);
  EXPECT_EQ(plan.batch_size(0), 10);
  EXPECT_EQ(plan.batch_size(10), 3);
  std::vector<int64_t> order = plan.epoch_order(0);
  std::vector<int64_t> seen;
  for (int64_t step = 0; step < plan.steps_per_epoch(); ++step) {
    for (int64_t i = 0; i < plan.batch_size(step); ++i)
      seen.push_back(order[plan.batch_begin(step) + i]);
  }
  std::sort(seen.begin(), seen.end());
  std::vector<int64_t> all(103);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(seen, all);
}

TEST(BatchPlan, OrderDependsOnSeedAndEpochOnly) {
  BatchPlan a(50, 8, 1), b(50, 8, 1), c(50, 8, 2);
  EXPECT_EQ(a.epoch_order(3), b.epoch_order(3));
  EXPECT_NE(a.epoch_order(3), a.epoch_order(4));
  EXPECT_NE(a.epoch_order(3), c.epoch_order(3));
}

}  // namespace
}  // namespace mlp
