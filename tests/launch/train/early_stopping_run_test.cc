// How a run of the real trainer binary ends early: by early stopping (the run folder reports it,
// metrics.csv obeys the documented rule, a resume inside the patience window continues the
// count) and by a non-finite loss (exit 4 alone and under mpirun, no non-finite checkpoint).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "core/batch_plan.h"
#include "core/record_csv.h"
#include "tests/launch/process_run.h"
#include "tests/launch/run_records.h"
#include "tests/support/synthetic_data.h"

namespace {

constexpr int kFeatures = 8;
constexpr int kTrainRows = 160;
constexpr int kBatch = 17;
constexpr int kPatience = 3;

using Result = mlp::test::Run;
using mlp::test::number;
using mlp::test::slurp;

std::string fresh_dir(const std::string& name) { return mlp::test::fresh_test_dir("es_run", name); }

// command is a whole shell command (the trainer alone or under mpirun); output kept in log_dir.
Result run(const std::string& command, const std::string& log_dir) {
  return mlp::test::run_binary(command, "", log_dir + "/run");
}

std::string trainer_flags(const std::string& data_dir, const std::string& out) {
  return " --train-csv " + data_dir + "/train.csv --test-csv " + data_dir +
         "/test.csv --val-fraction 0.25" + " --hidden 64 --lr 0.005 --batch-size " +
         std::to_string(kBatch) + " --epochs 60" + " --early-stopping-patience " +
         std::to_string(kPatience) + " --keep-last 100 --progress none --out " + out;
}

std::string write_data(const std::string& dir) {
  mlp::test::write_rows(dir + "/train.csv", mlp::test::rule_rows(kTrainRows, kFeatures, 0, true));
  mlp::test::write_rows(dir + "/test.csv", mlp::test::rule_rows(200, kFeatures, 1, true));
  return dir;
}

// README's rule on val_loss with min_delta 0 and no start epoch, written out independently.
struct Expected {
  int best_epoch = 0, stopped_epoch = 0;
};
Expected apply_documented_rule(const std::vector<mlp::pb::EpochMetrics>& rows, int patience) {
  Expected e;
  double best = 0;
  int wait = 0;
  for (const mlp::pb::EpochMetrics& r : rows) {
    if (e.best_epoch == 0 || r.val_loss() < best) {
      best = r.val_loss();
      e.best_epoch = r.epoch();
      wait = 0;
    } else if (++wait >= patience) {
      e.stopped_epoch = r.epoch();
      break;
    }
  }
  return e;
}

// The checkpoint written at the end of `epoch`, from the checkpoint_saved events.
std::string epoch_checkpoint(const std::string& run_dir, int epoch) {
  int seen = 0;
  for (const mlp::pb::Event& e : mlp::test::read_events(run_dir))
    if (e.event() == "checkpoint_saved" && e.reason() == "epoch" && ++seen == epoch)
      return e.path();
  return "";
}

TEST(EarlyStoppingRun, RunFolderReportsTheStopThatTheDocumentedRuleGives) {
  const std::string dir = write_data(fresh_dir("data"));
  const std::string out = dir + "/run";
  const Result r = run(std::string(MLP_TRAINER_PATH) + trainer_flags(dir, out), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const std::vector<mlp::pb::EpochMetrics> rows =
      mlp::read_csv_records<mlp::pb::EpochMetrics>(out + "/metrics.csv");
  const Expected expected = apply_documented_rule(rows, kPatience);
  ASSERT_GT(expected.stopped_epoch, 0) << "the config must stop early";
  EXPECT_EQ(static_cast<int>(rows.size()), expected.stopped_epoch) << "epochs ran past the stop";

  const mlp::pb::Summary summary = mlp::test::read_summary(out);
  EXPECT_EQ(number(summary.best_epoch()), expected.best_epoch) << summary.DebugString();
  EXPECT_EQ(number(summary.stopped_epoch()), expected.stopped_epoch) << summary.DebugString();
  EXPECT_EQ(summary.epochs_run(), expected.stopped_epoch) << summary.DebugString();
  EXPECT_TRUE(summary.restored_best()) << summary.DebugString();
  // The kept model is the best epoch's, not the last one's (metrics.csv has 6 digits).
  const mlp::pb::EpochMetrics& best = rows[expected.best_epoch - 1];
  EXPECT_EQ(summary.kept_epoch().epoch(), expected.best_epoch);
  EXPECT_NEAR(summary.kept_epoch().val_loss(), best.val_loss(), 1e-5 * best.val_loss());
  EXPECT_NEAR(summary.kept_epoch().val_acc(), best.val_acc(), 1e-6);
  EXPECT_NE(summary.kept_epoch().val_loss(), rows.back().val_loss());

  int early_stops = 0;
  for (const mlp::pb::Event& e : mlp::test::read_events(out)) {
    if (e.event() != "early_stop") continue;
    ++early_stops;
    EXPECT_EQ(e.epoch(), expected.stopped_epoch);
    EXPECT_EQ(e.best_epoch(), expected.best_epoch);
  }
  EXPECT_EQ(early_stops, 1) << slurp(out + "/events.jsonl");
}

TEST(EarlyStoppingRun, ResumeInsideThePatienceWindowStopsAtTheSameEpoch) {
  const std::string dir = write_data(fresh_dir("data"));
  const std::string straight = dir + "/straight", resumed = dir + "/resumed";
  const Result a = run(std::string(MLP_TRAINER_PATH) + trainer_flags(dir, straight), dir);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  mlp::pb::Summary summary_a = mlp::test::read_summary(straight);
  const int best_epoch = static_cast<int>(number(summary_a.best_epoch()));
  const int stopped_epoch = static_cast<int>(number(summary_a.stopped_epoch()));
  // After the best epoch, so the wait count is already running when the run is cut.
  const int cut_epoch = best_epoch + 1;
  ASSERT_LT(cut_epoch, stopped_epoch);
  const std::string checkpoint = epoch_checkpoint(straight, cut_epoch);
  ASSERT_TRUE(std::filesystem::exists(checkpoint)) << "no checkpoint of epoch " << cut_epoch;

  const Result b = run(
      std::string(MLP_TRAINER_PATH) + trainer_flags(dir, resumed) + " --resume " + checkpoint, dir);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(
      b.out.find("resuming from " + checkpoint + " at epoch " + std::to_string(cut_epoch + 1)),
      std::string::npos)
      << b.out;
  // The same outcome, timings, memory and how the backend was chosen (the resumed run keeps
  // the checkpoint's) aside; the kept epoch came before the cut, so its record, timings too, is
  // the checkpoint's.
  mlp::pb::Summary summary_b = mlp::test::read_summary(resumed);
  for (mlp::pb::Summary* s : {&summary_a, &summary_b}) {
    for (const char* timing :
         {"samples_per_second", "wall_seconds", "total_wall_seconds", "gemm_gflops", "peak_rss_mb",
          "gemm_choice", "gemm_choice_file"})
      s->GetReflection()->ClearField(s, s->GetDescriptor()->FindFieldByName(timing));
    s->clear_config();
  }
  EXPECT_EQ(summary_b.DebugString(), summary_a.DebugString());
}

// The trainer on a training set with one row of features near FLT_MAX, placed last in global
// batch kStep of the first epoch (whose last sample the shards give to the last rank), run with
// a checkpoint after every step.
void expect_non_finite_stop(int ranks) {
  constexpr int kStep = 3;
  const std::string dir = fresh_dir("np" + std::to_string(ranks));
  const std::vector<int64_t> order = mlp::BatchPlan(kTrainRows, kBatch, 1).epoch_order(0);
  std::vector<std::string> rows = mlp::test::rule_rows(kTrainRows, kFeatures, 0, true);
  std::string& bad = rows[order.at(kStep * kBatch + kBatch - 1)];
  bad = "1";
  for (int f = 0; f < kFeatures; ++f) bad += ",3e38";
  mlp::test::write_rows(dir + "/train.csv", rows);
  const std::string checkpoints = dir + "/run/checkpoints";
  // --val-fraction 0: the training split is the file in order, as indexed above.
  const std::string trainer =
      std::string(MLP_TRAINER_PATH) + " --train-csv " + dir +
      "/train.csv --val-fraction 0 --hidden 64 --lr 0.005 --batch-size " + std::to_string(kBatch) +
      " --checkpoint-every-steps 1 --keep-last 100" + " --progress none --out " + dir + "/run";
  // Open MPI refuses to start as root without these; set for this test only.
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  const Result r = run(
      ranks == 1 ? trainer : "mpirun -np " + std::to_string(ranks) + " --oversubscribe " + trainer,
      dir);

  EXPECT_EQ(r.exit_code, 4) << r.err;
  // Under mpirun rank 0 speaks for all, prefixing the failing rank; mpirun adds its own notice.
  std::vector<std::string> errors;
  std::stringstream lines(r.err);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("trainer: error: ", 0) == 0) errors.push_back(line);
  EXPECT_EQ(errors.size(), 1u) << r.err;
  const std::string rank = ranks > 1 ? "rank " + std::to_string(ranks - 1) + ": " : "";
  for (const std::string& error : errors)
    EXPECT_EQ(error, "trainer: error: " + rank + "non-finite loss or gradient at epoch 1, step " +
                         std::to_string(kStep) + "; lower --lr or check the data");

  // The steps before the bad one were checkpointed, and none of those holds a non-finite value.
  int inspected = 0;
  for (const auto& entry : std::filesystem::directory_iterator(checkpoints)) {
    const Result inspect =
        run(std::string(MLP_TRAINER_PATH) + " inspect " + entry.path().string(), dir);
    EXPECT_EQ(inspect.exit_code, 0) << entry.path() << ": " << inspect.err;
    EXPECT_NE(inspect.out.find("valid checkpoint"), std::string::npos) << inspect.out;
    EXPECT_EQ(inspect.out.find("NON-FINITE"), std::string::npos) << inspect.out;
    ++inspected;
  }
  EXPECT_EQ(inspected, kStep);
}

TEST(NonFiniteRun, OverflowStopsARunAloneWithExitFour) { expect_non_finite_stop(1); }

TEST(NonFiniteRun, OverflowStopsTwoRanksWithExitFour) { expect_non_finite_stop(2); }

}  // namespace
