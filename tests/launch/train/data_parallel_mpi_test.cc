// The real training loop under mpirun against a single-process run of the same config in the
// same test: equal parameters after 20 steps for each optimizer (batches the rank count does not
// divide, ranks left without samples), replicas bit-identical, every sample computed once per
// epoch, evaluation metrics independent of the rank count, overlap and sharded equal to blocking.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
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

constexpr int kTrainRows = 1001;  // prime to 2, 3 and 4: no rank count divides it
constexpr int kTestRows = 257;
constexpr int kFeatures = 12;

std::string data_path(const std::string& name) {
  return testing::TempDir() + "dp_mpi_" + name + ".csv";
}

class DataParallel : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (test_world().rank() == 0) {
      test::write_rows(data_path("train"), test::rule_rows(kTrainRows, kFeatures, 0, false));
      test::write_rows(data_path("test"), test::rule_rows(kTestRows, kFeatures, 1, false));
    }
    test_world().barrier();
  }

  static pb::TrainConfig config(const std::string& name, pb::OptimizerKind kind, float lr) {
    pb::TrainConfig c;
    c.mutable_data()->set_train_csv(data_path("train"));
    c.mutable_data()->set_test_csv(data_path("test"));
    c.mutable_data()->set_val_fraction(0.1f);
    c.mutable_model()->set_hidden("64,32");
    c.mutable_optimizer()->set_kind(kind);
    c.mutable_optimizer()->set_lr(lr);
    c.set_batch_size(30);
    c.set_epochs(100);
    c.set_max_steps(20);
    c.set_out_dir(testing::TempDir() + "dp_mpi_" + name);
    fill_defaults(&c);
    validate_config(c);
    return c;
  }
};

void expect_same_training(const TrainingResult& ranks, const TrainingResult& alone,
                          double tolerance) {
  EXPECT_EQ(ranks.steps_run, alone.steps_run);
  EXPECT_LE(relative_difference(ranks.parameters, alone.parameters), tolerance);
  ASSERT_EQ(ranks.optimizer_slots.size(), alone.optimizer_slots.size());
  for (size_t s = 0; s < ranks.optimizer_slots.size(); ++s)
    EXPECT_LE(relative_difference(ranks.optimizer_slots[s], alone.optimizer_slots[s]), tolerance)
        << "slot " << s;
}

TEST_F(DataParallel, TwentyStepsOfEachOptimizerMatchOneProcess) {
  const struct {
    const char* name;
    pb::OptimizerKind kind;
    float lr;
  } cases[] = {
      {"sgd", pb::SGD, 0.1f}, {"momentum", pb::MOMENTUM, 0.05f}, {"adam", pb::ADAM, 0.01f}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const pb::TrainConfig cfg = config(c.name, c.kind, c.lr);
    const TrainingResult ranks = run_training(cfg, test_world());
    const TrainingResult alone = train_alone(cfg);
    EXPECT_EQ(ranks.steps_run, 20);
    expect_same_training(ranks, alone, 1e-5);
    expect_bit_identical_on_all_ranks(ranks.parameters);
    for (const std::vector<float>& slot : ranks.optimizer_slots)
      expect_bit_identical_on_all_ranks(slot);
  }
}

TEST_F(DataParallel, BatchesSmallerThanTheRankCountLeaveRanksIdleButCorrect) {
  for (pb::GradSync sync : {pb::BLOCKING, pb::OVERLAP, pb::SHARDED}) {
    pb::TrainConfig cfg = config("tiny_batch", pb::ADAM, 0.01f);
    cfg.set_batch_size(3);
    cfg.set_grad_sync(sync);
    cfg.set_grad_bucket_kb(1);
    const TrainingResult ranks = run_training(cfg, test_world());
    expect_same_training(ranks, train_alone(cfg), 1e-5);
    expect_bit_identical_on_all_ranks(ranks.parameters);
  }
}

