// The trainer binary, alone, stopped and resumed: a fresh process continuing from a mid-epoch
// checkpoint ends bitwise where an uninterrupted run ends (every optimizer, and dropout with
// early stopping), and bad checkpoints are refused with exit 7 and one line naming the problem.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/checkpoint_file.h"
#include "core/packed_floats.h"
#include "tests/launch/process_run.h"
#include "tests/support/synthetic_data.h"

namespace mlp {
namespace {

namespace fs = std::filesystem;

using mlp::test::slurp;
using Result = mlp::test::Run;

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string test_dir() { return mlp::test::fresh_test_dir("resume"); }

// Runs the trainer with stdout and stderr kept under `dir` as <log>.stdout / <log>.stderr.
Result run_trainer(const std::string& dir, const std::string& log, const std::string& args) {
  return mlp::test::run_binary(MLP_TRAINER_PATH, args, dir + "/" + log);
}

// Small data: 540 training rows after the validation split, batch 32, so 17 steps per epoch.
struct Workspace {
  std::string dir, args;
  explicit Workspace(const std::string& flags) : dir(test_dir()) {
    const std::string train =
        mlp::test::write_rows(dir + "/train.csv", mlp::test::blob_rows(600, 20, 1));
    const std::string test =
        mlp::test::write_rows(dir + "/test.csv", mlp::test::blob_rows(150, 20, 2));
    args = "--train-csv " + train + " --test-csv " + test + " --batch-size 32 --progress none " +
           flags;
  }
  Result train(const std::string& run, const std::string& more = "") const {
    return run_trainer(dir, run, args + " --out " + dir + "/" + run + " " + more);
  }
  std::vector<std::string> checkpoints(const std::string& run) const {
    return list_checkpoints(dir + "/" + run + "/checkpoints");
  }
};

// Every 7 steps, so most checkpoints fall inside an epoch; none pruned.
const std::string kManyCheckpoints = " --checkpoint-every-steps 7 --keep-last 100 ";

void expect_one_error_line(const Result& r, int code, const std::string& text) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(r.err.rfind("trainer: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// The metrics.csv rows without the timing columns (samples_per_second, epoch_seconds).
std::vector<std::string> metrics_rows(const std::string& run) {
  std::istringstream in(slurp(run + "/metrics.csv"));
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::istringstream cells_in(line);
    for (std::string cell; std::getline(cells_in, cell, ',');) cells.push_back(cell);
    if (cells.size() != 8) {
      rows.push_back("malformed: " + line);
      continue;
    }
    rows.push_back(cells[0] + "," + cells[1] + "," + cells[2] + "," + cells[3] + "," + cells[4] +
                   "," + cells[7]);
  }
  return rows;
}

// The value text of "key" in summary.json.
std::string summary_value(const std::string& run, const std::string& key) {
  const std::string summary = slurp(run + "/summary.json");
  const size_t at = summary.find("\"" + key + "\": ");
  if (at == std::string::npos) return "missing";
  const size_t begin = at + key.size() + 4;
  return summary.substr(begin, summary.find_first_of(",\n}", begin) - begin);
}

// Everything that decides the rest of the trajectory, compared bit for bit; timings and
// provenance may differ.
void expect_same_training_state(const pb::Checkpoint& a, const pb::Checkpoint& b) {
  EXPECT_EQ(a.global_step(), b.global_step());
  EXPECT_EQ(a.epoch(), b.epoch());
  EXPECT_EQ(a.step_in_epoch(), b.step_in_epoch());
  EXPECT_EQ(a.samples_consumed(), b.samples_consumed());
  // EXPECT_TRUE, not EXPECT_EQ: a failure should not print kilobytes of float bytes.
  EXPECT_TRUE(a.params() == b.params()) << "parameters differ";
  EXPECT_EQ(a.optimizer().step_count(), b.optimizer().step_count());
  ASSERT_EQ(a.optimizer().slots_size(), b.optimizer().slots_size());
  for (int i = 0; i < a.optimizer().slots_size(); ++i)
    EXPECT_TRUE(a.optimizer().slots(i) == b.optimizer().slots(i))
        << "optimizer " << a.optimizer().slot_names(i);
  const pb::EarlyStoppingState &ea = a.early_stopping(), &eb = b.early_stopping();
  EXPECT_EQ(ea.best_epoch(), eb.best_epoch());
  EXPECT_EQ(ea.wait(), eb.wait());
  EXPECT_EQ(ea.best_value(), eb.best_value());
  EXPECT_TRUE(ea.best_params() == eb.best_params()) << "best parameters differ";
  ASSERT_EQ(a.history_size(), b.history_size());
  for (int i = 0; i < a.history_size(); ++i) {
    const pb::EpochRow &ra = a.history(i), &rb = b.history(i);
    EXPECT_EQ(ra.epoch(), rb.epoch());
    EXPECT_EQ(ra.train_loss(), rb.train_loss()) << "epoch " << ra.epoch();
    EXPECT_EQ(ra.train_acc(), rb.train_acc()) << "epoch " << ra.epoch();
    EXPECT_EQ(ra.val_loss(), rb.val_loss()) << "epoch " << ra.epoch();
    EXPECT_EQ(ra.val_acc(), rb.val_acc()) << "epoch " << ra.epoch();
    EXPECT_EQ(ra.learning_rate(), rb.learning_rate()) << "epoch " << ra.epoch();
  }
}

// Both runs end in the same state and report the same numbers.
void expect_same_run(const Workspace& w, const std::string& a, const std::string& b) {
  const std::vector<std::string> ca = w.checkpoints(a), cb = w.checkpoints(b);
  ASSERT_FALSE(ca.empty());
  ASSERT_FALSE(cb.empty());
  EXPECT_EQ(fs::path(ca.back()).filename(), fs::path(cb.back()).filename());
  expect_same_training_state(read_checkpoint(ca.back()), read_checkpoint(cb.back()));
  EXPECT_EQ(metrics_rows(w.dir + "/" + a), metrics_rows(w.dir + "/" + b));
  for (const char* key : {"test_loss", "test_acc", "epochs_run", "global_steps", "best_epoch",
                          "stopped_epoch", "restored_best"})
    EXPECT_EQ(summary_value(w.dir + "/" + a, key), summary_value(w.dir + "/" + b, key)) << key;
}

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

// Each kind of damage is named; the run refuses it before training (exit 7, one line).
class BadCheckpoint : public testing::Test {
 protected:
  void SetUp() override {
    const Result r = w_.train("source", "--hidden 16,12");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    good_ = w_.checkpoints("source").back();
    bytes_ = slurp(good_);
  }
  std::string bad_file(const std::string& name, const std::string& bytes) const {
    const std::string path = w_.dir + "/" + name;
    write_bytes(path, bytes);
    return path;
  }
  Result resume(const std::string& path) const {
    return w_.train("resumed", "--hidden 16,12 --resume " + path);
  }

  Workspace w_{"--epochs 1"};
  std::string good_, bytes_;
};

TEST_F(BadCheckpoint, TruncatedFileIsRefused) {
  const std::string path = bad_file("truncated.pb", bytes_.substr(0, bytes_.size() / 2));
  expect_one_error_line(resume(path), 7,
                        path + ": not a valid checkpoint: record at byte 0: truncated");
  expect_one_error_line(resume(bad_file("stub.pb", bytes_.substr(0, 5))), 7,
                        "truncated header (5 of 12 bytes)");
}

TEST_F(BadCheckpoint, FlippedBitIsRefused) {
  std::string flipped = bytes_;
  flipped[flipped.size() / 3] ^= 0x01;
  const std::string path = bad_file("flipped.pb", flipped);
  expect_one_error_line(resume(path), 7,
                        path + ": not a valid checkpoint: record at byte 0: payload CRC mismatch");
}

TEST_F(BadCheckpoint, EmptyFileIsRefused) {
  const std::string path = bad_file("empty.pb", "");
  expect_one_error_line(resume(path), 7, path + ": empty file, not a checkpoint");
}

TEST_F(BadCheckpoint, RandomBytesAreRefused) {
  std::string noise(1024, '\0');
  uint32_t state = 7;
  for (char& c : noise) {
    state = state * 1664525u + 1013904223u;
    c = static_cast<char>(state >> 24);
  }
  const std::string path = bad_file("noise.pb", noise);
  expect_one_error_line(resume(path), 7,
                        path + ": not a valid checkpoint: record at byte 0: length CRC mismatch");
}

TEST_F(BadCheckpoint, FileOverTheSizeLimitIsRefusedBeforeReading) {
  // Sparse: no disk space is used, and the size check must come before any allocation.
  const std::string path = w_.dir + "/huge.pb";
  std::ofstream(path).close();
  fs::resize_file(path, kMaxCheckpointBytes + 1);
  expect_one_error_line(resume(path), 7,
                        path + ": " + std::to_string(kMaxCheckpointBytes + 1) +
                            " bytes is over the checkpoint size limit");
  fs::remove(path);
}

TEST_F(BadCheckpoint, CheckpointOfAnotherModelIsRefusedNamingTheField) {
  expect_one_error_line(
      w_.train("other", "--hidden 16,8 --resume " + good_), 7,
      good_ + ": cannot resume: model.hidden is 16,12 in the checkpoint but 16,8 now");
}

TEST_F(BadCheckpoint, AModelFileIsNamedAsOne) {
  const std::string model = w_.dir + "/source/model.pb";
  expect_one_error_line(resume(model), 7,
                        model + ": cannot resume: this is a model file (the weights a run keeps), "
                                "not a checkpoint; resume from a file in OUT/checkpoints/ or with "
                                "--resume auto");
}

TEST_F(BadCheckpoint, InspectVerifiesGoodAndRefusesCorrupt) {
  const Result good = run_trainer(w_.dir, "inspect_good", "inspect " + good_);
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_NE(good.out.find(good_ + ": valid checkpoint, format version 1"), std::string::npos)
      << good.out;
  EXPECT_EQ(good.out.find("NON-FINITE"), std::string::npos) << good.out;
  std::string flipped = bytes_;
  flipped[flipped.size() / 3] ^= 0x01;
  const std::string path = bad_file("flipped.pb", flipped);
  expect_one_error_line(run_trainer(w_.dir, "inspect_bad", "inspect " + path), 7,
                        "payload CRC mismatch");
  expect_one_error_line(run_trainer(w_.dir, "inspect_empty", "inspect " + bad_file("empty.pb", "")),
                        7, "empty file, not a checkpoint");
}

// Features near 1e30 keep the first loss and gradient finite but make the first update
// overflow: the run stops with exit 4 instead of saving that step, and whatever checkpoints it
// left are finite.
TEST(CheckpointContents, NeverHoldNonFiniteValues) {
  const std::string dir = test_dir();
  const std::string huge =
      mlp::test::write_rows(dir + "/huge.csv", mlp::test::blob_rows(600, 20, 1, 1e30f));
  const Result r =
      run_trainer(dir, "diverged",
                  "--train-csv " + huge + " --hidden 16,12 --epochs 1 --progress none" +
                      " --optimizer sgd --lr 1e10 --lr-schedule constant" +
                      " --checkpoint-every-steps 1 --out " + dir + "/diverged");
  expect_one_error_line(r, 4, "parameters became non-finite by global step 1");
  for (const std::string& path : list_checkpoints(dir + "/diverged/checkpoints")) {
    const pb::Checkpoint c = read_checkpoint(path);
    std::vector<float> params(c.params().size() / sizeof(float));
    unpack_floats(c.params(), params.data(), params.size(), path);
    EXPECT_TRUE(std::all_of(params.begin(), params.end(), [](float x) { return std::isfinite(x); }))
        << path;
  }
}

// A writer that died mid-write leaves ckpt-*.pb.tmp; the next run removes it (and nothing else).
TEST(CheckpointContents, StaleTempFilesAreRemovedAtStart) {
  const Workspace w("--hidden 16,12 --epochs 1");
  const std::string folder = w.dir + "/run/checkpoints";
  fs::create_directories(folder);
  write_bytes(folder + "/ckpt-000000000099.pb.tmp", "half a checkpoint");
  write_bytes(folder + "/notes.tmp", "not ours");
  const Result r = w.train("run");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(folder + "/ckpt-000000000099.pb.tmp"));
  EXPECT_TRUE(fs::exists(folder + "/notes.tmp"));
  for (const std::string& path : w.checkpoints("run"))
    EXPECT_NO_THROW(read_checkpoint(path)) << path;
}

// A checkpoint written by the trainer before the run state had a file of its own (the flags
// below, --checkpoint-every-steps 3, global step 6 of 4-step epochs) resumes mid-epoch 2 and
// keeps epoch 1's metrics row.
TEST(CheckpointContents, ACheckpointOfTheEarlierTrainerResumes) {
  const std::string dir = test_dir();
  const std::string fixtures = MLP_LAUNCH_FIXTURES;
  const Result r = run_trainer(
      dir, "old",
      "--train-csv " + fixtures + "/old_checkpoint_train.csv --val-fraction 0.2 --hidden 3" +
          " --batch-size 8 --epochs 3 --optimizer adam --lr 0.01 --early-stopping-patience 5" +
          " --progress none --out " + dir + "/run --resume " + fixtures +
          "/old_checkpoint_step6.pb");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("at epoch 2, step 2 (global step 6), saved by 1 rank"), std::string::npos)
      << r.out;
  const std::vector<std::string> rows = metrics_rows(dir + "/run");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1], "1,1.84919,0.28125,1.59374,0.125,0.0082743");
}

}  // namespace
}  // namespace mlp
