// The trainer binary's matrix-product backend: --gemm auto records its choice and the measured
// rates in the start event and summary.json, a named backend is used as named, a resumed run
// keeps the checkpoint's backend under auto, and resuming under another backend warns once; two
// runs of one command under auto, the first with every core busy while it starts, remember and
// reuse one choice and train the same bits.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/checkpoint_file.h"
#include "tests/launch/process_run.h"
#include "tests/support/synthetic_data.h"

namespace mlp {
namespace {

using mlp::test::slurp;
using Result = mlp::test::Run;

// Small data: 540 training rows after the validation split, batch 32.
struct Workspace {
  std::string dir, args;
  Workspace() : dir(mlp::test::fresh_test_dir("gemm")) {
    const std::string train =
        mlp::test::write_rows(dir + "/train.csv", mlp::test::blob_rows(600, 20, 1));
    args = "--train-csv " + train + " --batch-size 32 --hidden 16 --progress none";
  }
  Result train(const std::string& run, const std::string& more) const {
    return mlp::test::run_binary(MLP_TRAINER_PATH, args + " --out " + dir + "/" + run + " " + more,
                                 dir + "/" + run);
  }
  std::string file(const std::string& run, const std::string& name) const {
    return slurp(dir + "/" + run + "/" + name);
  }
};

std::string first_line_with(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) return line;
  return "";
}

int count_lines_with(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  int n = 0;
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
  return n;
}

TEST(GemmRun, AutoRecordsItsChoiceAndRatesInTheStartEventAndSummary) {
  const Workspace w;
  const Result r = w.train("auto", "--epochs 1 --gemm auto");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string summary = w.file("auto", "summary.json");
  const std::string start = first_line_with(w.file("auto", "events.jsonl"), "\"start\"");
  bool named = false;
  for (const char* name : {"onednn", "eigen", "blas"}) {
    // summary.json is printed with spaces, events.jsonl one compact line per event.
    const std::string field = std::string("\"gemm_backend\": \"") + name + "\"";
    if (summary.find(field) == std::string::npos) continue;
    named = true;
    EXPECT_NE(start.find(std::string("\"gemm_backend\":\"") + name + "\""), std::string::npos)
        << start;
  }
  EXPECT_TRUE(named) << summary;
  // Every backend of the build was timed: three rates.
  for (const char* name : {"\"onednn\":", "\"eigen\":", "\"blas\":"}) {
    EXPECT_NE(start.find(name), std::string::npos) << start;
    EXPECT_NE(summary.find(name), std::string::npos) << summary;
  }
}

TEST(GemmRun, NamedBackendIsUsedAndRecordedWithoutTiming) {
  const Workspace w;
  const Result r = w.train("blas", "--epochs 1 --gemm blas");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(w.file("blas", "summary.json").find("\"gemm_backend\": \"blas\""), std::string::npos);
  EXPECT_EQ(w.file("blas", "summary.json").find("gemm_gflops"), std::string::npos);
}

TEST(GemmRun, AutoResumeKeepsTheCheckpointsBackendQuietly) {
  const Workspace w;
  ASSERT_EQ(w.train("run", "--epochs 1 --gemm eigen").exit_code, 0);
  const Result r = w.train("run", "--epochs 2 --resume auto");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(w.file("run", "summary.json").find("\"gemm_backend\": \"eigen\""), std::string::npos);
  EXPECT_EQ(count_lines_with(r.err, "--gemm"), 0) << r.err;
}

TEST(GemmRun, ResumingUnderAnotherBackendWarnsOnce) {
  const Workspace w;
  ASSERT_EQ(w.train("run", "--epochs 1 --gemm eigen").exit_code, 0);
  const Result r = w.train("run", "--epochs 2 --resume auto --gemm blas");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_lines_with(r.err, "--gemm"), 1) << r.err;
  EXPECT_NE(first_line_with(r.err, "--gemm")
                .find("trainer: warning: the checkpoint was trained with --gemm eigen, this run "
                      "uses blas"),
            std::string::npos)
      << r.err;
}

// OPENBLAS_CORETYPE makes OpenBLAS load its generic kernels, as it does on CPU models its table
// does not know.
TEST(GemmRun, GenericOpenBlasKernelsOnAnAvxCpuAreWarnedOnce) {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2")) GTEST_SKIP() << "this CPU has no AVX2";
  const Workspace w;
  const Result r = mlp::test::run_binary(
      std::string("OPENBLAS_CORETYPE=Prescott ") + MLP_TRAINER_PATH,
      w.args + " --epochs 1 --gemm eigen --out " + w.dir + "/prescott", w.dir + "/prescott");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_lines_with(r.err, "OpenBLAS"), 1) << r.err;
  EXPECT_NE(first_line_with(r.err, "OpenBLAS")
                .find("trainer: warning: OpenBLAS runs its generic Prescott kernels"),
            std::string::npos)
      << r.err;
  const Result quiet = mlp::test::run_binary(
      std::string("OPENBLAS_CORETYPE=Haswell ") + MLP_TRAINER_PATH,
      w.args + " --epochs 1 --gemm eigen --out " + w.dir + "/haswell", w.dir + "/haswell");
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(count_lines_with(quiet.err, "OpenBLAS"), 0) << quiet.err;
}

