// Rank 0's console lines: the epoch line drops the columns that do not apply, and a disabled
// console (any other rank) prints nothing.
#include "launch/train/console.h"

#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <string>

namespace mlp {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

std::string printed(const std::function<void()>& print) {
  testing::internal::CaptureStdout();
  print();
  return testing::internal::GetCapturedStdout();
}

TEST(Console, EpochLineShowsAccuracyAndValidationOnlyWhenTheyApply) {
  const Console console(true);
  const EpochMetrics m{3, 0.25, 0.9, 0.5, 0.8, 1234, 1.25, 0.01};
  EXPECT_EQ(printed([&] { console.epoch(m, 10, true, true); }),
            "epoch   3/10  train loss 0.2500 acc 0.9000  val loss 0.5000 acc 0.8000  1234 "
            "samples/s  1.2 s\n");
  const EpochMetrics regression{3, 0.25, kNan, kNan, kNan, 1234, 1.25, 0.01};
  EXPECT_EQ(printed([&] { console.epoch(regression, 10, false, false); }),
            "epoch   3/10  train loss 0.2500  1234 samples/s  1.2 s\n");
}

TEST(Console, BannerAndResumeLines) {
  const Console console(true);
  pb::TrainConfig c;
  c.mutable_model()->set_inputs(784);
  c.mutable_model()->set_hidden("256,128");
  c.mutable_model()->set_outputs(10);
  c.set_batch_size(128);
  EXPECT_EQ(printed([&] { console.banner(c, 54000, 6000, 10000, 235146, 2); }),
            "training 784-256-128-10 on 54000 samples (6000 validation, 10000 test), 235146 "
            "parameters, 2 ranks, global batch 128\n");
  EXPECT_EQ(printed([&] { console.resumed("ckpt.pb", 1, 4, 21, 1); }),
            "resuming from ckpt.pb at epoch 2, step 4 (global step 21), saved by 1 rank\n");
}

TEST(Console, DisabledPrintsNothing) {
  const Console console(false);
  EXPECT_EQ(printed([&] {
              console.epoch(EpochMetrics{}, 1, true, true);
              console.early_stop(4, "val_loss", 2, 2);
              console.restored(2);
              console.test(0.5, 0.9, true);
            }),
            "");
}

}  // namespace
}  // namespace mlp
