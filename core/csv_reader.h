// Reader of numeric CSV files: one sample per row, the target column(s) first, then the
// features. Errors carry file:line:column.
#pragma once

#include <string>

#include "core/dataset.h"

namespace mlp {

struct CsvOptions {
  bool header = false;   // skip the first line
  int targets = 1;       // leading target columns
  bool classify = true;  // targets == 1 and the column holds class indices (integers >= 0)
};

// Reads the whole file. Classification: labels from column 1, num_classes = max label + 1.
// Regression: targets (K, N) from the first K columns. Every row must have the same number of
// fields, every field a finite number. Empty lines at the end are ignored; a file with no rows
// is an error. Throws DataError "path:line:column: what".
Dataset read_csv(const std::string& path, const CsvOptions& options);

}  // namespace mlp
