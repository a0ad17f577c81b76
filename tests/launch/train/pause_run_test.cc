// The trainer binary paused with --pause-after-epoch and resumed with --resume auto, as successive
// halving promotes a trial rung by rung: each paused process exits 0 with a checkpoint, a "paused"
// event and no model file or summary, and the run promoted through every rung ends bitwise like
// the same run straight through (checkpoint state, metrics, summary, model parameters), with the
// epoch checkpoints on or off; early stopping before the pause still finishes the run.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/model_file.h"
#include "tests/launch/run_records.h"
#include "tests/launch/train/resume_workspace.h"

namespace mlp {
namespace {

namespace fs = std::filesystem;

using resume_test::expect_one_error_line;
using resume_test::expect_same_run;
using resume_test::metrics_rows;
using resume_test::Result;
using resume_test::summary_value;
using resume_test::Workspace;

// A leg that pauses after `epoch` of 9: exit 0, the epochs so far in metrics.csv, the position
// checkpointed, and nothing that would say the run finished.
void expect_paused(const Workspace& w, const Result& r, int epoch) {
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string run = w.dir + "/paused";
  EXPECT_NE(
      r.out.find("paused after epoch " + std::to_string(epoch) + " of 9 with a checkpoint in " +
                 run + "/checkpoints; continue with --resume auto"),
      std::string::npos)
      << r.out;
  EXPECT_EQ(metrics_rows(run).size(), static_cast<size_t>(epoch));
  EXPECT_FALSE(fs::exists(run + "/summary.json"));
  EXPECT_FALSE(fs::exists(run + "/model.pb"));
  const pb::Checkpoint newest = read_checkpoint(w.checkpoints("paused").back());
  EXPECT_EQ(newest.epoch(), epoch);
  EXPECT_EQ(newest.step_in_epoch(), 0);
  const std::vector<pb::Event> events = test::read_events(run);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event(), "paused");
  EXPECT_EQ(events.back().epoch(), epoch);
}

struct PauseCase {
  const char* name;
  const char* flags;
};

void PrintTo(const PauseCase& c, std::ostream* os) { *os << c.name; }

class PausedRun : public testing::TestWithParam<PauseCase> {};

TEST_P(PausedRun, PromotedThroughEveryRungEndsBitwiseLikeTheStraightRun) {
  const Workspace w(std::string(GetParam().flags) + " --epochs 9 --gemm eigen");
  const Result straight = w.train("straight");
  ASSERT_EQ(straight.exit_code, 0) << straight.err;

  // Rungs at 1 and 3 epochs of 9, the first leg run twice (a launcher that died before it
  // recorded the pause runs it again: it pauses at once), then the last leg to the end.
  expect_paused(w, w.train("paused", "--pause-after-epoch 1"), 1);
  expect_paused(w, w.train("paused", "--pause-after-epoch 1 --resume auto"), 1);
  expect_paused(w, w.train("paused", "--pause-after-epoch 3 --resume auto"), 3);
  const Result last = w.train("paused", "--pause-after-epoch 0 --resume auto");
  ASSERT_EQ(last.exit_code, 0) << last.err;

  expect_same_run(w, "straight", "paused");
  const TrainedModel a = load_trained_model(w.dir + "/straight/model.pb");
  const TrainedModel b = load_trained_model(w.dir + "/paused/model.pb");
  EXPECT_TRUE(a.params == b.params) << "model parameters differ";
  pb::RunMetrics ma = a.file.run_metrics(), mb = b.file.run_metrics();
  pb::Summary sa = test::read_summary(w.dir + "/straight"),
              sb = test::read_summary(w.dir + "/paused");
  for (pb::EpochMetrics* m : {ma.mutable_kept_epoch(), mb.mutable_kept_epoch(),
                              sa.mutable_kept_epoch(), sb.mutable_kept_epoch()}) {
    ASSERT_TRUE(m->has_val_acc());
    m->clear_samples_per_second();
    m->clear_epoch_seconds();
  }
  EXPECT_EQ(ma.ShortDebugString(), mb.ShortDebugString());
  EXPECT_EQ(sa.kept_epoch().ShortDebugString(), sb.kept_epoch().ShortDebugString());
}

INSTANTIATE_TEST_SUITE_P(
    Rungs, PausedRun,
    testing::Values(
        PauseCase{"adam_dropout", "--hidden 16,12 --optimizer adam --lr 0.01 --dropout 0.2"},
        // Without epoch checkpoints the pause writes its own (and both runs one at their last
        // step, 9 x 17); early stopping's best weights and wait count cross the pauses too.
        PauseCase{"momentum_no_epoch_checkpoints",
                  "--hidden 16,12 --optimizer momentum --lr 0.05 --checkpoint-every-epoch false"
                  " --checkpoint-every-steps 153 --early-stopping-patience 20"
                  " --early-stopping-metric val_acc"}),
    [](const testing::TestParamInfo<PauseCase>& info) { return std::string(info.param.name); });

// Early stopping that fires before the pause epoch ends the run as it would without a pause.
TEST(PausedRunEarlyStop, StoppingBeforeThePauseFinishesTheRun) {
  const Workspace w("--hidden 16,12 --epochs 9 --early-stopping-patience 1 --min-delta 10");
  const Result r = w.train("run", "--pause-after-epoch 5");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("early stopping after epoch 2"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("paused"), std::string::npos) << r.out;
  EXPECT_EQ(summary_value(w.dir + "/run", "stopped_epoch"), "2");
  EXPECT_TRUE(fs::exists(w.dir + "/run/model.pb"));
}

TEST(PausedRunLastEpoch, APauseAtTheLastEpochFinishesAndANegativeOneIsRefused) {
  const Workspace w("--hidden 8 --epochs 2");
  const Result r = w.train("run", "--pause-after-epoch 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(w.dir + "/run/summary.json"));
  expect_one_error_line(w.train("bad", "--pause-after-epoch -1"), 2,
                        "--pause-after-epoch: must be non-negative");
}

}  // namespace
}  // namespace mlp
