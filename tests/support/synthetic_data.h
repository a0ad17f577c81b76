// Synthetic CSV data for the tests that train: rows "label,x0,x1,..." of three classes from one
// integer generator, so every platform writes the same bytes. Two kinds: labels given by a rule
// on uniform features (optionally with label noise), and class-shifted blobs.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace mlp::test {

// A 32-bit linear congruential generator (Numerical Recipes' constants).
class TestRng {
 public:
  explicit TestRng(uint32_t seed) : state_(seed) {}
  // Uniform in [-1, 1) with 24 bits of resolution.
  float uniform() {
    state_ = state_ * 1664525u + 1013904223u;
    return static_cast<float>(state_ >> 8) / 16777216.0f * 2 - 1;
  }

 private:
  uint32_t state_;
};

inline std::string csv_row(int label, const std::vector<float>& x, const char* format) {
  std::string row = std::to_string(label);
  char value[48];
  for (float v : x) {
    std::snprintf(value, sizeof value, format, v);
    row += value;
  }
  return row;
}

// Three classes, each the argmax of a fixed score of the first eight of `features` (>= 8)
// uniform features. With noisy, three rows in ten get a label drawn at random: a small net
// learns the rule first and the noise afterwards, so its validation loss falls, then rises.
inline std::vector<std::string> rule_rows(int rows, int features, uint32_t salt, bool noisy) {
  TestRng rng(12345u + salt);
  std::vector<std::string> out;
  std::vector<float> x(static_cast<size_t>(features));
  for (int r = 0; r < rows; ++r) {
    for (float& v : x) v = rng.uniform();
    const float scores[3] = {x[0] + x[1] - x[2], x[3] - x[4] + 0.5f * x[5], x[6] * x[7] + x[2]};
    int label = static_cast<int>(std::max_element(scores, scores + 3) - scores);
    if (noisy && rng.uniform() > 0.4f) label = static_cast<int>((rng.uniform() + 1) * 1.5f) % 3;
    out.push_back(csv_row(label, x, ",%.6f"));
  }
  return out;
}

// Row i is of class i % 3; feature j is uniform noise in [-1, 1), plus 0.6 when j % 3 is the
// class, all times scale. Overlapping classes: the model keeps improving over many epochs.
inline std::vector<std::string> blob_rows(int rows, int features, uint32_t salt, float scale = 1) {
  TestRng rng(777u + salt);
  std::vector<std::string> out;
  std::vector<float> x(static_cast<size_t>(features));
  for (int r = 0; r < rows; ++r) {
    const int label = r % 3;
    for (size_t j = 0; j < x.size(); ++j)
      x[j] = scale * ((static_cast<int>(j) % 3 == label ? 0.6f : 0.0f) + rng.uniform());
    out.push_back(csv_row(label, x, ",%.6g"));
  }
  return out;
}

// Two real-valued targets of the first six of `features` (>= 6) uniform features:
// "y0,y1,x0,x1,...", y0 = sin(2 x0) + x1 x2, y1 = x3 - x4 x5 / 2.
inline std::vector<std::string> regression_rows(int rows, int features, uint32_t salt) {
  TestRng rng(4242u + salt);
  std::vector<std::string> out;
  std::vector<float> x(static_cast<size_t>(features));
  char targets[64];
  for (int r = 0; r < rows; ++r) {
    for (float& v : x) v = rng.uniform();
    std::snprintf(targets, sizeof targets, "%.6f,%.6f", std::sin(2 * x[0]) + x[1] * x[2],
                  x[3] - 0.5f * x[4] * x[5]);
    out.push_back(targets + csv_row(0, x, ",%.6f").substr(1));
  }
  return out;
}

// A header line naming the columns: the targets given, then x0, x1, ... for the features.
inline std::string header_row(const std::string& targets, int features) {
  std::string row = targets;
  for (int j = 0; j < features; ++j) row += ",x" + std::to_string(j);
  return row;
}

// Writes one row per line; returns path.
inline std::string write_rows(const std::string& path, const std::vector<std::string>& rows) {
  std::ofstream out(path);
  for (const std::string& row : rows) out << row << "\n";
  return path;
}

// A header line, then rows of three classes (rule_rows without noise) or of two regression
// targets (regression_rows); returns path.
inline std::string write_csv_with_header(const std::string& path, int rows, int features,
                                         uint32_t salt, bool regression = false) {
  std::vector<std::string> lines = {header_row(regression ? "y0,y1" : "label", features)};
  for (const std::string& row :
       regression ? regression_rows(rows, features, salt) : rule_rows(rows, features, salt, false))
    lines.push_back(row);
  return write_rows(path, lines);
}

}  // namespace mlp::test
