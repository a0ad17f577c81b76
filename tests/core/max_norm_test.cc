// Max-norm: rows over the bound are scaled onto it, rows under it and biases are untouched; the
// result is a double-precision reference's within 1e-6, and splitting the buffer into ranges of
// whole pieces (as ranks split the update) gives the same bits as one pass over all of it.
#include "core/max_norm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "tests/core/gradient_check.h"

namespace mlp {

TEST(MaxNorm, RescalesOnlyWeightRowsOverTheBound) {
  ParamStore<float> store;
  const int w = store.add("dense0.weight", 2, 2, {/*decayed=*/true, /*max_normed=*/true});
  const int b = store.add("dense0.bias", 2, 1, {/*decayed=*/false, /*max_normed=*/false});
  store.allocate();
  store.param(w) << 3, 4,  // norm 5
      0.6f, 0.8f;          // norm 1
  store.param(b) << 30, 40;
  apply_max_norm(store, 2.0f);
  EXPECT_FLOAT_EQ(store.param(w)(0, 0), 1.2f);
  EXPECT_FLOAT_EQ(store.param(w)(0, 1), 1.6f);
  EXPECT_FLOAT_EQ(store.param(w).row(0).norm(), 2.0f);
  EXPECT_FLOAT_EQ(store.param(w)(1, 0), 0.6f);
  EXPECT_FLOAT_EQ(store.param(b)(0), 30.0f);
}

namespace {

// Blocks that start off the piece grid, widths that do not divide it, and a block spanning
// several pieces: about 3.3 pieces in all. Row scales vary so that some rows bind and some not.
void fill_layout(ParamStore<float>& store) {
  store.add("dense0.weight", 300, 450, {true, true});
  store.add("dense0.bias", 300, 1, {false, false});
  store.add("dense1.weight", 37, 2000, {true, true});
  store.add("dense1.bias", 37, 1, {false, false});
  store.add("dense2.weight", 5, 37, {true, true});
  store.add("dense2.bias", 5, 1, {false, false});
  store.allocate();
  for (size_t b = 0; b < store.layout().size(); ++b) {
    auto block = store.param(static_cast<int>(b));
    const Matrix<double> values =
        test_matrix(static_cast<int>(block.rows()), static_cast<int>(block.cols()), 60 + b, -1, 1);
    for (Eigen::Index o = 0; o < block.rows(); ++o)
      block.row(o) = (values.row(o) * (0.02 + 0.003 * static_cast<double>(o % 40))).cast<float>();
  }
}

std::vector<float> values_of(const ParamStore<float>& store) {
  return {store.values(), store.values() + store.size()};
}

}  // namespace

TEST(MaxNorm, EqualsADoublePrecisionReference) {
  ParamStore<float> store;
  fill_layout(store);
  ASSERT_GT(store.size(), 3 * kMaxNormPiece);
  const float bound = 0.9f;
  ParamStore<float> before;
  fill_layout(before);
  apply_max_norm(store, bound);
  int bound_rows = 0, free_rows = 0;
  for (size_t b = 0; b < store.layout().size(); ++b) {
    const auto w = before.param(static_cast<int>(b)).cast<double>();  // (O, I)
    const auto got = store.param(static_cast<int>(b));
    for (Eigen::Index o = 0; o < w.rows(); ++o) {
      const double norm = w.row(o).norm();
      const bool binds = store.layout()[b].roles.max_normed && norm > bound;
      (binds ? bound_rows : free_rows) += 1;
      for (Eigen::Index i = 0; i < w.cols(); ++i) {
        const double expected = binds ? w(o, i) * bound / norm : w(o, i);
        ASSERT_LE(std::abs(got(o, i) - expected), 1e-6 * std::abs(expected))
            << store.layout()[b].name << " (" << o << ", " << i << ")";
      }
    }
  }
  EXPECT_GT(bound_rows, 100);
  EXPECT_GT(free_rows, 100);
}

// Ranges on the piece grid summed separately, their sums added (as ranks add them), each range
// rescaled by its own object: the bits of one pass over everything, however the buffer is cut.
TEST(MaxNorm, RangesOfWholePiecesGiveTheBitsOfOnePass) {
  ParamStore<float> whole;
  fill_layout(whole);
  apply_max_norm(whole, 0.9f);
  const std::vector<float> expected = values_of(whole);
  ParamStore<float> store;
  fill_layout(store);
  const size_t n = store.size();
  MaxNorm reference(store.layout(), 0.9f);
  reference.sum_pieces(store.values(), {0, n});
  const std::vector<std::vector<size_t>> cuts = {{0, n},
                                                 {0, kMaxNormPiece, n},
                                                 {0, 2 * kMaxNormPiece, n},
                                                 {0, 0, kMaxNormPiece, 3 * kMaxNormPiece, n}};
  for (const std::vector<size_t>& cut : cuts) {
    ParamStore<float> split;
    fill_layout(split);
    std::vector<MaxNorm> parts;
    for (size_t r = 0; r + 1 < cut.size(); ++r) parts.emplace_back(split.layout(), 0.9f);
    std::vector<double> sums(parts.front().piece_sum_count(), 0.0);
    for (size_t r = 0; r < parts.size(); ++r) {
      parts[r].sum_pieces(split.values(), {cut[r], cut[r + 1]});
      for (size_t k = 0; k < sums.size(); ++k) sums[k] += parts[r].piece_sums()[k];
    }
    for (size_t r = 0; r < parts.size(); ++r) {
      std::copy(sums.begin(), sums.end(), parts[r].piece_sums());
      parts[r].rescale(split.values(), {cut[r], cut[r + 1]});
    }
    EXPECT_EQ(values_of(split), expected) << cut.size() - 1 << " ranges";
    // The norms in double too: rounding them to a float factor would hide most differences.
    for (size_t b = 0; b < split.layout().size(); b += 2) {
      std::vector<double> norms(static_cast<size_t>(split.layout()[b].rows));
      std::vector<double> one_pass(norms.size());
      parts.back().squared_norms(b, norms.data());
      reference.squared_norms(b, one_pass.data());
      EXPECT_EQ(norms, one_pass) << split.layout()[b].name << ", " << cut.size() - 1 << " ranges";
    }
  }
}

TEST(MaxNorm, RangesOffThePieceGridAreRefused) {
  ParamStore<float> store;
  fill_layout(store);
  MaxNorm constraint(store.layout(), 1.0f);
  EXPECT_THROW(constraint.sum_pieces(store.values(), {1024, store.size()}), std::logic_error);
  EXPECT_THROW(constraint.sum_pieces(store.values(), {0, kMaxNormPiece + 1024}), std::logic_error);
  EXPECT_NO_THROW(constraint.sum_pieces(store.values(), {kMaxNormPiece, store.size()}));
  EXPECT_NO_THROW(constraint.sum_pieces(store.values(), {store.size(), store.size()}));
  EXPECT_THROW(MaxNorm(store.layout(), 0.0f), std::invalid_argument);
}

}  // namespace mlp
