// The trainer binary and its checkpoint files: damaged, foreign or misnamed checkpoints are
// refused before training with exit 7 and one line naming the problem (and by inspect), a run
// never saves non-finite values, stale temporary files are removed at start, and checkpoints of
// earlier trainers still resume and rewrite their metrics rows as those trainers wrote them.
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
#include "core/record_csv.h"
#include "proto/epoch_metrics.pb.h"
#include "tests/launch/train/resume_workspace.h"

namespace mlp {
namespace {

namespace fs = std::filesystem;

using resume_test::expect_one_error_line;
using resume_test::Result;
using resume_test::run_trainer;
using resume_test::slurp;
using resume_test::test_dir;
using resume_test::Workspace;
using resume_test::write_bytes;

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

// Checkpoints of earlier trainers, global step 6 (mid-epoch 2) of the runs below with
// --checkpoint-every-steps 3, resume and write the metrics.csv rows of the epochs they hold again
// as those trainers wrote them, to the last digit.
struct EarlierRun {
  const char* name;
  const char* checkpoint;  // in the fixtures folder
  const char* flags;       // of the run that wrote it
  const char* first_row;   // of metrics.csv, as that run wrote it (8 columns)
};

class EarlierCheckpoint : public testing::TestWithParam<EarlierRun> {};

TEST_P(EarlierCheckpoint, ResumesAndRewritesItsMetricsRows) {
  const EarlierRun& earlier = GetParam();
  const std::string dir = test_dir();
  const std::string fixtures = MLP_LAUNCH_FIXTURES;
  const Result r = run_trainer(
      dir, "old",
      "--train-csv " + fixtures + "/old_checkpoint_train.csv " + earlier.flags +
          " --hidden 3 --batch-size 8 --epochs 3 --optimizer adam --lr 0.01 --progress none" +
          " --out " + dir + "/run --resume " + fixtures + "/" + earlier.checkpoint);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("at epoch 2, step "), std::string::npos) << r.out;
  std::istringstream metrics(slurp(dir + "/run/metrics.csv"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(metrics, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u);
  // With an empty cell for each metric added since.
  const int added = pb::EpochMetrics::descriptor()->field_count() - 8;
  EXPECT_EQ(lines[0], csv_header(*pb::EpochMetrics::descriptor()));
  EXPECT_EQ(lines[1], earlier.first_row + std::string(added, ','));
}

INSTANTIATE_TEST_SUITE_P(
    Runs, EarlierCheckpoint,
    testing::Values(
        // Before the run state had a file of its own: a classifier with a validation set.
        EarlierRun{"classifier", "old_checkpoint_step6.pb",
                   "--val-fraction 0.2 --early-stopping-patience 5",
                   "1,1.84919,0.28125,1.59374,0.125,13181.9,0.00242983,0.0082743"},
        // Before the epoch-metrics record: a regression without a validation set, whose
        // history holds NaN where a metric does not apply.
        EarlierRun{"regression", "old_checkpoint_regression_step6.pb",
                   "--val-fraction 0 --loss squared_error",
                   "1,0.793362,,,,11706.2,0.00341704,0.00811745"}),
    [](const testing::TestParamInfo<EarlierRun>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace mlp
