// CSV tables of flat records: the header is the fields in order, an absent field an empty cell,
// and rows read back by column name into the same records, whatever columns an earlier or later
// writer had; a cell that is not a number is named with its file, line and column.
#include "core/record_csv.h"

#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "core/errors.h"
#include "proto/epoch_metrics.pb.h"
#include "tests/core/test_files.h"

namespace mlp {
namespace {

pb::EpochMetrics regression_epoch(int epoch) {
  pb::EpochMetrics m;
  m.set_epoch(epoch);
  m.set_train_loss(0.1234567891);
  m.set_samples_per_second(1234567);
  m.set_epoch_seconds(0.5);
  m.set_learning_rate(0.01);
  return m;
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// Fields added to the record after these come after them.
TEST(RecordCsv, HeaderIsTheFieldsInOrderAndAnAbsentFieldAnEmptyCell) {
  const std::string header = csv_header(*pb::EpochMetrics::descriptor());
  EXPECT_EQ(header.rfind("epoch,train_loss,train_acc,val_loss,val_acc,samples_per_second,"
                         "epoch_seconds,learning_rate",
                         0),
            0u)
      << header;
  EXPECT_EQ(csv_row(regression_epoch(12), 6).rfind("12,0.123457,,,,1.23457e+06,0.5,0.01", 0), 0u);
  EXPECT_EQ(csv_row(regression_epoch(12), 8).rfind("12,0.12345679,,,,1234567,0.5,0.01", 0), 0u);
  EXPECT_EQ(csv_row(pb::EpochMetrics{}, 6),
            std::string(pb::EpochMetrics::descriptor()->field_count() - 1, ','));
  EXPECT_EQ(csv_number(std::numeric_limits<double>::infinity(), 6), "");
}

TEST(RecordCsv, RowsReadBackAsTheRecordsWritten) {
  const test_files::TempDir dir;
  std::vector<pb::EpochMetrics> written = {regression_epoch(1), regression_epoch(2)};
  written[1].set_train_acc(0.75);
  written[1].set_val_loss(2);
  std::string text = csv_header(*pb::EpochMetrics::descriptor()) + "\n";
  for (const pb::EpochMetrics& m : written) text += csv_row(m, 6) + "\n";
  write(dir.file("metrics.csv"), text);
  const std::vector<pb::EpochMetrics> read =
      read_csv_records<pb::EpochMetrics>(dir.file("metrics.csv"));
  ASSERT_EQ(read.size(), 2u);
  for (size_t i = 0; i < read.size(); ++i) {
    EXPECT_EQ(csv_row(read[i], 6), csv_row(written[i], 6));
    EXPECT_EQ(read[i].has_val_acc(), written[i].has_val_acc());
    EXPECT_EQ(read[i].has_train_acc(), written[i].has_train_acc());
  }
}

TEST(RecordCsv, ColumnsAreMatchedByName) {
  const test_files::TempDir dir;
  // Another order, a column this build does not know, no learning_rate, a short row, a blank
  // line and a carriage return.
  write(dir.file("metrics.csv"), "val_loss,epoch,f1_score,train_loss\r\n0.5,1,0.9,0.75\r\n\n,2\n");
  const std::vector<pb::EpochMetrics> read =
      read_csv_records<pb::EpochMetrics>(dir.file("metrics.csv"));
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].epoch(), 1);
  EXPECT_EQ(read[0].val_loss(), 0.5);
  EXPECT_EQ(read[0].train_loss(), 0.75);
  EXPECT_FALSE(read[0].has_learning_rate());
  EXPECT_EQ(read[1].epoch(), 2);
  EXPECT_FALSE(read[1].has_val_loss());
  EXPECT_FALSE(read[1].has_train_loss());
  EXPECT_TRUE(read_csv_records<pb::EpochMetrics>(dir.file("missing.csv")).empty());
}

TEST(RecordCsv, ACellThatIsNotANumberIsNamed) {
  const test_files::TempDir dir;
  write(dir.file("metrics.csv"), "epoch,train_loss\n1,0.5\n2,0.4x\n");
  try {
    read_csv_records<pb::EpochMetrics>(dir.file("metrics.csv"));
    ADD_FAILURE() << "accepted";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()),
              dir.file("metrics.csv") + ":3: train_loss: \"0.4x\" is not a number");
  }
  write(dir.file("metrics.csv"), "epoch\n1.5\n");
  EXPECT_THROW(read_csv_records<pb::EpochMetrics>(dir.file("metrics.csv")), UsageError);
}

TEST(RecordCsv, TextCellsAreQuotedOnlyWhenTheyMustBe) {
  EXPECT_EQ(csv_text("relu"), "relu");
  EXPECT_EQ(csv_text("100,10"), "\"100,10\"");
  EXPECT_EQ(csv_text("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_text("two\nlines"), "\"two\nlines\"");
}

}  // namespace
}  // namespace mlp
