// `trainer evaluate` end to end: the model file a run writes, evaluated on the run's own test set,
// reproduces the run's test loss and accuracy exactly, alone and under mpirun; a checkpoint is
// accepted too; bad input ends with one line and its exit code.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "core/checkpoint_file.h"
#include "core/model_file.h"
#include "proto/run_records.pb.h"
#include "tests/launch/process_run.h"
#include "tests/support/synthetic_data.h"

namespace mlp {
namespace {

constexpr int kFeatures = 8;

using Result = test::Run;
using test::run_binary;
using test::slurp;

// The number after "key": in a JSON text (NaN when absent or null).
double json_value(const std::string& json, const std::string& key) {
  const size_t at = json.find("\"" + key + "\": ");
  if (at == std::string::npos) return std::nan("");
  return std::strtod(json.c_str() + at + key.size() + 4, nullptr);
}

// One run of the trainer on CSV data with standardization and early stopping, shared by the tests.
class Evaluate : public ::testing::Test {
 protected:
  // Each test runs in its own process (test discovery), in its own folder, on its own run.
  void SetUp() override {
    dir_ = test::fresh_test_dir("evaluate");
    test::write_csv_with_header(dir_ + "/train.csv", 400, kFeatures, 1);
    test::write_csv_with_header(dir_ + "/test.csv", 250, kFeatures, 2);
    const Result r = run_binary(MLP_TRAINER_PATH,
                                "--train-csv " + dir_ + "/train.csv --test-csv " + dir_ +
                                    "/test.csv --csv-header --standardize --hidden 64 --epochs 40 "
                                    "--lr 0.01 --val-fraction 0.25 --early-stopping-patience 2 "
                                    "--progress none --out " +
                                    dir_ + "/run",
                                dir_ + "/train");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  Result evaluate(const std::string& launcher, const std::string& args, const std::string& log) {
    return run_binary(launcher + MLP_TRAINER_PATH, "evaluate " + args, dir_ + "/" + log);
  }

  std::string dir_;
};

TEST_F(Evaluate, ReproducesTheRunsTestMetricsExactly) {
  const TrainedModel model = load_trained_model(dir_ + "/run/model.pb");
  ASSERT_TRUE(model.standardized);
  // The kept weights are the best epoch's, put back by early stopping.
  EXPECT_TRUE(model.file.run_metrics().restored_best());
  EXPECT_EQ(model.file.feature_names_size(), kFeatures);
  const std::string flags = "--model " + dir_ + "/run/model.pb --test-csv " + dir_ +
                            "/test.csv --csv-header --json " + dir_ + "/eval.json";
  const Result r = evaluate("", flags, "eval");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string json = slurp(dir_ + "/eval.json");
  EXPECT_EQ(json_value(json, "accuracy"), model.file.run_metrics().test_acc());
  EXPECT_EQ(json_value(json, "loss"), model.file.run_metrics().test_loss());
  EXPECT_EQ(json_value(json, "samples"), 250);
  for (const char* key : {"\"per_class\": [", "\"confusion\": [", "\"precision\": ", "\"f1\": "})
    EXPECT_NE(json.find(key), std::string::npos) << key;
  // The file reads back as the report message: a row of the confusion matrix per class, its
  // counts summing to the class's support and all of them to the samples.
  pb::EvaluationReport report;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &report).ok()) << json;
  const int classes = report.per_class_size();
  ASSERT_EQ(classes, model.num_classes);
  ASSERT_EQ(report.confusion_size(), classes);
  double total = 0;
  for (int label = 0; label < classes; ++label) {
    EXPECT_EQ(report.per_class(label).class_(), label);
    double row = 0;
    for (const auto& count : report.confusion(label).values()) row += count.number_value();
    EXPECT_EQ(row, report.per_class(label).support()) << label;
    total += row;
  }
  EXPECT_EQ(total, report.samples());
  // summary.json prints the same double with 9 digits.
  char text[32];
  std::snprintf(text, sizeof text, "\"test_acc\": %.9g", json_value(json, "accuracy"));
  EXPECT_NE(slurp(dir_ + "/run/summary.json").find(text), std::string::npos) << text;
  EXPECT_NE(r.out.find("class  precision  recall     f1  support"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("on its test set: equal to the last bit"), std::string::npos) << r.out;
}

// The model file holds the run's metrics as summary.json has them, and inspect prints them.
TEST_F(Evaluate, TheModelFileHoldsTheRunsMetrics) {
  const pb::RunMetrics run = load_trained_model(dir_ + "/run/model.pb").file.run_metrics();
  const std::string json = slurp(dir_ + "/run/summary.json");
  pb::Summary summary;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &summary).ok()) << json;
  EXPECT_EQ(run.kept_epoch().SerializeAsString(), summary.kept_epoch().SerializeAsString());
  EXPECT_EQ(run.kept_epoch().epoch(), run.best_epoch());
  EXPECT_EQ(run.epochs_run(), summary.epochs_run());
  const Result r =
      run_binary(MLP_TRAINER_PATH, "inspect " + dir_ + "/run/model.pb", dir_ + "/inspect");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\nmetrics: kept_epoch { epoch: " + std::to_string(run.best_epoch())),
            std::string::npos)
      << r.out;
}

