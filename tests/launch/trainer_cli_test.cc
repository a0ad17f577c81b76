// The trainer binary end to end, run alone: exit codes and the one-line error of bad input,
// the run folder's files, the peak memory it reports, and sane accuracy on a small
// Fashion-MNIST subset.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/launch/process_run.h"
#include "tests/launch/run_records.h"
#include "tests/support/synthetic_data.h"

namespace {

const char* const kFashionMnist = "/usr/share/datasets/fashion-mnist";

using mlp::test::slurp;
using Result = mlp::test::Run;

// Output files are named after the test: CTest runs the tests of this file in parallel.
Result run_trainer(const std::string& args) {
  const std::string base =
      testing::TempDir() + "/" + testing::UnitTest::GetInstance()->current_test_info()->name();
  return mlp::test::run_binary(MLP_TRAINER_PATH, args, base);
}

std::string temp_path(const std::string& name) {
  const std::string path = testing::TempDir() + "/cli_" + name;
  std::filesystem::remove_all(path);
  return path;
}

void expect_one_error_line(const Result& r, int code, const std::string& text) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(r.err.rfind("trainer: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(text), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(TrainerCli, UsageErrorsExitTwoWithOneLine) {
  expect_one_error_line(run_trainer("--lr abc"), 2, "--lr: \"abc\" is not a number");
  expect_one_error_line(run_trainer("--batch-size 0"), 2,
                        "--batch-size: must be a positive integer");
  expect_one_error_line(run_trainer("--frobnicate 3"), 2, "unrecognised option '--frobnicate'");
  expect_one_error_line(run_trainer("--gemm mkl"), 2,
                        "--gemm: \"mkl\" is not one of auto, onednn, eigen, blas");
  expect_one_error_line(run_trainer("--out /proc/no_such_dir --train-limit 100 --epochs 1"), 2,
                        "--out: cannot create folder /proc/no_such_dir");
}

TEST(TrainerCli, HelpExitsZero) {
  const Result r = run_trainer("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("exit codes:"), std::string::npos);
}

TEST(TrainerCli, DataErrorsExitThreeWithOneLine) {
  expect_one_error_line(run_trainer("--data-dir /nonexistent/folder"), 3, "/nonexistent/folder");
  const std::string csv = temp_path("ragged.csv");
  std::ofstream(csv) << "0,1,2\n1,3\n";
  expect_one_error_line(run_trainer("--train-csv " + csv + " --hidden 4"), 3, csv + ":2");
  const std::string three = temp_path("three_classes.csv");
  std::ofstream(three) << "0,1\n1,2\n2,3\n";
  expect_one_error_line(run_trainer("--train-csv " + three + " --loss logistic --hidden ''"), 3,
                        "the logistic loss needs labels 0 and 1");
}

TEST(TrainerCli, PerceptronSeparatesACsvAndWritesTheRunFolder) {
  const std::string csv = temp_path("separable.csv");
  {
    std::ofstream out(csv);
    out << "label,x,y\n";
    for (int i = 0; i < 40; ++i) {
      const double x = (i % 8) - 3.5, y = (i / 8) - 2.0;
      out << (x + 0.5 * y > 0 ? 1 : 0) << "," << x << "," << y << "\n";
    }
  }
  const std::string out = temp_path("perceptron_run");
  const Result r = run_trainer(
      "--train-csv " + csv + " --csv-header --hidden '' --loss perceptron" +
      " --optimizer sgd --lr 0.1 --batch-size 1 --epochs 30 --val-fraction 0" + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("epoch  30/30  train loss 0.0000 acc 1.0000"), std::string::npos) << r.out;
  const std::string metrics = slurp(out + "/metrics.csv");
  // The columns users' scripts know stay first and in place.
  EXPECT_EQ(metrics.rfind("epoch,train_loss,train_acc,val_loss,val_acc,samples_per_second,epoch_"
                          "seconds,learning_rate",
                          0),
            0u);
  EXPECT_EQ(std::count(metrics.begin(), metrics.end(), '\n'), 31);
  const std::string summary = slurp(out + "/summary.json");
  EXPECT_NE(summary.find("\"epochs_run\": 30"), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"world_size\": 1"), std::string::npos);
  // Without a validation set the kept epoch's record has no val_* fields.
  const mlp::pb::EpochMetrics kept = mlp::test::read_summary(out).kept_epoch();
  EXPECT_EQ(kept.epoch(), 30) << summary;
  EXPECT_EQ(kept.train_acc(), 1.0);
  EXPECT_FALSE(kept.has_val_loss() || kept.has_val_acc()) << summary;
  EXPECT_NE(slurp(out + "/config.txt").find("loss: PERCEPTRON"), std::string::npos);
}

TEST(TrainerCli, FashionMnistSubsetReachesSaneAccuracy) {
  if (!std::filesystem::exists(kFashionMnist))
    GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const std::string out = temp_path("fashion_run");
  const Result r =
      run_trainer("--hidden 128 --epochs 3 --train-limit 10000 --test-limit 2000 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string summary = slurp(out + "/summary.json");
  const size_t at = summary.find("\"test_acc\": ");
  ASSERT_NE(at, std::string::npos) << summary;
  const double test_acc = std::atof(summary.c_str() + at + 12);
  EXPECT_GT(test_acc, 0.78) << summary;
  EXPECT_LT(test_acc, 1.0);
}

// summary.json's peak_rss_mb is the kernel's high-water mark of the process: at least the model
// state (parameters, gradients and Adam's two slots, 4.2 M floats each: 67 MB) and at most the
// peak its parent sees for the whole process, which the model file is the last big work of.
// Checkpoints (50 MB) and the model file are written from that state, never from a copy: the
// peak stays within 45 MB (libraries and buffers) of the state.
TEST(TrainerCli, SummaryReportsThePeakResidentMemoryThatCheckpointsDoNotRaise) {
  const std::string dir = temp_path("peak_rss");
  std::filesystem::create_directories(dir);
  const std::string train =
      mlp::test::write_rows(dir + "/train.csv", mlp::test::blob_rows(200, 8, 1));
  int exit_code = -1;
  const long process_kib = mlp::test::peak_rss_kib(
      {MLP_TRAINER_PATH, "--train-csv", train, "--hidden", "2048,2048", "--batch-size", "50",
       "--epochs", "1", "--gemm", "eigen", "--progress", "none", "--out", dir + "/run"},
      &exit_code);
  ASSERT_EQ(exit_code, 0);
  const mlp::pb::Summary summary = mlp::test::read_summary(dir + "/run");
  ASSERT_TRUE(summary.has_peak_rss_mb()) << summary.DebugString();
  const double state_mb = 4.0 * static_cast<double>(summary.parameters()) * 4 / (1 << 20);
  EXPECT_GE(summary.peak_rss_mb(), state_mb);
  EXPECT_LT(summary.peak_rss_mb(), state_mb + 45);
  EXPECT_LE(summary.peak_rss_mb() * 1024, static_cast<double>(process_kib));
  EXPECT_GE(summary.peak_rss_mb() * 1024, 0.9 * static_cast<double>(process_kib));
}

}  // namespace
