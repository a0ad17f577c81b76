// The run folder: summary.json and events.jsonl are protobuf JSON with snake_case keys, NaN
// written as null and an epoch metric that does not apply left out; metrics.csv leaves its cell
// empty; a disabled writer (ranks other than 0) writes nothing.
#include "launch/train/run_output.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

#include "tests/launch/process_run.h"
#include "tests/launch/run_records.h"

namespace mlp {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

TEST(RunOutput, SummaryIsOneFieldALineWithNullOrAbsentForWhatDoesNotApply) {
  const std::string dir = test::fresh_test_dir("run_output");
  pb::Summary s;
  s.set_epochs_run(3);
  s.set_global_steps(1e10);  // past int32, still a JSON number
  *s.mutable_best_epoch() = number_or_null(kNan);
  s.mutable_kept_epoch()->set_epoch(3);
  s.mutable_kept_epoch()->set_val_loss(0.25);
  s.set_restored_best(true);
  s.mutable_config()->set_batch_size(16);
  RunOutput(dir, true).write_summary(s);
  const std::string text = test::slurp(dir + "/summary.json");
  EXPECT_NE(text.find("\n \"epochs_run\": 3,\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\"best_epoch\": null"), std::string::npos) << text;
  EXPECT_NE(text.find("\"kept_epoch\": {\n  \"epoch\": 3,\n  \"val_loss\": 0.25\n },"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\"batch_size\": 16"), std::string::npos) << text;
  const pb::Summary back = test::read_summary(dir);
  EXPECT_EQ(back.global_steps(), 1e10);
  EXPECT_EQ(back.kept_epoch().val_loss(), 0.25);
  EXPECT_FALSE(back.kept_epoch().has_val_acc());
  EXPECT_TRUE(std::isnan(test::number(back.best_epoch())));
  EXPECT_TRUE(back.restored_best());
}

TEST(RunOutput, EventsAreOneJsonObjectALineWithTimeAndName) {
  const std::string dir = test::fresh_test_dir("run_output");
  {
    RunOutput out(dir, true);
    out.start({}, false, false);
    pb::Event e;
    e.set_path("a \"quoted\"\npath");
    e.set_global_step(7);
    out.log_event("checkpoint_saved", e);
    out.log_event("finish");
  }
  const std::vector<pb::Event> events = test::read_events(dir);
  ASSERT_EQ(events.size(), 2u) << test::slurp(dir + "/events.jsonl");
  EXPECT_EQ(events[0].event(), "checkpoint_saved");
  EXPECT_EQ(events[0].path(), "a \"quoted\"\npath");
  EXPECT_EQ(events[0].global_step(), 7);
  EXPECT_GT(events[0].time(), 1.6e9);
  EXPECT_EQ(events[1].event(), "finish");
  EXPECT_FALSE(events[1].has_global_step());
}

TEST(RunOutput, BytesThatAreNotUtf8AreWrittenAsQuestionMarks) {
  const std::string dir = test::fresh_test_dir("run_output");
  {
    RunOutput out(dir, true);
    out.start({}, false, false);
    pb::Event e;
    e.set_message("cannot read /data/caf\xe9.csv");
    e.set_path("/data/na\xc3\xafve");  // valid UTF-8: kept
    out.log_event("error", e);
  }
  const std::vector<pb::Event> events = test::read_events(dir);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].message(), "cannot read /data/caf?.csv");
  EXPECT_EQ(events[0].path(), "/data/na\xc3\xafve");
}

// metrics.csv is the record's fields in order, an absent one an empty cell; the columns of today
// stay first and in place.
TEST(RunOutput, ResumingAppendsEventsAndRewritesTheKeptMetricsRows) {
  const std::string dir = test::fresh_test_dir("run_output");
  pb::EpochMetrics m;
  m.set_epoch(1);
  m.set_train_loss(0.5);
  m.set_val_loss(0.6);
  m.set_samples_per_second(1234567);
  m.set_epoch_seconds(1.5);
  m.set_learning_rate(0.01);
  {
    RunOutput out(dir, true);
    out.start({}, false, false);
    out.log_event("start");
    out.append_epoch(m);
    pb::EpochMetrics second = m;
    second.set_epoch(2);
    out.append_epoch(second);
  }
  {
    RunOutput out(dir, true);
    out.start({m}, true, false);
    out.log_event("resume");
  }
  EXPECT_EQ(test::read_events(dir).size(), 2u);
  std::istringstream metrics(test::slurp(dir + "/metrics.csv"));
  std::string header, row, more;
  std::getline(metrics, header);
  std::getline(metrics, row);
  EXPECT_EQ(header.rfind("epoch,train_loss,train_acc,val_loss,val_acc,samples_per_second,"
                         "epoch_seconds,learning_rate",
                         0),
            0u)
      << header;
  EXPECT_EQ(row.rfind("1,0.5,,0.6,,1.23457e+06,1.5,0.01", 0), 0u) << row;
  EXPECT_FALSE(std::getline(metrics, more)) << more;
}

TEST(RunOutput, DisabledWritesNothing) {
  const std::string dir = test::fresh_test_dir("run_output") + "/rank1";
  RunOutput out(dir, false);
  out.start({}, false, true);
  out.log_event("start");
  out.write_summary(pb::Summary{});
  EXPECT_FALSE(std::filesystem::exists(dir));
}

}  // namespace
}  // namespace mlp