// Processes that keep every core busy until this is destroyed.
class BusyCores {
 public:
  BusyCores() {
    for (unsigned i = 0; i < std::max(1u, std::thread::hardware_concurrency()); ++i) {
      const pid_t pid = ::fork();
      if (pid == 0)
        for (volatile unsigned long spin = 0;; ++spin) {
        }
      if (pid > 0) pids_.push_back(pid);
    }
  }
  ~BusyCores() {
    for (pid_t pid : pids_) ::kill(pid, SIGKILL);
    for (pid_t pid : pids_) ::waitpid(pid, nullptr, 0);
  }

 private:
  std::vector<pid_t> pids_;
};

TEST(GemmRun, TwoRunsOfOneCommandUnderAutoTrainTheSameBitsWhateverTheLoadAtStartUp) {
  const Workspace w;
  // One command, its own cache folder: the first run measures, the second remembers.
  const std::string command = "XDG_CACHE_HOME=" + w.dir + "/cache " + MLP_TRAINER_PATH;
  const std::string args = w.args + " --epochs 2 --gemm auto --out " + w.dir + "/run";
  const std::string checkpoint = w.dir + "/run/checkpoints/ckpt-000000000034.pb";
  Result busy;
  {
    const BusyCores cores;
    busy = mlp::test::run_binary(command, args, w.dir + "/busy");
  }
  ASSERT_EQ(busy.exit_code, 0) << busy.err;
  const std::string busy_start = first_line_with(w.file("run", "events.jsonl"), "\"start\"");
  std::filesystem::copy_file(checkpoint, w.dir + "/busy.pb");
  const Result quiet = mlp::test::run_binary(command, args, w.dir + "/quiet");
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  const std::string quiet_start = first_line_with(w.file("run", "events.jsonl"), "\"start\"");
  EXPECT_NE(busy_start.find("\"gemm_choice\":\"measured\""), std::string::npos) << busy_start;
  EXPECT_NE(quiet_start.find("\"gemm_choice\":\"remembered\""), std::string::npos) << quiet_start;
  EXPECT_NE(quiet_start.find("\"gemm_choice_file\":\"" + w.dir + "/cache/mlp-trainer/gemm-choice-"),
            std::string::npos)
      << quiet_start;
  const auto backend = [](const std::string& start) {
    const size_t at = start.find("\"gemm_backend\":");
    return start.substr(at, start.find(',', at) - at);
  };
  EXPECT_EQ(backend(quiet_start), backend(busy_start));
  const pb::Checkpoint first = read_checkpoint(w.dir + "/busy.pb");
  const pb::Checkpoint second = read_checkpoint(checkpoint);
  EXPECT_TRUE(first.params() == second.params());
  ASSERT_EQ(first.optimizer().slots_size(), second.optimizer().slots_size());
  for (int s = 0; s < first.optimizer().slots_size(); ++s)
    EXPECT_TRUE(first.optimizer().slots(s) == second.optimizer().slots(s)) << "slot " << s;
}

TEST(GemmRun, RemeasureTimesAgainAndAFileThatFailsACheckIsReplacedWithOneWarning) {
  const Workspace w;
  const std::string command = "XDG_CACHE_HOME=" + w.dir + "/cache " + MLP_TRAINER_PATH;
  const std::string args = w.args + " --epochs 1 --out " + w.dir + "/run";
  ASSERT_EQ(mlp::test::run_binary(command, args, w.dir + "/first").exit_code, 0);
  const Result again = mlp::test::run_binary(command, args + " --gemm remeasure", w.dir + "/again");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(first_line_with(w.file("run", "events.jsonl"), "\"start\"").find("\"measured\""),
            std::string::npos);
  std::string file;
  for (const auto& entry : std::filesystem::directory_iterator(w.dir + "/cache/mlp-trainer"))
    if (entry.path().filename().string().rfind("gemm-choice-", 0) == 0) file = entry.path();
  ASSERT_FALSE(file.empty());
  std::ofstream(file, std::ios::app) << "host: \"again\"\n";
  const Result refused = mlp::test::run_binary(command, args, w.dir + "/refused");
  ASSERT_EQ(refused.exit_code, 0) << refused.err;
  EXPECT_EQ(count_lines_with(refused.err, "warning"), 1) << refused.err;
  EXPECT_NE(refused.err.find("trainer: warning: --gemm auto: " + file +
                             ":14:5: Non-repeated field \"host\" is specified multiple times; "
                             "timing the backends again"),
            std::string::npos)
      << refused.err;
  const Result recalled = mlp::test::run_binary(command, args, w.dir + "/recalled");
  EXPECT_EQ(recalled.err, "");
  EXPECT_NE(first_line_with(w.file("run", "events.jsonl"), "\"start\"").find("\"remembered\""),
            std::string::npos);
}

}  // namespace
}  // namespace mlp
