// How a run of the real trainer binary ends early: by early stopping (the run folder reports it,
// metrics.csv obeys the documented rule, a resume inside the patience window continues the
// count) and by a non-finite loss (exit 4 alone and under mpirun, no non-finite checkpoint).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/batch_plan.h"
#include "tests/launch/process_run.h"
#include "tests/support/synthetic_data.h"

namespace {

constexpr int kFeatures = 8;
constexpr int kTrainRows = 160;
constexpr int kBatch = 17;
constexpr int kPatience = 3;

using Result = mlp::test::Run;
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

// The text of a top-level number of summary.json ("null" included), as written.
std::string summary_text(const std::string& summary, const std::string& key) {
  const size_t at = summary.find("\"" + key + "\": ");
  if (at == std::string::npos) return "<" + key + " missing>";
  const size_t begin = at + key.size() + 4;
  return summary.substr(begin, summary.find_first_of(",\n", begin) - begin);
}

struct MetricsRow {
  int epoch = 0;
  double val_loss = 0, val_acc = 0;
};

std::vector<MetricsRow> read_metrics(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  std::vector<MetricsRow> rows;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream s(line);
    for (std::string f; std::getline(s, f, ',');) fields.push_back(f);
    if (fields.size() < 5) {
      ADD_FAILURE() << "short metrics row: " << line;
      continue;
    }
    rows.push_back({std::stoi(fields[0]), std::stod(fields[3]), std::stod(fields[4])});
  }
  return rows;
}

// README's rule on val_loss with min_delta 0 and no start epoch, written out independently.
struct Expected {
  int best_epoch = 0, stopped_epoch = 0;
};
Expected apply_documented_rule(const std::vector<MetricsRow>& rows, int patience) {
  Expected e;
  double best = 0;
  int wait = 0;
  for (const MetricsRow& r : rows) {
    if (e.best_epoch == 0 || r.val_loss < best) {
      best = r.val_loss;
      e.best_epoch = r.epoch;
      wait = 0;
    } else if (++wait >= patience) {
      e.stopped_epoch = r.epoch;
      break;
    }
  }
  return e;
}

// The checkpoint written at the end of `epoch`, from the checkpoint_saved events.
std::string epoch_checkpoint(const std::string& events, int epoch) {
  std::stringstream s(events);
  int seen = 0;
  for (std::string line; std::getline(s, line);) {
    if (line.find("\"event\": \"checkpoint_saved\"") == std::string::npos ||
        line.find("\"reason\": \"epoch\"") == std::string::npos || ++seen != epoch)
      continue;
    const size_t begin = line.find("\"path\": \"") + 9;
    return line.substr(begin, line.find('"', begin) - begin);
  }
  return "";
}

TEST(EarlyStoppingRun, RunFolderReportsTheStopThatTheDocumentedRuleGives) {
  const std::string dir = write_data(fresh_dir("data"));
  const std::string out = dir + "/run";
  const Result r = run(std::string(MLP_TRAINER_PATH) + trainer_flags(dir, out), dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const std::vector<MetricsRow> rows = read_metrics(out + "/metrics.csv");
  const Expected expected = apply_documented_rule(rows, kPatience);
  ASSERT_GT(expected.stopped_epoch, 0) << "the config must stop early";
  EXPECT_EQ(static_cast<int>(rows.size()), expected.stopped_epoch) << "epochs ran past the stop";

  const std::string summary = slurp(out + "/summary.json");
  EXPECT_EQ(summary_text(summary, "best_epoch"), std::to_string(expected.best_epoch)) << summary;
  EXPECT_EQ(summary_text(summary, "stopped_epoch"), std::to_string(expected.stopped_epoch))
      << summary;
  EXPECT_EQ(summary_text(summary, "epochs_run"), std::to_string(expected.stopped_epoch)) << summary;
  EXPECT_EQ(summary_text(summary, "restored_best"), "1") << summary;
  // The kept model is the best epoch's, not the last one's (metrics.csv has 6 digits).
  const MetricsRow& best = rows[expected.best_epoch - 1];
  EXPECT_NEAR(std::stod(summary_text(summary, "val_loss")), best.val_loss, 1e-5 * best.val_loss);
  EXPECT_NEAR(std::stod(summary_text(summary, "val_acc")), best.val_acc, 1e-6);
  EXPECT_NE(std::stod(summary_text(summary, "val_loss")), rows.back().val_loss);

  const std::string early_stop =
      "\"event\": \"early_stop\", \"epoch\": " + std::to_string(expected.stopped_epoch) +
      ", \"best_epoch\": " + std::to_string(expected.best_epoch) + "}";
  EXPECT_NE(slurp(out + "/events.jsonl").find(early_stop), std::string::npos)
      << slurp(out + "/events.jsonl");
}

TEST(EarlyStoppingRun, ResumeInsideThePatienceWindowStopsAtTheSameEpoch) {
  const std::string dir = write_data(fresh_dir("data"));
  const std::string straight = dir + "/straight", resumed = dir + "/resumed";
  const Result a = run(std::string(MLP_TRAINER_PATH) + trainer_flags(dir, straight), dir);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const std::string summary_a = slurp(straight + "/summary.json");
  const int best_epoch = std::stoi(summary_text(summary_a, "best_epoch"));
  const int stopped_epoch = std::stoi(summary_text(summary_a, "stopped_epoch"));
  // After the best epoch, so the wait count is already running when the run is cut.
  const int cut_epoch = best_epoch + 1;
  ASSERT_LT(cut_epoch, stopped_epoch);
  const std::string checkpoint = epoch_checkpoint(slurp(straight + "/events.jsonl"), cut_epoch);
  ASSERT_TRUE(std::filesystem::exists(checkpoint)) << "no checkpoint of epoch " << cut_epoch;

  const Result b = run(
      std::string(MLP_TRAINER_PATH) + trainer_flags(dir, resumed) + " --resume " + checkpoint, dir);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(
      b.out.find("resuming from " + checkpoint + " at epoch " + std::to_string(cut_epoch + 1)),
      std::string::npos)
      << b.out;
  const std::string summary_b = slurp(resumed + "/summary.json");
  for (const char* key : {"best_epoch", "stopped_epoch", "epochs_run", "restored_best", "test_loss",
                          "test_acc", "val_loss", "val_acc"})
    EXPECT_EQ(summary_text(summary_b, key), summary_text(summary_a, key)) << key;
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
