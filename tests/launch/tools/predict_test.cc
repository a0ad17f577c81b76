// `trainer predict` end to end: class probabilities and the predicted class agree with evaluate,
// target columns can be skipped, hidden activations and regression outputs have their columns,
// bad rows end with one line and exit 3, and a million-row input streams in bounded memory.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/model_file.h"
#include "tests/launch/process_run.h"
#include "tests/support/synthetic_data.h"

namespace mlp {
namespace {

constexpr int kFeatures = 8;

using Result = test::Run;
using test::run_binary;
using test::slurp;

std::vector<std::vector<std::string>> read_rows(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream s(line);
    std::string field;
    while (std::getline(s, field, ',')) fields.push_back(field);
    rows.push_back(fields);
  }
  return rows;
}

class Predict : public ::testing::Test {
 protected:
  // Each test runs in its own process (test discovery), in its own folder, on its own run.
  void SetUp() override {
    dir_ = test::fresh_test_dir("predict");
    test::write_csv_with_header(dir_ + "/train.csv", 300, kFeatures, 4);
    test::write_csv_with_header(dir_ + "/test.csv", 120, kFeatures, 5);
    test::write_csv_with_header(dir_ + "/train_reg.csv", 300, kFeatures, 6, true);
    for (const char* kind : {"class", "reg"}) {
      const bool reg = std::string(kind) == "reg";
      const Result r = run_binary(
          MLP_TRAINER_PATH,
          "--train-csv " + dir_ +
              (reg ? "/train_reg.csv --loss squared_error --csv-targets 2"
                   : "/train.csv --test-csv " + dir_ + "/test.csv") +
              " --csv-header --standardize --hidden 16,8 --epochs 5 --lr 0.01 --progress none "
              "--out " +
              dir_ + "/" + kind,
          dir_ + "/train_" + kind);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }

  Result predict(const std::string& args, const std::string& log) {
    return run_binary(MLP_TRAINER_PATH, "predict " + args, dir_ + "/" + log);
  }

  std::string dir_;
};

TEST_F(Predict, ProbabilitiesAndClassesAgreeWithEvaluate) {
  const std::string model = " --model " + dir_ + "/class/model.pb";
  Result r = predict(model + " --input " + dir_ +
                         "/test.csv --csv-header --csv-targets 1 --output " + dir_ + "/p.csv",
                     "p");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto rows = read_rows(dir_ + "/p.csv");
  const auto data = read_rows(dir_ + "/test.csv");
  ASSERT_EQ(rows.size(), 121u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"predicted", "prob_0", "prob_1", "prob_2"}));
  int correct = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].size(), 4u);
    std::vector<double> p;
    for (int k = 1; k <= 3; ++k) p.push_back(std::stod(rows[i][k]));
    EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-6);
    EXPECT_EQ(std::stoi(rows[i][0]), std::max_element(p.begin(), p.end()) - p.begin());
    correct += rows[i][0] == data[i][0];
  }
  const TrainedModel trained = load_trained_model(dir_ + "/class/model.pb");
  EXPECT_EQ(correct / 120.0, trained.file.run_metrics().test_acc());

  // Features only (the label column cut off) give the same file.
  std::system(("cut -d, -f2- " + dir_ + "/test.csv > " + dir_ + "/features.csv").c_str());
  r = predict(model + " --input " + dir_ + "/features.csv --csv-header --output " + dir_ + "/f.csv",
              "f");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(slurp(dir_ + "/f.csv"), slurp(dir_ + "/p.csv"));
  // A CSV streamed through a pipe, read as it comes.
  r = run_binary("cat " + dir_ + "/features.csv | " + MLP_TRAINER_PATH,
                 "predict" + model + " --input /dev/stdin --csv-header --output " + dir_ + "/s.csv",
                 dir_ + "/stdin");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(slurp(dir_ + "/s.csv"), slurp(dir_ + "/p.csv"));
}

