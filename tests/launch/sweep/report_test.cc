// Sweep reports from hand-written trial results: the three CSV tables, missing keys as empty
// fields, mean and standard deviation over seeds, and a best configuration chosen by the
// validation metric even when the test metric would pick another.
#include "launch/sweep/report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/errors.h"
#include "launch/sweep/ledger.h"
#include "launch/sweep/plan.h"
#include "tests/launch/sweep/test_support.h"

namespace mlp {
namespace {

using sweep_test::fresh_dir;
using sweep_test::slurp;
using sweep_test::write;

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  std::string line;
  while (std::getline(s, line)) out.push_back(line);
  return out;
}

// The cells of a CSV line, quotes undone.
std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '"' && quoted && i + 1 < line.size() && line[i + 1] == '"') {
      out.back() += line[++i];
    } else if (line[i] == '"') {
      quoted = !quoted;
    } else if (line[i] == ',' && !quoted) {
      out.emplace_back();
    } else {
      out.back() += line[i];
    }
  }
  return out;
}

// The cell of `table` (its lines, a header first) in row `row` (from 1) and column `column`.
std::string cell(const std::vector<std::string>& table, size_t row, const std::string& column) {
  const std::vector<std::string> header = cells(table.at(0)), values = cells(table.at(row));
  const size_t at = std::find(header.begin(), header.end(), column) - header.begin();
  EXPECT_LT(at, header.size()) << "no column " << column << " in " << table[0];
  return at < values.size() ? values[at] : "(missing)";
}

TEST(SweepReport, SummaryNumbersSkipTheNestedConfig) {
  const std::string path = fresh_dir("summary_json") + "/summary.json";
  write(path,
        "{\n  \"test_acc\": 0.75,\n  \"best_epoch\": null,\n  \"note\": \"a, b\",\n"
        "  \"kept_epoch\": {\"epoch\": 3, \"val_loss\": 0.5, \"f1\": 0.25},\n"
        "  \"config\": {\"model\": {\"hidden\": \"8\"}, \"test_acc\": 3, \"list\": [1, {\"a\": "
        "2}]},\n"
        "  \"epochs_run\": 4\n}\n");
  const std::map<std::string, double> numbers = read_summary_numbers(path);
  EXPECT_EQ(numbers.size(), 5u);
  EXPECT_DOUBLE_EQ(numbers.at("test_acc"), 0.75);
  EXPECT_TRUE(std::isnan(numbers.at("best_epoch")));
  EXPECT_DOUBLE_EQ(numbers.at("epochs_run"), 4);
  EXPECT_DOUBLE_EQ(numbers.at("kept_epoch.epoch"), 3);
  EXPECT_DOUBLE_EQ(numbers.at("kept_epoch.val_loss"), 0.5);
  EXPECT_TRUE(read_summary_numbers(path + ".missing").empty());
  // The JSON parser's message quotes the file over several lines; the error stays one line.
  write(path, "{\"test_acc\": \n\n" + std::string(5000, ' ') + "\n}");
  try {
    read_summary_numbers(path);
    ADD_FAILURE() << "a summary that is not JSON was read";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(path + ": not a run summary: ", 0), 0u) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_LT(what.size(), 1000u) << what;
  }
}

// Trainers before kept_epoch wrote the kept epoch's train_* and val_* at the top level, null
// when they did not apply, beside the run's samples_per_second.
TEST(SweepReport, SummaryNumbersOfAnEarlierTrainer) {
  const std::string path = fresh_dir("summary_json") + "/summary.json";
  write(path,
        "{\"train_loss\": 0.5, \"train_acc\": null, \"val_loss\": 0.75, \"val_acc\": null, "
        "\"best_epoch\": 2, \"samples_per_second\": 100, \"test_loss\": 1}");
  const std::map<std::string, double> numbers = read_summary_numbers(path);
  EXPECT_DOUBLE_EQ(numbers.at("kept_epoch.train_loss"), 0.5);
  EXPECT_DOUBLE_EQ(numbers.at("kept_epoch.val_loss"), 0.75);
  EXPECT_FALSE(numbers.count("kept_epoch.val_acc") || numbers.count("kept_epoch.train_acc"));
  EXPECT_FALSE(numbers.count("kept_epoch.samples_per_second"));
  EXPECT_DOUBLE_EQ(numbers.at("samples_per_second"), 100);
  EXPECT_DOUBLE_EQ(numbers.at("best_epoch"), 2);
}

