// Rank 0's console lines: the epoch line shows the metrics present in the record with their
// console_format, and a disabled console (any other rank) prints nothing.
#include "launch/train/console.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace mlp {
namespace {

std::string printed(const std::function<void()>& print) {
  testing::internal::CaptureStdout();
  print();
  return testing::internal::GetCapturedStdout();
}

pb::EpochMetrics regression_epoch() {
  pb::EpochMetrics m;
  m.set_epoch(3);
  m.set_train_loss(0.25);
  m.set_samples_per_second(1234);
  m.set_epoch_seconds(1.25);
  m.set_learning_rate(0.01);
  return m;
}

TEST(Console, EpochLineShowsTheMetricsPresent) {
  const Console console(true);
  pb::EpochMetrics m = regression_epoch();
  EXPECT_EQ(printed([&] { console.epoch(m, 10); }),
            "epoch   3/10  train loss 0.2500  1234 samples/s  1.2 s\n");
  m.set_train_acc(0.9);
  m.set_val_loss(0.5);
  m.set_val_acc(0.8);
  EXPECT_EQ(printed([&] { console.epoch(m, 10); }),
            "epoch   3/10  train loss 0.2500 acc 0.9000  val loss 0.5000 acc 0.8000  1234 "
            "samples/s  1.2 s\n");
}

// Every console_format of the record is text with one conversion of a real, so that printf is
// given what it reads.
TEST(Console, EveryConsoleFormatFormatsOneReal) {
  const Console console(true);
  pb::EpochMetrics m = regression_epoch();
  const google::protobuf::Descriptor* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i)
    if (d->field(i)->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_DOUBLE)
      m.GetReflection()->SetDouble(&m, d->field(i), 1);
  EXPECT_NO_THROW(printed([&] { console.epoch(m, 10); }));
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
              console.epoch(regression_epoch(), 1);
              console.early_stop(4, "val_loss", 2, 2);
              console.restored(2);
              console.test(0.5, 0.9, true);
            }),
            "");
}

}  // namespace
}  // namespace mlp
