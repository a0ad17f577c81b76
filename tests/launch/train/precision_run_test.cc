// The trainer binary under --precision bf16: refused with one line (exit 2) on a CPU without bf16
// instructions (pretended with MLP_HIDE_CPU_FEATURES); where bf16 runs, the precision is recorded
// in the config, the model file and the rates, two runs give the same bits, `evaluate` reproduces
// the run's test metrics exactly, `predict` runs the model's precision, and resuming under
// another precision warns once.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <string>

#include "core/bf16.h"
#include "core/gemm_backend.h"
#include "core/model_file.h"
#include "tests/launch/process_run.h"
#include "tests/support/synthetic_data.h"

namespace mlp {
namespace {

using mlp::test::slurp;
using Result = mlp::test::Run;

constexpr const char* kHidden = "MLP_HIDE_CPU_FEATURES=avx512_bf16,amx_bf16 ";

struct Workspace {
  std::string dir, args;
  Workspace() : dir(mlp::test::fresh_test_dir("precision")) {
    mlp::test::write_csv_with_header(dir + "/train.csv", 400, 8, 1);
    mlp::test::write_csv_with_header(dir + "/test.csv", 150, 8, 2);
    args = "--train-csv " + dir + "/train.csv --test-csv " + dir +
           "/test.csv --csv-header --batch-size 32 --hidden 48,24 --progress none";
  }
  Result trainer(const std::string& log, const std::string& more, const char* env = "") const {
    return mlp::test::run_binary(std::string(env) + MLP_TRAINER_PATH, more, dir + "/" + log);
  }
  Result train(const std::string& run, const std::string& more, const char* env = "") const {
    return trainer(run, args + " --out " + dir + "/" + run + " " + more, env);
  }
  std::string file(const std::string& run, const std::string& name) const {
    return slurp(dir + "/" + run + "/" + name);
  }
};

int count_lines_with(const std::string& text, const std::string& needle) {
  std::istringstream in(text);
  int n = 0;
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
  return n;
}

// The number after "key": in a JSON text.
double json_value(const std::string& json, const std::string& key) {
  const size_t at = json.find("\"" + key + "\": ");
  if (at == std::string::npos) return std::nan("");
  return std::strtod(json.c_str() + at + key.size() + 4, nullptr);
}

TEST(PrecisionRun, Bf16OnACpuWithoutItEndsWithOneLineAndExitTwo) {
  if (!gemm_backend_available(GemmBackend::kOnednn)) GTEST_SKIP() << "no oneDNN in this build";
  const Workspace w;
  const Result r = w.train("refused", "--epochs 1 --precision bf16", kHidden);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines_with(r.err, ""), 1) << r.err;
  EXPECT_EQ(r.err.rfind("trainer: error: --precision bf16: this CPU lacks ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("avx512_bf16"), std::string::npos) << r.err;
  // Nothing was trained or written.
  EXPECT_EQ(w.file("refused", "summary.json"), "");
}

TEST(PrecisionRun, Bf16WithAnotherBackendIsAUsageError) {
  const Workspace w;
  const Result r = w.train("eigen", "--epochs 1 --precision bf16 --gemm eigen");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--precision: bf16 products run on oneDNN"), std::string::npos) << r.err;
}

TEST(PrecisionRun, Bf16IsRecordedRepeatableAndEvaluatedExactly) {
  if (!bf16_products_run()) GTEST_SKIP() << "no bf16 products on this CPU or build";
  const Workspace w;
  for (const char* run : {"a", "b"}) {
    const Result r = w.train(run, "--epochs 3 --precision bf16");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_NE(w.file("a", "config.txt").find("precision: BF16"), std::string::npos);
  const std::string summary = w.file("a", "summary.json");
  EXPECT_NE(summary.find("\"gemm_backend\": \"onednn\""), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"onednn_bf16\": "), std::string::npos) << summary;
  // Same precision, backend and rank count: the same bits.
  const TrainedModel a = load_trained_model(w.dir + "/a/model.pb");
  const TrainedModel b = load_trained_model(w.dir + "/b/model.pb");
  EXPECT_EQ(a.file.config().precision(), pb::BF16);
  EXPECT_EQ(a.params, b.params);
  EXPECT_EQ(a.file.run_metrics().test_loss(), b.file.run_metrics().test_loss());

  const Result e = w.trainer("eval", "evaluate --model " + w.dir + "/a/model.pb --test-csv " +
                                         w.dir + "/test.csv --csv-header --json " + w.dir +
                                         "/eval.json");
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const std::string json = slurp(w.dir + "/eval.json");
  EXPECT_EQ(json_value(json, "loss"), a.file.run_metrics().test_loss());
  EXPECT_EQ(json_value(json, "accuracy"), a.file.run_metrics().test_acc());

  // predict runs the model's bf16 products: on a CPU without them it refuses.
  const std::string predict = "predict --model " + w.dir + "/a/model.pb --input " + w.dir +
                              "/test.csv --csv-header --csv-targets 1 --output " + w.dir + "/pred.csv";
  EXPECT_EQ(w.trainer("predict", predict).exit_code, 0);
  const Result refused = w.trainer("predict_refused", predict, kHidden);
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("this CPU lacks avx512_bf16"), std::string::npos) << refused.err;
}

TEST(PrecisionRun, ResumingUnderAnotherPrecisionWarnsOnce) {
  if (!bf16_products_run()) GTEST_SKIP() << "no bf16 products on this CPU or build";
  const Workspace w;
  ASSERT_EQ(w.train("run", "--epochs 1 --gemm onednn").exit_code, 0);
  const Result r = w.train("run", "--epochs 2 --resume auto --precision bf16");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_lines_with(r.err, "the checkpoint was trained with"), 1) << r.err;
  EXPECT_NE(r.err.find("trainer: warning: the checkpoint was trained with --precision fp32, this "
                       "run uses bf16"),
            std::string::npos)
      << r.err;
  const Result same = w.train("run", "--epochs 3 --resume auto --precision bf16");
  ASSERT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(count_lines_with(same.err, "the checkpoint was trained with"), 0) << same.err;
}

}  // namespace
}  // namespace mlp
