// A dense layer's input gradient in the exact mode (--exact-blocks): dx = w^T dz for all of a
// rank's blocks in one pass over the weights, each column of dx one chain of fused multiply-adds
// over the layer's outputs in order. A column's values depend on that column alone, not on which
// columns share the call or on the CPU, so a block's dx has the same bits on every rank while the
// weights are read once per rank rather than once per block.
#pragma once

#include <vector>

#include "core/fixed_weight_gradient.h"

namespace mlp {

// One block's columns: dz (O, n) read, dx (I, n) written, column-major.
struct ProductColumns {
  const float* dz = nullptr;
  float* dx = nullptr;
  int n = 0;
};

class ColumnProduct {
 public:
  // OVERWRITES every block's dx with w^T dz, w (O, I) column-major: element (i, j) is
  // fma(dz(O-1, j), w(O-1, i), ... fma(dz(1, j), w(1, i), dz(0, j) * w(0, i))). Blocks may be
  // empty. kernel: as FixedWeightGradient's, the same bits from each. Sizes its packing buffer on
  // the first call of a shape and reuses it.
  void compute(int outputs, int inputs, const float* w, const std::vector<ProductColumns>& blocks,
               FixedKernel kernel = available_fixed_kernels().back());

 private:
  std::vector<float> packed_dz_;    // all blocks' columns in groups of 16, (O, 16) each
  std::vector<float*> dx_columns_;  // every column of dx, through the blocks
};

}  // namespace mlp
