// The exact mode of the real training loop under mpirun (--exact-blocks 6), against one process
// alone: with dropout on inputs and hidden layers, max-norm, a batch the blocks do not divide and
// a last batch smaller than the block count, every rank count trains bitwise the same parameters,
// optimizer state and metrics (train, validation and test), in every gradient sync, for
// classification and regression; and the step computes each of its samples once.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/config_fields.h"
#include "launch/train/train_loop.h"
#include "launch/train/trainer_options.h"
#include "tests/launch/replica_checks.h"
#include "tests/support/mpi_test_env.h"
#include "tests/support/synthetic_data.h"

namespace mlp {
namespace {

constexpr int kTrainRows = 1001;  // 900 after the validation split: 28 batches of 32 and one of 4
constexpr int kFeatures = 12;

std::string data_path(const std::string& name) {
  return testing::TempDir() + "exact_mpi_" + name + ".csv";
}

class ExactBlocks : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (test_world().rank() == 0) {
      test::write_rows(data_path("train"), test::rule_rows(kTrainRows, kFeatures, 0, true));
      test::write_rows(data_path("test"), test::rule_rows(300, kFeatures, 1, true));
      test::write_rows(data_path("regression"), test::regression_rows(500, kFeatures, 2));
    }
    test_world().barrier();
  }

  static pb::TrainConfig config(const std::string& name) {
    pb::TrainConfig c;
    c.mutable_data()->set_train_csv(data_path("train"));
    c.mutable_data()->set_test_csv(data_path("test"));
    c.mutable_data()->set_val_fraction(0.1f);
    c.mutable_model()->set_hidden("48,40");
    c.mutable_model()->set_input_dropout(0.2f);
    c.mutable_model()->set_dropout(0.3f);
    c.mutable_model()->set_max_norm(2.0f);
    c.mutable_optimizer()->set_lr(0.01f);
    c.set_batch_size(32);
    c.set_exact_blocks(6);
    c.set_epochs(2);
    c.set_gemm("eigen");
    c.set_progress(pb::NONE);
    c.set_out_dir(testing::TempDir() + "exact_mpi_" + name);
    fill_defaults(&c);
    validate_config(c);
    return c;
  }
};

template <typename T>
::testing::AssertionResult same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << "sizes differ";
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0)
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs " << b[i];
  return ::testing::AssertionSuccess();
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

void expect_same_bits(const TrainingResult& ranks, const TrainingResult& alone) {
  EXPECT_EQ(ranks.steps_run, alone.steps_run);
  EXPECT_TRUE(same_bits(ranks.parameters, alone.parameters));
  ASSERT_EQ(ranks.optimizer_slots.size(), alone.optimizer_slots.size());
  for (size_t s = 0; s < alone.optimizer_slots.size(); ++s)
    EXPECT_TRUE(same_bits(ranks.optimizer_slots[s], alone.optimizer_slots[s])) << "slot " << s;
  ASSERT_EQ(ranks.history.size(), alone.history.size());
  for (size_t e = 0; e < alone.history.size(); ++e) {
    const pb::EpochMetrics &r = ranks.history[e], &a = alone.history[e];
    EXPECT_TRUE(same_bits(r.train_loss(), a.train_loss())) << "epoch " << e + 1;
    EXPECT_TRUE(same_bits(r.train_acc(), a.train_acc())) << "epoch " << e + 1;
    EXPECT_TRUE(same_bits(r.val_loss(), a.val_loss())) << "epoch " << e + 1;
    EXPECT_TRUE(same_bits(r.val_acc(), a.val_acc())) << "epoch " << e + 1;
    EXPECT_TRUE(same_bits(r.learning_rate(), a.learning_rate())) << "epoch " << e + 1;
  }
  EXPECT_TRUE(same_bits(ranks.test_loss, alone.test_loss));
  EXPECT_TRUE(same_bits(ranks.test_acc, alone.test_acc));
}

}  // namespace

TEST_F(ExactBlocks, EveryRankCountTrainsTheBitsOfOneProcess) {
  const pb::TrainConfig cfg = config("dropout");
  const TrainingResult ranks = run_training(cfg, test_world());
  EXPECT_EQ(ranks.steps_run, 58);
  expect_same_bits(ranks, train_alone(cfg));
  expect_bit_identical_on_all_ranks(ranks.parameters);
}

TEST_F(ExactBlocks, EveryGradientSyncGivesTheSameBits) {
  pb::TrainConfig cfg = config("syncs");
  cfg.set_epochs(1);
  cfg.set_max_steps(10);
  const TrainingResult alone = train_alone(cfg);
  for (pb::GradSync sync : {pb::SHARDED, pb::BLOCKING, pb::OVERLAP}) {
    SCOPED_TRACE(field_text(cfg, "grad_sync"));
    cfg.set_grad_sync(sync);
    expect_same_bits(run_training(cfg, test_world()), alone);
  }
}

TEST_F(ExactBlocks, RegressionTargetsAreCutWithTheirBlocks) {
  pb::TrainConfig cfg = config("regression");
  cfg.mutable_data()->set_train_csv(data_path("regression"));
  cfg.mutable_data()->set_test_csv("");
  cfg.mutable_data()->set_csv_targets(2);
  cfg.mutable_model()->set_loss(pb::SQUARED_ERROR);
  cfg.set_batch_size(20);
  cfg.set_exact_blocks(4);
  expect_same_bits(run_training(cfg, test_world()), train_alone(cfg));
}

TEST_F(ExactBlocks, EverySampleOfAStepIsComputedOnceOverTheRanks) {
  pb::TrainConfig cfg = config("coverage");
  cfg.mutable_data()->set_val_fraction(0);
  cfg.set_epochs(1);
  std::vector<float> computed(kTrainRows, 0.0f);
  TrainingHooks hooks;
  hooks.on_step = [&](int64_t, const int64_t* ids, int64_t count) {
    for (int64_t i = 0; i < count; ++i) computed.at(static_cast<size_t>(ids[i])) += 1;
  };
  run_training(cfg, test_world(), hooks);
  test_world().allreduce_sum(computed.data(), computed.size());
  int64_t wrong = 0;
  for (float times : computed) wrong += times != 1.0f;
  EXPECT_EQ(wrong, 0);
}

}  // namespace mlp