TEST_F(Evaluate, UnderMpirunEachSampleOnce) {
  setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
  setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
  const TrainedModel model = load_trained_model(dir_ + "/run/model.pb");
  const Result r = evaluate("mpirun -np 3 --oversubscribe ",
                            "--model " + dir_ + "/run/model.pb --test-csv " + dir_ +
                                "/test.csv --csv-header --json " + dir_ + "/eval3.json",
                            "eval3");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string json = slurp(dir_ + "/eval3.json");
  EXPECT_EQ(json_value(json, "samples"), 250);
  EXPECT_EQ(json_value(json, "accuracy"), model.file.run_metrics().test_acc());
  EXPECT_NEAR(json_value(json, "loss"), model.file.run_metrics().test_loss(), 1e-6);
}

TEST_F(Evaluate, AcceptsACheckpoint) {
  const std::string checkpoints = dir_ + "/run/checkpoints";
  const Result r = evaluate("",
                            "--model $(ls " + checkpoints + "/ckpt-*.pb | tail -1) --test-csv " +
                                dir_ + "/test.csv --csv-header --json " + dir_ + "/ckpt.json",
                            "ckpt");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The checkpoint carries the run's standardization, without which raw features would meet
  // weights trained on standardized ones.
  const std::string newest = list_checkpoints(checkpoints).back();
  EXPECT_TRUE(load_trained_model(newest).standardized);
  const double accuracy = json_value(slurp(dir_ + "/ckpt.json"), "accuracy");
  EXPECT_GT(accuracy, 0.5);
}

TEST_F(Evaluate, BadInputEndsWithOneLine) {
  const std::string model = dir_ + "/run/model.pb";
  std::system(("head -c 100 " + model + " > " + dir_ + "/cut.pb").c_str());
  Result r = evaluate(
      "", "--model " + dir_ + "/cut.pb --test-csv " + dir_ + "/test.csv --csv-header", "cut");
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_EQ(r.err.substr(0, r.err.find(": not a valid")), "trainer: error: " + dir_ + "/cut.pb");
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  test::write_csv_with_header(dir_ + "/regression.csv", 20, kFeatures, 3, true);
  r = evaluate("", "--model " + model + " --test-csv " + dir_ + "/regression.csv --csv-header",
               "wide");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err.rfind("trainer: error: " + dir_ + "/regression.csv:2:1: class label \"", 0), 0)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  // An unwritable --json path is refused before the evaluation: no report, one line.
  r = evaluate("", "--model " + model + " --test-csv " + dir_ + "/test.csv --csv-header --json " +
                       dir_ + "/absent/eval.json",
               "json");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("trainer: error: " + dir_ + "/absent/eval.json", 0), 0) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  r = evaluate("", "--test-csv " + dir_ + "/test.csv", "usage");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "trainer: error: trainer evaluate: the option '--model' is required but missing (see "
            "trainer evaluate --help)\n");
}

}  // namespace
}  // namespace mlp
