// Max-norm constraint; see max_norm.h. The pass over the weights is in storage order: a column
// of a weight block is contiguous, and the per-unit sums it adds to (8 KB for 1024 units) stay in
// L1, so the sums cost one read of the weights, and the rescale one more pass where a unit binds.
#include "core/max_norm.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace mlp {

MaxNorm::MaxNorm(const std::vector<ParamBlock>& layout, float bound)
    : layout_(layout), size_(layout_size(layout)), bound_(bound) {
  if (!(bound > 0)) throw std::invalid_argument("max-norm bound must be positive");
  size_t sums = 0, widest = 0;
  for (size_t b = 0; b < layout_.size(); ++b) {
    const ParamBlock& block = layout_[b];
    if (!block.roles.max_normed || block.size() == 0) continue;
    widest = std::max(widest, static_cast<size_t>(block.rows));
    for (size_t begin = block.offset; begin < block.offset + block.size();) {
      const size_t end =
          std::min(block.offset + block.size(), (begin / kMaxNormPiece + 1) * kMaxNormPiece);
      pieces_.push_back({b, begin, end, sums});
      sums += static_cast<size_t>(block.rows);
      begin = end;
    }
  }
  piece_sums_.assign(sums, 0.0);
  totals_.assign(widest, 0.0);
  factors_.assign(widest, 1.0f);
}

void MaxNorm::sum_pieces(const float* params, FlatRange range) {
  const auto boundary = [this](size_t at) { return at % kMaxNormPiece == 0 || at == size_; };
  if (range.begin > range.end || range.end > size_ || !boundary(range.begin) ||
      !boundary(range.end))
    throw std::logic_error("MaxNorm::sum_pieces: range is not made of whole pieces");
  for (const Piece& piece : pieces_) {
    const ParamBlock& block = layout_[piece.block];
    const auto rows = static_cast<size_t>(block.rows);
    double* sums = piece_sums_.data() + piece.sums;
    std::fill(sums, sums + rows, 0.0);
    if (piece.begin < range.begin || piece.end > range.end) continue;
    // Column by column: the part of a column in the piece adds to its units' sums.
    for (size_t at = piece.begin; at < piece.end;) {
      const size_t unit = (at - block.offset) % rows;
      const size_t count = std::min(rows - unit, piece.end - at);
      const float* w = params + at;
      double* s = sums + unit;
      for (size_t k = 0; k < count; ++k) {
        const auto x = static_cast<double>(w[k]);
        s[k] = std::fma(x, x, s[k]);  // x * x is exact in double: the bits of s + x * x
      }
      at += count;
    }
  }
}

void MaxNorm::squared_norms(size_t block, double* out) const {
  const auto rows = static_cast<size_t>(layout_.at(block).rows);
  std::fill(out, out + rows, 0.0);
  for (const Piece& piece : pieces_) {
    if (piece.block != block) continue;
    const double* sums = piece_sums_.data() + piece.sums;
    for (size_t o = 0; o < rows; ++o) out[o] += sums[o];
  }
}

bool MaxNorm::unit_factors(size_t b) {
  const auto rows = static_cast<size_t>(layout_[b].rows);
  squared_norms(b, totals_.data());
  bool binds = false;
  for (size_t o = 0; o < rows; ++o) {
    const double norm = std::sqrt(totals_[o]);
    binds = binds || norm > bound_;
    factors_[o] = norm > bound_ ? static_cast<float>(bound_ / norm) : 1.0f;
  }
  return binds;
}

void MaxNorm::rescale(float* params, FlatRange range) {
  for (size_t b = 0; b < layout_.size(); ++b) {
    const ParamBlock& block = layout_[b];
    if (!block.roles.max_normed || block.size() == 0) continue;
    const size_t begin = std::max(block.offset, range.begin);
    const size_t end = std::min(block.offset + block.size(), range.end);
    if (begin >= end || !unit_factors(b)) continue;
    const auto rows = static_cast<size_t>(block.rows);
    for (size_t at = begin; at < end;) {
      const size_t unit = (at - block.offset) % rows;
      const size_t count = std::min(rows - unit, end - at);
      float* w = params + at;
      const float* f = factors_.data() + unit;
      for (size_t k = 0; k < count; ++k) w[k] *= f[k];
      at += count;
    }
  }
}

void apply_max_norm(ParamStore<float>& store, float max_norm) {
  MaxNorm constraint(store.layout(), max_norm);
  const FlatRange all{0, store.size()};
  constraint.sum_pieces(store.values(), all);
  constraint.rescale(store.values(), all);
}

}  // namespace mlp