TEST_F(Predict, HiddenActivationsAndRegressionOutputs) {
  Result r =
      predict(" --model " + dir_ + "/class/model.pb --input " + dir_ +
                  "/test.csv --csv-header --csv-targets 1 --layer 2 --output " + dir_ + "/h.csv",
              "h");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto hidden = read_rows(dir_ + "/h.csv");
  ASSERT_EQ(hidden.size(), 121u);
  EXPECT_EQ(hidden[0].size(), 8u);
  EXPECT_EQ(hidden[0][7], "unit_7");
  for (size_t i = 1; i < hidden.size(); ++i)
    for (const std::string& v : hidden[i]) EXPECT_GE(std::stod(v), 0.0);  // ReLU units

  r = predict(" --model " + dir_ + "/class/model.pb --input " + dir_ + "/test.csv --csv-header " +
                  "--csv-targets 1 --layer 3 --output " + dir_ + "/x.csv",
              "layer3");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "trainer: error: --layer: 3 is not a hidden layer of the model (2 hidden layer(s), "
            "numbered from 1)\n");

  r = predict(" --model " + dir_ + "/reg/model.pb --input " + dir_ +
                  "/train_reg.csv --csv-header --csv-targets 2 --output " + dir_ + "/r.csv",
              "r");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto outputs = read_rows(dir_ + "/r.csv");
  ASSERT_EQ(outputs.size(), 301u);
  EXPECT_EQ(outputs[0], (std::vector<std::string>{"output_0", "output_1"}));
}

TEST_F(Predict, BadRowsEndWithOneLineAndExitThree) {
  std::ofstream(dir_ + "/ragged.csv") << "1,2,3,4,5,6,7,8\n1,2,3,4\n";
  Result r = predict(" --model " + dir_ + "/class/model.pb --input " + dir_ +
                         "/ragged.csv --output " + dir_ + "/bad.csv",
                     "ragged");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "trainer: error: " + dir_ +
                       "/ragged.csv:2: expected 8 fields, found 4 (line 1 has 8)\n");
  EXPECT_FALSE(std::ifstream(dir_ + "/bad.csv").good());  // nothing half-written

  r = predict(" --model " + dir_ + "/class/model.pb --input " + dir_ + "/test.csv --output " +
                  dir_ + "/bad.csv",
              "header");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "trainer: error: " + dir_ +
                       "/test.csv:1:1: \"label\" is not a number; pass --csv-header if the file "
                       "starts with a header line\n");

  r = predict(" --model " + dir_ + "/class/model.pb --input " + dir_ +
                  "/test.csv --csv-header --output " + dir_ + "/bad.csv",
              "width");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "trainer: error: " + dir_ +
                       "/test.csv:2: 9 feature columns, but the model takes 8; --csv-targets K "
                       "skips K leading target columns\n");
}

TEST_F(Predict, AMillionRowsStreamInBoundedMemory) {
  constexpr int kRows = 1000000;
  const std::string input = dir_ + "/million.csv";
  {
    std::FILE* f = std::fopen(input.c_str(), "w");
    ASSERT_NE(f, nullptr);
    for (int r = 0; r < kRows; ++r)
      std::fprintf(f, "%d.5,%d,1%d.25,-%d,0.%d,%d,%d,-0.%d\n", r % 17, r % 13, r % 7, r % 11,
                   r % 97, r % 5, r % 3, r % 89);
    std::fclose(f);
  }
  int exit_code = -1;
  const long rss =
      test::peak_rss_kib({MLP_TRAINER_PATH, "predict", "--model", dir_ + "/class/model.pb",
                          "--input", input, "--output", dir_ + "/million_out.csv"},
                         &exit_code);
  ASSERT_EQ(exit_code, 0);
  EXPECT_LT(rss, 100 * 1024) << "peak RSS " << rss << " KiB";
  std::ifstream out(dir_ + "/million_out.csv");
  EXPECT_EQ(std::count(std::istreambuf_iterator<char>(out), std::istreambuf_iterator<char>(), '\n'),
            kRows + 1);
  std::printf("predict over %d rows: peak RSS %.1f MiB\n", kRows, rss / 1024.0);
  std::remove(input.c_str());
  std::remove((dir_ + "/million_out.csv").c_str());
}

}  // namespace
}  // namespace mlp
