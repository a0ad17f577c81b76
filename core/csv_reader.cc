// Strict CSV reading: every field must be a finite number, every row the same width, and every
// error points at path:line:column so the bad cell can be found in an editor.
#include "core/csv_reader.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>
#include <vector>

#include "core/errors.h"

namespace mlp {
namespace {

// Labels index the output layer, so an absurd label would allocate an absurd model.
constexpr double kMaxClasses = 1 << 16;

std::string where(const std::string& path, int64_t line, int64_t column = 0) {
  std::string s = path + ":" + std::to_string(line);
  if (column > 0) s += ":" + std::to_string(column);
  return s + ": ";
}

std::string read_text(const std::string& path) {
  if (std::filesystem::is_directory(path)) {
    throw DataError(path + ": is a directory, expected a CSV file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw DataError(path + ": read error: " + std::strerror(errno));
  return text.str();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

void split_fields(std::string_view line, std::vector<std::string_view>* fields) {
  fields->clear();
  for (;;) {
    const size_t comma = line.find(',');
    fields->push_back(trim(line.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    line.remove_prefix(comma + 1);
  }
}

// from_chars is locale-independent (strtod stops at the '.' of "1.5" under a locale whose
// decimal separator is ','), but it rejects the leading '+' some tools write, so that is
// stripped first.
float parse_number(std::string_view field, const std::string& path, int64_t line, int64_t column) {
  if (field.empty()) throw DataError(where(path, line, column) + "empty field, expected a number");
  const std::string quoted = "\"" + std::string(field) + "\"";
  std::string_view digits = field;
  if (digits.size() > 1 && digits[0] == '+' && digits[1] != '-' && digits[1] != '+') {
    digits.remove_prefix(1);
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::invalid_argument || end != digits.data() + digits.size()) {
    throw DataError(where(path, line, column) + quoted + " is not a number");
  }
  if (ec == std::errc() && !std::isfinite(value)) {
    throw DataError(where(path, line, column) + quoted +
                    " is not a finite number; remove or impute missing values");
  }
  if (ec == std::errc::result_out_of_range ||
      std::fabs(value) > std::numeric_limits<float>::max()) {
    throw DataError(where(path, line, column) + quoted + " is out of range for a 32-bit float");
  }
  return static_cast<float>(value);
}

int32_t to_label(float value, std::string_view field, const std::string& path, int64_t line) {
  if (value < 0 || value != std::floor(value)) {
    throw DataError(where(path, line, 1) + "class label \"" + std::string(field) +
                    "\" is not an integer >= 0; real-valued targets need regression mode");
  }
  if (value >= kMaxClasses) {
    throw DataError(where(path, line, 1) + "class label \"" + std::string(field) +
                    "\" is too large; labels must be below " +
                    std::to_string(static_cast<int>(kMaxClasses)));
  }
  return static_cast<int32_t>(value);
}

}  // namespace

Dataset read_csv(const std::string& path, const CsvOptions& options) {
  if (options.targets < 1) {
    throw UsageError("CSV target column count " + std::to_string(options.targets) +
                     " must be at least 1");
  }
  if (options.classify && options.targets != 1) {
    throw UsageError("CSV classification takes exactly 1 label column, not " +
                     std::to_string(options.targets) + "; use regression for several targets");
  }
  const std::string text = read_text(path);
  std::string_view rest = text;
  // Spreadsheet programs often start UTF-8 files with a byte-order mark.
  if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);

  const auto num_targets = static_cast<size_t>(options.targets);
  std::vector<float> features, targets;  // column-major (I, N) and (K, N) as they are appended
  std::vector<int32_t> labels;
  std::vector<std::string_view> fields;
  size_t width = 0;         // fields per row, fixed by the first data row
  int64_t width_line = 0;   // the line that fixed it
  int64_t first_blank = 0;  // a blank line is only allowed if no data follows it
  int64_t rows = 0;
  int64_t line_no = 0;
  while (!rest.empty()) {
    const size_t newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_no == 1 && options.header) continue;
    if (trim(line).empty()) {
      if (first_blank == 0) first_blank = line_no;
      continue;
    }
    if (first_blank != 0) {
      throw DataError(where(path, first_blank) +
                      "empty line between data rows; remove it or fill in the sample");
    }

    split_fields(line, &fields);
    if (width == 0) {
      if (fields.size() <= num_targets) {
        throw DataError(where(path, line_no) + "expected at least " +
                        std::to_string(num_targets + 1) + " fields (" +
                        std::to_string(num_targets) + " target(s) then features), found " +
                        std::to_string(fields.size()));
      }
      width = fields.size();
      width_line = line_no;
    } else if (fields.size() != width) {
      throw DataError(where(path, line_no) + "expected " + std::to_string(width) +
                      " fields, found " + std::to_string(fields.size()) + " (line " +
                      std::to_string(width_line) + " has " + std::to_string(width) + ")");
    }
    for (size_t c = 0; c < fields.size(); ++c) {
      const float value = parse_number(fields[c], path, line_no, static_cast<int64_t>(c) + 1);
      if (c >= num_targets) {
        features.push_back(value);
      } else if (options.classify) {
        labels.push_back(to_label(value, fields[c], path, line_no));
      } else {
        targets.push_back(value);
      }
    }
    ++rows;
  }
  if (rows == 0) {
    throw DataError(path + ": " +
                    (line_no > 0 && options.header ? "only a header line, no data rows"
                                                   : "file is empty, no data rows") +
                    "; expected one sample per line: target(s) then features");
  }

  Dataset data;
  const auto n = static_cast<Eigen::Index>(rows);
  data.x = Eigen::Map<const Matrix<float>>(features.data(),
                                           static_cast<Eigen::Index>(width - num_targets), n);
  if (options.classify) {
    data.labels = std::move(labels);
    int32_t max_label = 0;
    for (const int32_t label : data.labels) max_label = std::max(max_label, label);
    data.num_classes = max_label + 1;
  } else {
    data.targets =
        Eigen::Map<const Matrix<float>>(targets.data(), static_cast<Eigen::Index>(num_targets), n);
  }
  return data;
}

}  // namespace mlp
