// Dropout, early stopping and non-finite detection of the real training loop under mpirun,
// against single-process runs of the same config: the same masks, the same stop and best epoch
// and the same restored weights at any rank count, and one agreed error for a non-finite step.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/batch_plan.h"
#include "core/errors.h"
#include "dist/agreement.h"
#include "core/config_fields.h"
#include "launch/train/train_loop.h"
#include "launch/train/trainer_options.h"
#include "tests/launch/replica_checks.h"
#include "tests/launch/run_records.h"
#include "tests/support/mpi_test_env.h"
#include "tests/support/synthetic_data.h"

namespace mlp {
namespace {

constexpr int kFeatures = 8;

std::string temp_path(const std::string& name) { return testing::TempDir() + "des_mpi_" + name; }

constexpr int kTrainRows = 160;
constexpr int kBatch = 17;  // prime: no rank count divides it, and 120 % 17 leaves a 1-sample batch

class DropoutEarlyStopping : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (test_world().rank() == 0) {
      test::write_rows(temp_path("train.csv"), test::rule_rows(kTrainRows, kFeatures, 0, true));
      test::write_rows(temp_path("test.csv"), test::rule_rows(200, kFeatures, 1, true));
    }
    test_world().barrier();
  }

  static pb::TrainConfig config(const std::string& name) {
    pb::TrainConfig c;
    c.mutable_data()->set_train_csv(temp_path("train.csv"));
    c.mutable_data()->set_test_csv(temp_path("test.csv"));
    c.mutable_data()->set_val_fraction(0.25f);
    c.mutable_model()->set_hidden("64");
    c.mutable_optimizer()->set_lr(0.005f);
    c.set_batch_size(kBatch);
    c.set_epochs(60);
    c.set_out_dir(temp_path(name));
    c.set_progress(pb::NONE);
    fill_defaults(&c);
    validate_config(c);
    return c;
  }
};

TEST_F(DropoutEarlyStopping, DropoutMasksDoNotDependOnTheRankCount) {
  // Masks are keyed by the global sample index: a rank keying them by its position in its own
  // shard would draw different masks at every rank count but one.
  pb::TrainConfig cfg = config("dropout");
  cfg.mutable_data()->set_val_fraction(0.1f);
  cfg.mutable_model()->set_hidden("64,32");
  cfg.mutable_model()->set_input_dropout(0.2f);
  cfg.mutable_model()->set_dropout(0.5f);
  cfg.mutable_optimizer()->set_lr(0.01f);
  cfg.set_batch_size(29);  // prime: every rank count from 2 leaves a remainder
  cfg.set_max_steps(20);
  const TrainingResult ranks = run_training(cfg, test_world());
  const TrainingResult alone = train_alone(cfg);
  EXPECT_EQ(ranks.steps_run, 20);
  EXPECT_LE(relative_difference(ranks.parameters, alone.parameters), 1e-5);
  expect_bit_identical_on_all_ranks(ranks.parameters);

  // Without dropout the same steps end elsewhere: the comparison above is of masked training.
  cfg.mutable_model()->set_input_dropout(0);
  cfg.mutable_model()->set_dropout(0);
  EXPECT_GT(relative_difference(train_alone(cfg).parameters, alone.parameters), 1e-3);
}

TEST_F(DropoutEarlyStopping, StopEpochBestEpochAndRestoredWeightsDoNotDependOnTheRankCount) {
  pb::TrainConfig cfg = config("early_stop");
  // Constant, so a run of best_epoch epochs takes the same steps as the early-stopped run did.
  cfg.mutable_optimizer()->set_lr_schedule(pb::CONSTANT);
  cfg.mutable_early_stopping()->set_patience(3);
  const TrainingResult ranks = run_training(cfg, test_world());
  const TrainingResult alone = train_alone(cfg);

  ASSERT_GT(ranks.stopped_epoch, 0) << "the config must stop early";
  EXPECT_LT(ranks.stopped_epoch, cfg.epochs());
  EXPECT_EQ(ranks.stopped_epoch, alone.stopped_epoch);
  EXPECT_EQ(ranks.best_epoch, alone.best_epoch);
  EXPECT_EQ(ranks.stopped_epoch - ranks.best_epoch, 3);
  EXPECT_EQ(ranks.epochs_run, ranks.stopped_epoch);
  EXPECT_TRUE(ranks.restored_best);
  EXPECT_TRUE(alone.restored_best);
  EXPECT_LE(relative_difference(ranks.parameters, alone.parameters), 1e-5);
  expect_bit_identical_on_all_ranks(ranks.parameters);
  EXPECT_LE(std::abs(ranks.test_loss - alone.test_loss), 1e-6 * alone.test_loss);
  EXPECT_EQ(ranks.test_acc, alone.test_acc);

  // The kept model is the best epoch's: summary.json reports that epoch's validation metrics...
  const pb::EpochMetrics& best = ranks.history.at(ranks.best_epoch - 1);
  if (test_world().rank() == 0) {
    const pb::Summary summary = test::read_summary(cfg.out_dir());
    EXPECT_EQ(summary.kept_epoch().SerializeAsString(), best.SerializeAsString())
        << summary.DebugString();
    EXPECT_EQ(test::number(summary.best_epoch()), ranks.best_epoch);
    EXPECT_EQ(test::number(summary.stopped_epoch()), ranks.stopped_epoch);
  }
  // ...and its weights are bit for bit those of a run that ended at the best epoch.
  pb::TrainConfig until_best = cfg;
  until_best.set_epochs(ranks.best_epoch);
  until_best.mutable_early_stopping()->set_patience(0);
  until_best.set_out_dir(temp_path("until_best"));
  const TrainingResult shorter = run_training(until_best, test_world());
  EXPECT_EQ(shorter.last_epoch.val_loss(), best.val_loss());
  EXPECT_TRUE(shorter.parameters == ranks.parameters)
      << "restored weights are not the best epoch's";
}

TEST_F(DropoutEarlyStopping, NonFiniteStepStopsEveryRankWithOneAgreedError) {
  // One row of features near FLT_MAX overflows the forward pass. It is placed last in batch 3
  // of the first epoch, whose last sample the shards give to the last rank.
  constexpr int kStep = 3;
  pb::TrainConfig cfg = config("non_finite");
  const std::vector<int64_t> order = BatchPlan(kTrainRows, kBatch, cfg.seed()).epoch_order(0);
  const int64_t bad_row = order.at(kStep * kBatch + kBatch - 1);
  const std::string path = temp_path("overflow_train.csv");
  if (test_world().rank() == 0) {
    std::vector<std::string> rows = test::rule_rows(kTrainRows, kFeatures, 0, true);
    rows[bad_row] = "1";
    for (int f = 0; f < kFeatures; ++f) rows[bad_row] += ",3e38";
    test::write_rows(path, rows);
  }
  test_world().barrier();
  cfg.mutable_data()->set_train_csv(path);
  cfg.mutable_data()->set_val_fraction(0);  // the training split is then the file in order
  const int last_rank = test_world().size() - 1;
  try {
    run_training(cfg, test_world());
    ADD_FAILURE() << "training went on past a non-finite loss";
  } catch (const AgreedError& e) {
    EXPECT_EQ(e.code(), ExitCode::kNonFinite);
    // The failing rank is named once, by the agreement, and only when there are several.
    const std::string rank = last_rank > 0 ? "rank " + std::to_string(last_rank) + ": " : "";
    EXPECT_EQ(std::string(e.what()), rank + "non-finite loss or gradient at epoch 1, step " +
                                         std::to_string(kStep) + "; lower --lr or check the data");
  }
}

}  // namespace
}  // namespace mlp
