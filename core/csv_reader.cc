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

std::string where(const std::string& path, int64_t line, int64_t column = 0) {
  std::string s = path + ":" + std::to_string(line);
  if (column > 0) s += ":" + std::to_string(column);
  return s + ": ";
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
  const std::string quoted = quote_input(field);
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

// A first line none of whose fields is a number is most likely a header line.
bool looks_like_header(const std::vector<std::string_view>& fields) {
  return std::none_of(fields.begin(), fields.end(), [](std::string_view f) {
    double value = 0;
    const auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), value);
    return ec == std::errc() && end == f.data() + f.size();
  });
}

int32_t to_label(float value, std::string_view field, const std::string& path, int64_t line,
                 bool signed_labels) {
  if (signed_labels && value == -1) return -1;
  if (value < 0 || value != std::floor(value)) {
    throw DataError(where(path, line, 1) + "class label " + quote_input(field) +
                    " is not an integer >= 0; real-valued targets need regression mode");
  }
  if (value >= static_cast<float>(kMaxClasses)) {
    throw DataError(where(path, line, 1) + "class label " + quote_input(field) +
                    " is too large; labels must be below " +
                    std::to_string(kMaxClasses));
  }
  return static_cast<int32_t>(value);
}

}  // namespace

CsvRowReader::CsvRowReader(const std::string& path, bool header, int targets)
    : path_(path), has_header_(header), min_fields_(static_cast<size_t>(targets) + 1) {
  if (std::filesystem::is_directory(path)) {
    throw DataError(path + ": is a directory, expected a CSV file");
  }
  in_.open(path, std::ios::binary);
  if (!in_) throw DataError(path + ": cannot open: " + std::strerror(errno));
  if (header && read_line()) {
    split_fields(line_, &fields_);
    header_.assign(fields_.begin(), fields_.end());
  }
}

bool CsvRowReader::read_line() {
  if (!std::getline(in_, line_)) {
    if (in_.bad()) throw DataError(path_ + ": read error: " + std::strerror(errno));
    return false;
  }
  ++line_no_;
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  // Spreadsheet programs often start UTF-8 files with a byte-order mark.
  if (line_no_ == 1 && line_.compare(0, 3, "\xEF\xBB\xBF") == 0) line_.erase(0, 3);
  return true;
}

bool CsvRowReader::next() {
  while (read_line()) {
    if (trim(line_).empty()) {
      if (first_blank_ == 0) first_blank_ = line_no_;
      continue;
    }
    if (first_blank_ != 0) {
      throw DataError(where(path_, first_blank_) +
                      "empty line between data rows; remove it or fill in the sample");
    }
    split_fields(line_, &fields_);
    if (width_ == 0) {
      if (fields_.size() < min_fields_) {
        throw DataError(where(path_, line_no_) + "expected at least " +
                        std::to_string(min_fields_) + " fields (" +
                        std::to_string(min_fields_ - 1) + " target(s) then features), found " +
                        std::to_string(fields_.size()));
      }
      width_ = fields_.size();
      width_line_ = line_no_;
    } else if (fields_.size() != width_) {
      throw DataError(where(path_, line_no_) + "expected " + std::to_string(width_) +
                      " fields, found " + std::to_string(fields_.size()) + " (line " +
                      std::to_string(width_line_) + " has " + std::to_string(width_) + ")");
    }
    values_.resize(fields_.size());
    for (size_t c = 0; c < fields_.size(); ++c) {
      try {
        values_[c] = parse_number(fields_[c], path_, line_no_, static_cast<int64_t>(c) + 1);
      } catch (const DataError& e) {
        if (line_no_ != 1 || !looks_like_header(fields_)) throw;
        throw DataError(std::string(e.what()) +
                        "; pass --csv-header if the file starts with a header line");
      }
    }
    ++rows_;
    return true;
  }
  if (rows_ == 0) {
    throw DataError(path_ + ": " +
                    (line_no_ > 0 && has_header_ ? "only a header line, no data rows"
                                                 : "file is empty, no data rows") +
                    "; expected one sample per line: target(s) then features");
  }
  return false;
}

CsvHeader read_csv_header(const std::string& path, int targets) {
  const CsvRowReader reader(path, true, targets);
  const std::vector<std::string>& names = reader.header();
  const size_t split = std::min(static_cast<size_t>(targets), names.size());
  CsvHeader header;
  header.targets.assign(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(split));
  header.features.assign(names.begin() + static_cast<std::ptrdiff_t>(split), names.end());
  return header;
}

Dataset read_csv(const std::string& path, const CsvOptions& options) {
  if (options.targets < 1) {
    throw UsageError("CSV target column count " + std::to_string(options.targets) +
                     " must be at least 1");
  }
  if (options.classify && options.targets != 1) {
    throw UsageError("CSV classification takes exactly 1 label column, not " +
                     std::to_string(options.targets) + "; use regression for several targets");
  }
  CsvRowReader reader(path, options.header, options.targets);
  const auto num_targets = static_cast<size_t>(options.targets);
  std::vector<float> features, targets;  // column-major (I, N) and (K, N) as they are appended
  std::vector<int32_t> labels;
  int64_t line_of_minus_one = 0, line_of_zero = 0;
  while (reader.next()) {
    const std::vector<float>& row = reader.values();
    features.insert(features.end(), row.begin() + static_cast<std::ptrdiff_t>(num_targets),
                    row.end());
    if (!options.classify) {
      targets.insert(targets.end(), row.begin(),
                     row.begin() + static_cast<std::ptrdiff_t>(num_targets));
      continue;
    }
    int32_t label = to_label(row[0], reader.field(0), path, reader.line(), options.signed_labels);
    if (label == -1 && line_of_minus_one == 0) line_of_minus_one = reader.line();
    if (label == 0 && line_of_zero == 0) line_of_zero = reader.line();
    if (line_of_minus_one != 0 && line_of_zero != 0) {
      throw DataError(where(path, reader.line(), 1) + "labels -1 (line " +
                      std::to_string(line_of_minus_one) + ") and 0 (line " +
                      std::to_string(line_of_zero) +
                      ") both appear; write the two classes as -1/+1 or as 0/1");
    }
    labels.push_back(label == -1 ? 0 : label);
  }
  const auto n = static_cast<Eigen::Index>(reader.rows());
  Matrix<float> x = Eigen::Map<const Matrix<float>>(
      features.data(), static_cast<Eigen::Index>(reader.width() - num_targets), n);
  int32_t max_label = -1;
  for (const int32_t label : labels) max_label = std::max(max_label, label);
  Matrix<float> target_matrix;
  if (!options.classify)
    target_matrix =
        Eigen::Map<const Matrix<float>>(targets.data(), static_cast<Eigen::Index>(num_targets), n);
  return whole_table(SampleTable::of_floats(std::move(x), std::move(labels),
                                            std::move(target_matrix), max_label + 1));
}

}  // namespace mlp
