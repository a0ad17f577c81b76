// The trainer binary, alone, stopped and resumed: a fresh process continuing from a mid-epoch
// checkpoint ends bitwise where an uninterrupted run ends (every optimizer, and dropout with
// early stopping; also from a checkpoint between an epoch's last step and its evaluation, and
// with --resume auto past a damaged newest checkpoint); a changed run length is warned about and
// wall time adds up over the processes.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "core/checkpoint_file.h"
#include "tests/launch/train/resume_workspace.h"

namespace mlp {
namespace {

namespace fs = std::filesystem;

using resume_test::expect_same_run;
using resume_test::kManyCheckpoints;
using resume_test::Result;
using resume_test::slurp;
using resume_test::summary_value;
using resume_test::Workspace;
using resume_test::write_bytes;

// The last checkpoint of a run that lies inside an epoch and, when asked, after the early
// stopping wait count has started: the resumed run then has the most state to get right.
std::string last_mid_epoch_checkpoint(const std::vector<std::string>& all, bool with_wait) {
  std::string chosen;
  for (const std::string& path : all) {
    const pb::Checkpoint c = read_checkpoint(path);
    if (c.step_in_epoch() > 0 && (!with_wait || c.early_stopping().wait() > 0)) chosen = path;
  }
  return chosen;
}

struct ResumeCase {
  const char* name;
  const char* flags;
  bool early_stopping;
};

void PrintTo(const ResumeCase& c, std::ostream* os) { *os << c.name; }

class BitwiseResume : public testing::TestWithParam<ResumeCase> {};

TEST_P(BitwiseResume, FreshProcessFromMidEpochCheckpointEndsBitwiseLikeUninterruptedRun) {
  const Workspace w(GetParam().flags + kManyCheckpoints);
  const Result a = w.train("straight");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const std::string from =
      last_mid_epoch_checkpoint(w.checkpoints("straight"), GetParam().early_stopping);
  ASSERT_FALSE(from.empty()) << "no mid-epoch checkpoint to resume from";
  if (GetParam().early_stopping) {
    ASSERT_NE(a.out.find("early stopping after epoch"), std::string::npos) << a.out;
  }

  const Result b = w.train("resumed", "--resume " + from);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.out.find("resuming from " + from), std::string::npos) << b.out;
  expect_same_run(w, "straight", "resumed");
}

INSTANTIATE_TEST_SUITE_P(
    Optimizers, BitwiseResume,
    testing::Values(
        ResumeCase{"sgd", "--hidden 16,12 --optimizer sgd --lr 0.2 --epochs 3", false},
        ResumeCase{"nesterov",
                   "--hidden 16,12 --optimizer momentum --nesterov --lr 0.05 --epochs 3", false},
        ResumeCase{"adam",
                   "--hidden 16,12 --optimizer adam --lr 0.01 --weight-decay 0.001 --epochs 3",
                   false},
        ResumeCase{
            "dropout_early_stopping",
            "--hidden 64,64 --optimizer adam --lr 0.03 --dropout 0.3 --early-stopping-patience 3"
            " --epochs 12",
            true}),
    [](const testing::TestParamInfo<ResumeCase>& info) { return std::string(info.param.name); });

// A checkpoint taken after an epoch's last step but before its evaluation (what a stop signal
// arriving at that step leaves): the resumed process runs no step of that epoch, yet its metrics
// row must match, learning rate included.
TEST(BitwiseResumeAtEpochEnd, CheckpointAfterLastStepBeforeEvaluationEndsLikeUninterruptedRun) {
  const Workspace w(
      "--hidden 16,12 --optimizer adam --lr 0.01 --epochs 3 --checkpoint-every-epoch false"
      " --checkpoint-every-steps 17 --keep-last 100");
  ASSERT_EQ(w.train("straight").exit_code, 0);
  const std::string from = w.checkpoints("straight").front();
  const pb::Checkpoint c = read_checkpoint(from);
  ASSERT_EQ(c.epoch(), 0);
  ASSERT_EQ(c.step_in_epoch(), 17);
  ASSERT_EQ(c.history_size(), 0);

  const Result b = w.train("resumed", "--resume " + from);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  expect_same_run(w, "straight", "resumed");
}

// --resume auto takes the newest checkpoint that verifies: with the newest one corrupted it
// warns, falls back to the previous one and still ends exactly like the uninterrupted run.
TEST(AutoResume, FallsBackPastACorruptNewestCheckpointAndEndsBitwiseLikeUninterruptedRun) {
  const Workspace w("--hidden 16,12 --optimizer adam --lr 0.01 --epochs 3" + kManyCheckpoints);
  ASSERT_EQ(w.train("straight").exit_code, 0);
  const std::vector<std::string> all = w.checkpoints("straight");
  ASSERT_GE(all.size(), 4u);
  // The run "died" after its third checkpoint, the newest one written but damaged.
  const std::string folder = w.dir + "/resumed/checkpoints";
  fs::create_directories(folder);
  for (size_t i = 0; i < 3; ++i)
    fs::copy_file(all[i], folder + "/" + fs::path(all[i]).filename().string());
  const std::string newest = folder + "/" + fs::path(all[2]).filename().string();
  std::string bytes = slurp(newest);
  bytes[bytes.size() / 2] ^= 0x10;
  write_bytes(newest, bytes);

  const Result b = w.train("resumed", "--resume auto");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.err.find("trainer: warning: " + newest), std::string::npos) << b.err;
  EXPECT_NE(b.err.find("payload CRC mismatch; falling back"), std::string::npos) << b.err;
  EXPECT_NE(b.out.find("resuming from " + folder + "/" + fs::path(all[1]).filename().string()),
            std::string::npos)
      << b.out;
  expect_same_run(w, "straight", "resumed");
}