TEST_F(DataParallel, EveryTrainingSampleIsComputedOncePerEpoch) {
  pb::TrainConfig cfg = config("coverage", pb::SGD, 0.1f);
  cfg.mutable_data()->set_val_fraction(0);
  cfg.set_batch_size(64);  // 1001 = 15 * 64 + 41: the last batch is short
  cfg.set_epochs(1);
  cfg.set_max_steps(0);
  std::vector<float> computed(kTrainRows, 0.0f);
  int64_t steps = 0;
  TrainingHooks hooks;
  hooks.on_step = [&](int64_t, const int64_t* ids, int64_t count) {
    ++steps;
    for (int64_t i = 0; i < count; ++i) computed.at(static_cast<size_t>(ids[i])) += 1;
  };
  run_training(cfg, test_world(), hooks);
  EXPECT_EQ(steps, 16);
  test_world().allreduce_sum(computed.data(), computed.size());
  int64_t wrong = 0;
  for (float times : computed) wrong += times != 1.0f;
  EXPECT_EQ(wrong, 0) << "samples not computed exactly once over the ranks";
}

TEST_F(DataParallel, EvaluationMetricsDoNotDependOnTheRankCount) {
  pb::TrainConfig cfg = config("metrics", pb::SGD, 0.1f);
  cfg.set_epochs(1);
  cfg.set_max_steps(0);
  const TrainingResult ranks = run_training(cfg, test_world());
  const TrainingResult alone = train_alone(cfg);
  EXPECT_EQ(ranks.epochs_run, 1);
  EXPECT_LE(relative_difference(ranks.last_epoch.train_loss(), alone.last_epoch.train_loss()),
            1e-6);
  EXPECT_LE(relative_difference(ranks.last_epoch.val_loss(), alone.last_epoch.val_loss()), 1e-6);
  EXPECT_LE(relative_difference(ranks.test_loss, alone.test_loss), 1e-6);
  EXPECT_EQ(ranks.last_epoch.train_acc(), alone.last_epoch.train_acc());
  EXPECT_EQ(ranks.last_epoch.val_acc(), alone.last_epoch.val_acc());
  EXPECT_EQ(ranks.test_acc, alone.test_acc);
  EXPECT_GT(ranks.test_acc, 0.5);  // it learned something, so the comparison is not of noise
}

TEST_F(DataParallel, OverlappedSyncTrainsLikeBlocking) {
  pb::TrainConfig cfg = config("overlap", pb::ADAM, 0.01f);
  cfg.set_grad_bucket_kb(1);  // several buckets even for this small model
  const TrainingResult blocking = run_training(cfg, test_world());
  cfg.set_grad_sync(pb::OVERLAP);
  const TrainingResult overlap = run_training(cfg, test_world());
  EXPECT_LE(relative_difference(overlap.parameters, blocking.parameters), 1e-6);
  expect_bit_identical_on_all_ranks(overlap.parameters);
}

// Each rank updates its slice of the parameters and optimizer state, and applies max-norm there:
// the same numbers as every rank updating everything, bitwise where the sum over ranks is the
// same sum (two ranks: a + b in either order), and every rank ends with all of the state. Slices
// are multiples of 65,536 values (max-norm's pieces), so the model is wide enough for four: about
// 205,000 parameters, its second weight block cut between ranks.
TEST_F(DataParallel, ShardedSyncTrainsLikeBlocking) {
  for (pb::OptimizerKind kind : {pb::SGD, pb::MOMENTUM, pb::ADAM}) {
    SCOPED_TRACE(pb::OptimizerKind_Name(kind));
    pb::TrainConfig cfg = config("sharded", kind, 0.01f);
    cfg.mutable_model()->set_hidden("512,384");
    cfg.mutable_model()->set_max_norm(0.8f);
    cfg.mutable_optimizer()->set_weight_decay(0.001f);
    const TrainingResult blocking = run_training(cfg, test_world());
    cfg.set_grad_sync(pb::SHARDED);
    const TrainingResult sharded = run_training(cfg, test_world());
    ASSERT_EQ(sharded.optimizer_slots.size(), blocking.optimizer_slots.size());
    if (test_world().size() <= 2) {
      EXPECT_EQ(sharded.parameters, blocking.parameters);
      EXPECT_EQ(sharded.optimizer_slots, blocking.optimizer_slots);
    } else {
      EXPECT_LE(relative_difference(sharded.parameters, blocking.parameters), 1e-6);
    }
    expect_bit_identical_on_all_ranks(sharded.parameters);
    for (const std::vector<float>& slot : sharded.optimizer_slots)
      expect_bit_identical_on_all_ranks(slot);
  }
}

}  // namespace
}  // namespace mlp
