// Learning-rate schedules against hand-computed values, and the refusal of an unknown one.
#include "core/lr_schedule.h"

#include <gtest/gtest.h>

#include "core/errors.h"

namespace mlp {
namespace {

pb::OptimizerConfig config(pb::LrSchedule schedule, int64_t warmup, float final_fraction) {
  pb::OptimizerConfig c;
  c.set_lr(0.1f);
  c.set_lr_schedule(schedule);
  c.set_warmup_steps(warmup);
  c.set_final_lr_fraction(final_fraction);
  return c;
}

TEST(LrSchedule, ConstantIsTheRateAfterWarmUp) {
  const pb::OptimizerConfig c = config(pb::CONSTANT, 4, 0);
  EXPECT_FLOAT_EQ(learning_rate(c, 0, 100), 0.025f);
  EXPECT_FLOAT_EQ(learning_rate(c, 3, 100), 0.1f);
  EXPECT_FLOAT_EQ(learning_rate(c, 99, 100), 0.1f);
}

TEST(LrSchedule, CosineGoesFromTheRateToTheFinalFraction) {
  const pb::OptimizerConfig c = config(pb::COSINE, 0, 0.1f);
  EXPECT_FLOAT_EQ(learning_rate(c, 0, 11), 0.1f);
  EXPECT_FLOAT_EQ(learning_rate(c, 5, 11), 0.1f * (0.1f + 0.9f * 0.5f));  // halfway: cos = 0
  EXPECT_FLOAT_EQ(learning_rate(c, 10, 11), 0.01f);
  EXPECT_FLOAT_EQ(learning_rate(c, 50, 11), 0.01f);  // past the end: stays at the floor
}

TEST(LrSchedule, CosineStartsAfterWarmUp) {
  const pb::OptimizerConfig c = config(pb::COSINE, 2, 0);
  EXPECT_FLOAT_EQ(learning_rate(c, 0, 12), 0.05f);
  EXPECT_FLOAT_EQ(learning_rate(c, 1, 12), 0.1f);
  EXPECT_FLOAT_EQ(learning_rate(c, 2, 12), 0.1f);
  EXPECT_NEAR(learning_rate(c, 11, 12), 0.0f, 1e-9);
}

TEST(LrSchedule, EveryConfigValueHasAScheduleAndOthersAreRefused) {
  const google::protobuf::EnumDescriptor* values = pb::LrSchedule_descriptor();
  for (int i = 0; i < values->value_count(); ++i)
    EXPECT_GT(
        learning_rate(config(static_cast<pb::LrSchedule>(values->value(i)->number()), 0, 0), 0, 10),
        0.0f);
  try {
    learning_rate(config(static_cast<pb::LrSchedule>(99), 0, 0), 0, 10);
    FAIL() << "no error for an unknown schedule";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "--lr-schedule: no schedule is built for 99");
  }
}

}  // namespace
}  // namespace mlp