// Resuming with a longer run is allowed, but the cosine schedule then spans the new length, so
// the rate of the next step changes: one warning says so. The same config resumes silently.
TEST(ResumeWithAnotherRunLength, WarnsThatTheScheduleChanged) {
  const Workspace w("--hidden 16,12 --lr 0.01" + kManyCheckpoints);
  ASSERT_EQ(w.train("first", "--epochs 2").exit_code, 0);
  const std::string from = w.checkpoints("first").front();
  ASSERT_EQ(read_checkpoint(from).global_step(), 7);

  const Result same = w.train("same", "--epochs 2 --resume " + from);
  ASSERT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(same.err, "");

  const Result longer = w.train("longer", "--epochs 4 --resume " + from);
  ASSERT_EQ(longer.exit_code, 0) << longer.err;
  // 17 steps per epoch: 34 planned steps then, 68 now.
  EXPECT_EQ(
      longer.err.rfind("trainer: warning: the learning-rate schedule differs from the checkpoint's "
                       "(2 epochs, 34 planned steps there; 4, 68 now): global step 7 gets rate ",
                       0),
      0u)
      << longer.err;
  EXPECT_EQ(std::count(longer.err.begin(), longer.err.end(), '\n'), 1) << longer.err;

  const Result constant = w.train("constant", "--epochs 4 --lr-schedule constant --resume " + from);
  ASSERT_EQ(constant.exit_code, 0) << constant.err;
  EXPECT_NE(constant.err.find("gets rate 0.01 instead of "), std::string::npos) << constant.err;
}

// A resumed run's total wall time is the checkpoint's elapsed time plus its own; checkpoints of
// one run record a growing elapsed time.
TEST(ResumedRunWallTime, AddsTheTimeRecordedInTheCheckpoint) {
  const Workspace w("--hidden 16,12 --epochs 2" + kManyCheckpoints);
  const Result first = w.train("first");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(summary_value(w.dir + "/first", "total_wall_seconds"),
            summary_value(w.dir + "/first", "wall_seconds"));
  double previous = 0;
  for (const std::string& path : w.checkpoints("first")) {
    const double elapsed = read_checkpoint(path).elapsed_seconds();
    EXPECT_GT(elapsed, previous) << path;
    previous = elapsed;
  }

  const std::string from = w.checkpoints("first")[1];
  const double before = read_checkpoint(from).elapsed_seconds();
  ASSERT_EQ(w.train("resumed", "--resume " + from).exit_code, 0);
  const double wall = std::stod(summary_value(w.dir + "/resumed", "wall_seconds"));
  const double total = std::stod(summary_value(w.dir + "/resumed", "total_wall_seconds"));
  EXPECT_NEAR(total, before + wall, 1e-6 * total);
}

TEST(AutoResume, StartsFreshWithoutCheckpoints) {
  const Workspace w("--hidden 16,12 --epochs 1");
  const Result r = w.train("run", "--resume auto");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("no checkpoint in " + w.dir + "/run/checkpoints: starting fresh"),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace mlp