TEST(SweepReport, TablesAndTheBestConfigurationByValidation) {
  const std::string dir = fresh_dir("report");
  write(dir + "/spec.txt",
        "base { epochs: 2 }\n"
        "axis { field: \"model.hidden\" values: [\"8\", \"16,8\"] }\n"
        "replicates: 2\n");
  const pb::SweepLedger planned = write_sweep_plan(read_sweep_spec(dir + "/spec.txt"), dir);
  ASSERT_EQ(planned.trial_size(), 4);
  // Hidden "8": higher validation accuracy, lower test accuracy; "16,8" the reverse.
  const double val[] = {0.80, 0.82, 0.70, 0.72};
  const double test[] = {0.60, 0.62, 0.90, 0.92};
  pb::SweepLedger ledger = planned;
  for (int i = 0; i < 4; ++i) {
    const std::string folder = trial_dir(dir, planned.trial(i).id());
    std::string json =
        "{\n  \"kept_epoch\": {\"epoch\": 2, \"val_acc\": " + std::to_string(val[i]) +
        "},\n  \"test_acc\": " + std::to_string(test[i]) + ",\n";
    if (i == 0) json += "  \"best_epoch\": 2,\n  \"wall_seconds\": 7,\n";
    // A resumed run: the total counts the processes before this one.
    if (i == 1) json += "  \"wall_seconds\": 3,\n  \"total_wall_seconds\": 9,\n";
    json += "  \"config\": {\"out_dir\": \"x\"}\n}\n";
    write(folder + "/summary.json", json);
    write(folder + "/metrics.csv",
          "epoch,train_loss,train_acc,val_loss,val_acc,samples_per_second,epoch_seconds\n"
          "1,0.9,0.5,1.0,0.4,100,0.1\n2,0.5,0.7,0.6,0.6,100,0.1\n");
    ledger.mutable_trial(i)->set_state(pb::DONE);
  }
  write_ledger(dir, ledger);

  const std::string printed_path = dir + "/printed.txt";
  std::FILE* printed = std::fopen(printed_path.c_str(), "w");
  write_sweep_report(dir, ReportOptions{}, printed);
  std::fclose(printed);

  const std::vector<std::string> trials = lines(slurp(dir + "/trials.csv"));
  ASSERT_EQ(trials.size(), 5u);
  // The kept epoch's metrics are named as in metrics.csv.
  EXPECT_EQ(trials[0].find("id,config_id,model.hidden,seed,state,best_epoch,stopped_epoch,"
                           "epochs_run,epoch,train_loss,train_acc,val_loss,val_acc,"
                           "samples_per_second,epoch_seconds,learning_rate,"),
            0u)
      << trials[0];
  EXPECT_EQ(trials[0].substr(trials[0].find(",test_loss")),
            ",test_loss,test_acc,total_wall_seconds");
  EXPECT_EQ(trials[1].find(planned.trial(0).id() + "," + planned.trial(0).config_id() +
                           ",8,1,done,2,,,2,,,,0.8,"),
            0u)
      << trials[1];
  EXPECT_EQ(trials[1].substr(trials[1].find(",,0.6,7")), ",,0.6,7") << trials[1];
  EXPECT_EQ(cell(trials, 1, "val_acc"), "0.8");
  EXPECT_EQ(cell(trials, 1, "test_acc"), "0.6");
  EXPECT_EQ(cell(trials, 2, "total_wall_seconds"), "9");
  EXPECT_EQ(trials[3].find(planned.trial(2).id() + "," + planned.trial(2).config_id() +
                           ",\"16,8\",1,done,,"),
            0u)
      << trials[3];

  const std::vector<std::string> epochs = lines(slurp(dir + "/epochs.csv"));
  ASSERT_EQ(epochs.size(), 1u + 4u * 2u);
  // Every column of metrics.csv; one this metrics.csv lacks is empty.
  EXPECT_EQ(epochs[0].find("id,config_id,model.hidden,seed,epoch,train_loss,train_acc,val_loss,"
                           "val_acc,samples_per_second,epoch_seconds,learning_rate"),
            0u)
      << epochs[0];
  EXPECT_EQ(epochs[2].find(planned.trial(0).id() + "," + planned.trial(0).config_id() +
                           ",8,1,2,0.5,0.7,0.6,0.6,100,0.1,"),
            0u)
      << epochs[2];
  EXPECT_EQ(cell(epochs, 2, "learning_rate"), "");

  const std::vector<std::string> summary = lines(slurp(dir + "/summary.csv"));
  ASSERT_EQ(summary.size(), 3u);
  // Mean, standard deviation and count of each metric of the kept epoch but its number.
  EXPECT_EQ(summary[0].find("config_id,model.hidden,trials,done,diverged,failed,train_loss_mean,"
                            "train_loss_std,train_loss_count,train_acc_mean,train_acc_std,"
                            "train_acc_count,val_loss_mean,val_loss_std,val_loss_count,"
                            "val_acc_mean,val_acc_std,val_acc_count,samples_per_second_mean,"),
            0u)
      << summary[0];
  EXPECT_EQ(summary[0].substr(summary[0].find(",test_loss_mean")),
            ",test_loss_mean,test_loss_std,test_loss_count,test_acc_mean,test_acc_std,"
            "test_acc_count,best_epoch_mean,best_epoch_std,best_epoch_count");
  EXPECT_EQ(
      summary[1].find(planned.trial(0).config_id() + ",8,2,2,0,0,,,0,,,0,,,0,0.81,0.014142136,2,"),
      0u)
      << summary[1];
  EXPECT_EQ(cell(summary, 1, "learning_rate_count"), "0");
  EXPECT_EQ(cell(summary, 1, "test_acc_mean"), "0.61");
  // best_epoch: one value over two seeds, so a mean without a standard deviation.
  EXPECT_EQ(summary[1].substr(summary[1].find(",0.61,")), ",0.61,0.014142136,2,2,,1");

  const std::string text = slurp(printed_path);
  EXPECT_NE(
      text.find(
          "best configuration by mean val_acc over its seeds (2 of 2 done): model.hidden=8\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("test_acc 0.61 ± 0.014"), std::string::npos) << text;
}

TEST(SweepReport, ConfigurationsWithEverySeedDonePreferredAndFinishedElsewhereCounts) {
  const std::string dir = fresh_dir("report_partial");
  write(dir + "/spec.txt", "axis { field: \"epochs\" values: [\"1\", \"2\"] }\nreplicates: 2\n");
  pb::SweepLedger ledger = write_sweep_plan(read_sweep_spec(dir + "/spec.txt"), dir);
  // epochs=1: one seed done with the best accuracy, one diverged. epochs=2: both done, under
  // SLURM, so the ledger still says planned.
  const double val[] = {0.99, 0, 0.70, 0.72};
  for (int i : {0, 2, 3})
    write(trial_dir(dir, ledger.trial(i).id()) + "/summary.json",
          "{\"kept_epoch\": {\"val_acc\": " + std::to_string(val[i]) + "}}");
  ledger.mutable_trial(0)->set_state(pb::DONE);
  ledger.mutable_trial(1)->set_state(pb::DIVERGED);
  write_ledger(dir, ledger);

  const std::string printed_path = dir + "/printed.txt";
  std::FILE* printed = std::fopen(printed_path.c_str(), "w");
  write_sweep_report(dir, ReportOptions{}, printed);
  std::fclose(printed);
  EXPECT_NE(slurp(printed_path).find("(2 of 2 done): epochs=2\n"), std::string::npos)
      << slurp(printed_path);
  const std::vector<std::string> summary = lines(slurp(dir + "/summary.csv"));
  ASSERT_EQ(summary.size(), 3u);
  EXPECT_EQ(summary[1].find(ledger.trial(0).config_id() + ",1,2,1,1,0,,,0,,,0,,,0,0.99,,1,"), 0u)
      << summary[1];
  EXPECT_NE(lines(slurp(dir + "/trials.csv"))[3].find(",done,"), std::string::npos);
}

}  // namespace
}  // namespace mlp
