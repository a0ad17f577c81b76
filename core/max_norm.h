// The max-norm constraint (Srivastava et al. 2014): after each update, every unit's incoming
// weight vector (a row of a dense weight matrix) is rescaled to norm at most c. Only blocks whose
// roles include max_normed are touched (a dense layer's weights, not its biases).
// A weight block is column-major (O, I), so a unit's row is strided; the norms are summed in
// storage order instead, column by column into a per-unit sum, in double. The flat buffer is cut
// into pieces on a fixed grid of kMaxNormPiece values: each piece of a block has its own per-unit
// sums, and a unit's squared norm is the sum of its pieces' sums in piece order. Nothing in that
// depends on who computes a piece, so ranks that each update whole pieces (the sharded sync cuts
// its slices on this grid) get the bits of one process updating everything.
#pragma once

#include <cstddef>
#include <vector>

#include "core/param_store.h"

namespace mlp {

// The pieces' grid; a multiple of the optimizer's chunk grid (kOptimizerGrid).
constexpr size_t kMaxNormPiece = 64 * 1024;

class MaxNorm {
 public:
  // bound: c > 0. Sizes every buffer it needs: applying it allocates nothing.
  MaxNorm(const std::vector<ParamBlock>& layout, float bound);

  // Overwrites the per-unit sums of the squares of each piece inside `range` from params, and
  // zeroes those of the other pieces. range begins and ends on the grid or at the end of the
  // buffer (throws std::logic_error otherwise).
  void sum_pieces(const float* params, FlatRange range);
  // The pieces' sums, piece after piece. Ranks that summed disjoint ranges add these up (an
  // exact sum: every piece's values come from one rank, zeros from the others) before rescale.
  double* piece_sums() { return piece_sums_.data(); }
  size_t piece_sum_count() const { return piece_sums_.size(); }

  // The squared norms of the units of layout block `block` from the pieces' sums, rows() values
  // written at out: what rescale compares with the bound.
  void squared_norms(size_t block, double* out) const;

  // Rescales the elements in params[range] of every unit whose norm, from the pieces' sums,
  // exceeds the bound, by bound / norm.
  void rescale(float* params, FlatRange range);

 private:
  struct Piece {
    size_t block;       // into layout_
    size_t begin, end;  // of the flat buffer, within the block
    size_t sums;        // offset of its rows()-long sums in piece_sums_
  };
  // factors_[o] for each unit of block b from its pieces' sums: bound / norm or 1; returns
  // whether some unit is over the bound.
  bool unit_factors(size_t b);

  std::vector<ParamBlock> layout_;
  size_t size_;
  double bound_;
  std::vector<Piece> pieces_;  // of the max-normed blocks, in buffer order
  std::vector<double> piece_sums_;
  std::vector<double> totals_;  // squared norms of one block's units
  std::vector<float> factors_;  // the rescale of one block's units
};

// Rescales in place each row of every max-normed block whose L2 norm exceeds max_norm (> 0), as
// one process updating the whole buffer does.
void apply_max_norm(ParamStore<float>& store, float max_norm);

}  // namespace mlp
