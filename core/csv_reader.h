// Reader of numeric CSV files: one sample per row, the target column(s) first, then the
// features. Errors carry file:line:column. Rows can be read whole-file (training) or one at a
// time (prediction on files of any size).
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/dataset.h"

namespace mlp {

struct CsvOptions {
  bool header = false;   // the first line names the columns
  int targets = 1;       // leading target columns
  bool classify = true;  // targets == 1 and the column holds class indices (integers >= 0)
  // Binary labels may be written -1/+1 as the perceptron's t (read as 0/1); 0 and -1 may not
  // both appear.
  bool signed_labels = false;
};

// The column names of a header line, split by the parser of data rows.
struct CsvHeader {
  std::vector<std::string> targets;   // the first `targets` names
  std::vector<std::string> features;  // the rest
};

// Reads a numeric CSV one row at a time: every row the same width (at least targets + 1
// fields), every field a finite float, blank lines only at the end, a leading UTF-8 byte-order
// mark skipped. Memory does not grow with the file. Throws DataError "path:line:column: what".
class CsvRowReader {
 public:
  CsvRowReader(const std::string& path, bool header, int targets);
  // Reads and parses the next data row; false at the end of the file. A file without any data
  // row is an error.
  bool next();
  const std::vector<float>& values() const { return values_; }  // of the row last read
  std::string_view field(size_t column) const { return fields_[column]; }
  int64_t line() const { return line_no_; }
  int64_t rows() const { return rows_; }
  size_t width() const { return width_; }  // fields per row, fixed by the first data row
  const std::vector<std::string>& header() const { return header_; }
  const std::string& path() const { return path_; }

 private:
  bool read_line();

  std::string path_;
  bool has_header_;
  size_t min_fields_;
  std::ifstream in_;
  std::string line_;
  std::vector<std::string_view> fields_;
  std::vector<float> values_;
  std::vector<std::string> header_;
  size_t width_ = 0;
  int64_t width_line_ = 0;
  int64_t first_blank_ = 0;
  int64_t line_no_ = 0;
  int64_t rows_ = 0;
};

// Reads the whole file into a dataset over an in-memory float table. Classification: labels from
// column 1, num_classes = max label + 1. Regression: targets (K, N) from the first K columns.
// Throws DataError "path:line:column: what".
Dataset read_csv(const std::string& path, const CsvOptions& options);

// The column names of the file's header line (its first line), the first `targets` of them
// being the targets'. Reads that line only.
CsvHeader read_csv_header(const std::string& path, int targets);

}  // namespace mlp
