// Forward and backward of a model in the exact mode (--exact-blocks): one rank's part of a batch
// is a run of whole blocks of the global batch, and every value a block produces must have the
// same bits whichever rank computes it, alone or beside other blocks. So each block has buffers of
// its own shape; the forward's products run at the block's shape (in fixed panels of the weights'
// rows, so the weights stay in cache from block to block; the products are the same shapes on
// every rank); the backward's input gradients run through a kernel whose columns do not depend on
// each other (core/column_product.h), all blocks in one pass over the weights; the dropout masks
// are drawn per sample, as always; and the parameter gradients never exist as float sums over
// blocks: every tensor is summed in fixed point (core/fixed_point.h), the weights by the exact
// kernel (core/fixed_weight_gradient.h).
#pragma once

#include <cstdint>
#include <vector>

#include "core/column_product.h"
#include "core/fixed_weight_gradient.h"
#include "core/model.h"

namespace mlp {

class BlockPass {
 public:
  // Keeps a reference to model, whose layers, parameters and product settings it uses.
  explicit BlockPass(Model<float>& model);
  BlockPass(const BlockPass&) = delete;
  BlockPass& operator=(const BlockPass&) = delete;

  // Training forward of x (I, n) cut into consecutive blocks of `sizes` columns (summing to n;
  // a size may be 0). ctx keys the dropout masks of all n columns (ctx.sample_ids holds n ids).
  // Resizes the buffers to the blocks' shapes (no allocation when they repeat).
  void forward(const Matrix<float>& x, const std::vector<int64_t>& sizes,
               const ForwardContext& ctx);
  // Block b's outputs (O, n_b) of the last forward.
  const Matrix<float>& outputs(size_t b) const { return outputs_of(b); }
  // Block b's loss gradient w.r.t. its outputs, (O, n_b): the caller writes it before backward.
  Matrix<float>& doutputs(size_t b) { return doutputs_[b]; }

  // Backward of the last forward from doutputs. For every tensor t of the parameter layout,
  // OVERWRITES sums[offset_t, offset_t + size_t) with the sum over blocks of round(2^shifts[t] *
  // the block's gradient), and largest[t] with the largest exponent field of those gradients'
  // values (255: some was not finite). sums holds the layout's length; shifts and largest one
  // entry per layout block. The model's own gradient buffer is not touched.
  void backward(const int* shifts, int64_t* sums, uint32_t* largest);

 private:
  // Buffers of one model block (a dense layer with its activation and dropout, or the input
  // dropout) for every batch block.
  struct Stage {
    std::vector<Matrix<float>> a, y;     // (O, n_b): activation output, dropout output
    std::vector<Matrix<float>> dz, dx;   // (O, n_b) and (I, n_b)
    std::vector<std::vector<float>> db;  // (O) per block
  };
  const Matrix<float>& input_of(size_t stage, size_t b) const;
  const Matrix<float>& output_of(size_t stage, size_t b) const;
  const Matrix<float>& outputs_of(size_t b) const { return output_of(stages_.size() - 1, b); }
  void forward_dense(size_t s, const ForwardContext& ctx);
  void backward_dense(size_t s, const int* shifts, int64_t* sums, uint32_t* largest);

  Model<float>& model_;
  std::vector<Stage> stages_;                     // one per model block
  std::vector<Matrix<float>> inputs_, doutputs_;  // per batch block: (I, n_b), (O, n_b)
  std::vector<int64_t> sizes_, firsts_;           // per batch block: columns, first column
  std::vector<GradientFactors> factors_;
  FixedWeightGradient weight_gradient_;
  std::vector<ProductColumns> columns_;
  ColumnProduct input_gradient_;
};

}  // namespace mlp
