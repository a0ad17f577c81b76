// CSV reader: classification and regression files load into the right shapes, the accepted
// variations (header, CRLF, trailing blank lines) work, and each malformed file is refused with
// path:line:column and the reason.
#include "core/csv_reader.h"

#include <gtest/gtest.h>

#include "tests/core/gathered.h"
#include "tests/core/test_files.h"

namespace mlp {
namespace {

using test_files::TempDir;
using test_files::throws_data_error;
using test_files::write_text;

class CsvReader : public ::testing::Test {
 protected:
  std::string csv(const std::string& text) { return write_text(dir_.file("data.csv"), text); }

  // Asserts that reading `text` as classification fails with exactly path + suffix.
  ::testing::AssertionResult fails_with(const std::string& text, const std::string& suffix,
                                        const CsvOptions& options = {}) {
    const std::string path = csv(text);
    try {
      read_csv(path, options);
    } catch (const DataError& e) {
      if (e.what() == path + suffix) return ::testing::AssertionSuccess();
      return ::testing::AssertionFailure() << "message: " << e.what();
    }
    return ::testing::AssertionFailure() << "no DataError for:\n" << text;
  }

  TempDir dir_;
};

TEST_F(CsvReader, Classification) {
  const Dataset d = read_csv(csv("2,0.5,-1\n0,1.5,2e3\n4,-0.25,7\n"), {});
  ASSERT_EQ(d.size(), 3);
  ASSERT_EQ(d.features(), 2);
  EXPECT_EQ(gather_all(d).labels, (std::vector<int32_t>{2, 0, 4}));
  EXPECT_EQ(d.num_classes, 5);
  EXPECT_EQ(gather_all(d).targets.size(), 0);
  EXPECT_TRUE(d.classification());
  Matrix<float> expected(2, 3);  // (I, N): one column per row of the file
  expected << 0.5f, 1.5f, -0.25f, -1, 2000, 7;
  EXPECT_EQ(gather_all(d).x, expected);
}

TEST_F(CsvReader, RegressionWithSeveralTargets) {
  CsvOptions options;
  options.classify = false;
  options.targets = 2;
  const Dataset d = read_csv(csv("1.5,-2,10,20,30\n0.25,4,11,21,31\n"), options);
  ASSERT_EQ(d.size(), 2);
  ASSERT_EQ(d.features(), 3);
  EXPECT_TRUE(gather_all(d).labels.empty());
  EXPECT_EQ(d.num_classes, 0);
  EXPECT_FALSE(d.classification());
  Matrix<float> targets(2, 2);  // (K, N)
  targets << 1.5f, 0.25f, -2, 4;
  EXPECT_EQ(gather_all(d).targets, targets);
  Matrix<float> x(3, 2);  // (I, N)
  x << 10, 11, 20, 21, 30, 31;
  EXPECT_EQ(gather_all(d).x, x);
}

TEST_F(CsvReader, HeaderIsSkippedOnlyWhenAsked) {
  CsvOptions options;
  options.header = true;
  const Dataset d = read_csv(csv("label,a,b\n1,2,3\n"), options);
  ASSERT_EQ(d.size(), 1);
  EXPECT_EQ(gather_all(d).labels, (std::vector<int32_t>{1}));
  EXPECT_TRUE(fails_with("label,a,b\n1,2,3\n",
                         ":1:1: \"label\" is not a number; pass --csv-header if the file starts "
                         "with a header line"));
}

TEST_F(CsvReader, HeaderNamesSplitIntoTargetsAndFeatures) {
  CsvOptions options;
  options.header = true;
  options.classify = false;
  options.targets = 2;
  const std::string path = csv("y1, y2,a,b\n1,2,3,4\n");
  read_csv(path, options);
  const CsvHeader header = read_csv_header(path, 2);
  EXPECT_EQ(header.targets, (std::vector<std::string>{"y1", "y2"}));
  EXPECT_EQ(header.features, (std::vector<std::string>{"a", "b"}));
}

TEST_F(CsvReader, PerceptronLabelsMayBeSigned) {
  CsvOptions options;
  options.signed_labels = true;
  EXPECT_EQ(gather_all(read_csv(csv("-1,2\n1,3\n-1,4\n"), options)).labels,
            (std::vector<int32_t>{0, 1, 0}));
  EXPECT_TRUE(fails_with("-1,2\n1,3\n0,4\n",
                         ":3:1: labels -1 (line 1) and 0 (line 3) both appear; write the two "
                         "classes as -1/+1 or as 0/1",
                         options));
  EXPECT_TRUE(fails_with("-1,2\n",
                         ":1:1: class label \"-1\" is not an integer >= 0; "
                         "real-valued targets need regression mode"));
}

TEST_F(CsvReader, RowReaderStreamsRowsWithTheirLineNumbers) {
  CsvRowReader reader(csv("a,b\n1,2\n\n3,4\n"), true, 0);
  EXPECT_EQ(reader.header(), (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(reader.next());
  EXPECT_EQ(reader.values(), (std::vector<float>{1, 2}));
  EXPECT_EQ(reader.line(), 2);
  EXPECT_THROW(reader.next(), DataError);  // the blank line 3 is followed by data
  CsvRowReader again(csv("1,2\n3,4\n\n"), false, 0);
  int rows = 0;
  while (again.next()) ++rows;
  EXPECT_EQ(rows, 2);
  EXPECT_EQ(again.width(), 2u);
}

TEST_F(CsvReader, CrlfSpacesSignsAndTrailingBlankLines) {
  const Dataset d = read_csv(csv("\xEF\xBB\xBF"
                                 "1, 2.5 ,+3\r\n0,-4,5e-1\r\n\r\n\n"),
                             {});
  ASSERT_EQ(d.size(), 2);
  EXPECT_EQ(gather_all(d).labels, (std::vector<int32_t>{1, 0}));
  Matrix<float> x(2, 2);
  x << 2.5f, -4, 3, 0.5f;
  EXPECT_EQ(gather_all(d).x, x);
}

TEST_F(CsvReader, NoFinalNewline) {
  EXPECT_EQ(gather_all(read_csv(csv("1,2\n3,4"), {})).labels, (std::vector<int32_t>{1, 3}));
}

// Bad files: the whole message is asserted, so the location is checked too.

TEST_F(CsvReader, MissingFile) {
  EXPECT_TRUE(throws_data_error([&] { read_csv(dir_.file("absent.csv"), {}); },
                                dir_.file("absent.csv") + ": cannot open: No such file"));
}

TEST_F(CsvReader, EmptyFile) {
  EXPECT_TRUE(fails_with("",
                         ": file is empty, no data rows; expected one sample per line: "
                         "target(s) then features"));
  EXPECT_TRUE(fails_with("\n\r\n",
                         ": file is empty, no data rows; expected one sample per "
                         "line: target(s) then features"));
}

TEST_F(CsvReader, HeaderOnly) {
  CsvOptions options;
  options.header = true;
  EXPECT_TRUE(fails_with("label,a,b\n",
                         ": only a header line, no data rows; expected one sample per line: "
                         "target(s) then features",
                         options));
}

TEST_F(CsvReader, RaggedRow) {
  EXPECT_TRUE(fails_with("1,2,3,4,5\n0,1,2,3,4\n1,2,3\n1,2,3,4,5\n",
                         ":3: expected 5 fields, found 3 (line 1 has 5)"));
}

TEST_F(CsvReader, NonNumericField) {
  EXPECT_TRUE(fails_with("1,2,3\n1,2,3\n0,1,abc\n", ":3:3: \"abc\" is not a number"));
  EXPECT_TRUE(fails_with("1,2,3x\n", ":1:3: \"3x\" is not a number"));
}

TEST_F(CsvReader, EmptyField) {
  EXPECT_TRUE(fails_with("1,,3\n", ":1:2: empty field, expected a number"));
}

TEST_F(CsvReader, NanAndInfinity) {
  EXPECT_TRUE(fails_with("1,2\n0,nan\n",
                         ":2:2: \"nan\" is not a finite number; remove or impute missing values"));
  EXPECT_TRUE(fails_with("1,-inf\n",
                         ":1:2: \"-inf\" is not a finite number; remove or impute missing values"));
}

TEST_F(CsvReader, NumberBeyondFloatRange) {
  EXPECT_TRUE(fails_with("1,1e39\n", ":1:2: \"1e39\" is out of range for a 32-bit float"));
}

TEST_F(CsvReader, NegativeClassLabel) {
  EXPECT_TRUE(fails_with("1,2\n-1,3\n",
                         ":2:1: class label \"-1\" is not an integer >= 0; "
                         "real-valued targets need regression mode"));
}

TEST_F(CsvReader, FractionalClassLabel) {
  EXPECT_TRUE(fails_with("1.5,2\n",
                         ":1:1: class label \"1.5\" is not an integer >= 0; "
                         "real-valued targets need regression mode"));
  CsvOptions regression;
  regression.classify = false;
  EXPECT_FLOAT_EQ(gather_all(read_csv(csv("1.5,2\n"), regression)).targets(0, 0), 1.5f);
}

TEST_F(CsvReader, HugeClassLabel) {
  EXPECT_TRUE(fails_with("70000,2\n",
                         ":1:1: class label \"70000\" is too large; labels must be below 65536"));
}

TEST_F(CsvReader, BlankLineBetweenRows) {
  EXPECT_TRUE(fails_with("1,2\n\n0,3\n",
                         ":2: empty line between data rows; remove it or fill in the sample"));
}

TEST_F(CsvReader, NoFeatureColumns) {
  EXPECT_TRUE(fails_with("1\n0\n",
                         ":1: expected at least 2 fields (1 target(s) then features), "
                         "found 1"));
}

TEST_F(CsvReader, ClassificationWithSeveralTargetsIsAUsageError) {
  CsvOptions options;
  options.targets = 2;
  EXPECT_THROW(read_csv(csv("1,2,3\n"), options), UsageError);
}

// A field of 100,000 characters is quoted by its start and length: the reason must survive the
// cut that error lines get when they cross ranks.
TEST_F(CsvReader, HugeFieldIsQuotedShortAndKeepsTheReason) {
  const std::string field(100000, 'x');
  EXPECT_TRUE(fails_with("1," + field + "\n", ":1:2: \"" + std::string(60, 'x') +
                                                  "...\" (100000 characters) is not a number"));
  EXPECT_TRUE(
      fails_with("0." + std::string(100000, '5') + ",1\n",
                 ":1:1: class label \"0." + std::string(58, '5') +
                     "...\" (100002 characters) is not an integer >= 0; real-valued targets "
                     "need regression mode"));
}

}  // namespace
}  // namespace mlp
