// The pause rule: a run pauses once its pause epoch is complete, also when resumed past it, but
// never at or after its last epoch, and never without a pause epoch.
#include "launch/train/pause_policy.h"

#include <gtest/gtest.h>

namespace mlp {
namespace {

PausePolicy policy(int pause_after_epoch, int epochs) {
  pb::TrainConfig c;
  c.set_pause_after_epoch(pause_after_epoch);
  c.set_epochs(epochs);
  return PausePolicy(c);
}

TEST(PausePolicy, PausesOnceThePauseEpochIsCompleteAndMoreRemain) {
  const PausePolicy p = policy(3, 9);
  EXPECT_FALSE(p.pauses(0));
  EXPECT_FALSE(p.pauses(2));
  EXPECT_TRUE(p.pauses(3));
  // Resumed from a checkpoint past the pause epoch: it pauses at once.
  EXPECT_TRUE(p.pauses(5));
  EXPECT_FALSE(p.pauses(9));
}

TEST(PausePolicy, APauseAtOrAfterTheLastEpochIsNone) {
  EXPECT_FALSE(policy(9, 9).pauses(9));
  EXPECT_FALSE(policy(12, 9).pauses(9));
  EXPECT_TRUE(policy(8, 9).pauses(8));
}

TEST(PausePolicy, ZeroMeansNoPause) {
  const PausePolicy p = policy(0, 9);
  for (int completed = 0; completed <= 9; ++completed) EXPECT_FALSE(p.pauses(completed));
}

}  // namespace
}  // namespace mlp
