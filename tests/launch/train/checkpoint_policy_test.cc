// Checkpoint cadence: every N global steps, at the end of completed epochs, and a step that ends
// an epoch is not saved twice.
#include "launch/train/checkpoint_policy.h"

#include <gtest/gtest.h>

namespace mlp {
namespace {

CheckpointPolicy policy(int64_t every_steps, bool every_epoch) {
  pb::TrainConfig c;
  c.set_checkpoint_every_steps(every_steps);
  c.set_checkpoint_every_epoch(every_epoch);
  return CheckpointPolicy(c);
}

TEST(CheckpointPolicy, EveryNStepsCountsGlobalSteps) {
  const CheckpointPolicy p = policy(3, false);
  EXPECT_FALSE(p.after_step(1, false));
  EXPECT_FALSE(p.after_step(2, false));
  EXPECT_TRUE(p.after_step(3, false));
  EXPECT_TRUE(p.after_step(6, true));  // no epoch checkpoint follows
  EXPECT_FALSE(p.after_epoch(true));
}

TEST(CheckpointPolicy, AStepEndingAnEpochLeavesItToTheEpochCheckpoint) {
  const CheckpointPolicy p = policy(3, true);
  EXPECT_TRUE(p.after_step(3, false));
  EXPECT_FALSE(p.after_step(6, true));
  EXPECT_TRUE(p.after_epoch(true));
}

TEST(CheckpointPolicy, AnEpochCutShortIsNotAnEpochCheckpoint) {
  EXPECT_FALSE(policy(0, true).after_epoch(false));
  EXPECT_TRUE(policy(0, true).after_epoch(true));
}

TEST(CheckpointPolicy, ZeroStepsMeansNoStepCheckpoints) {
  const CheckpointPolicy p = policy(0, true);
  for (int64_t step = 1; step < 10; ++step) EXPECT_FALSE(p.after_step(step, false)) << step;
}

}  // namespace
}  // namespace mlp
