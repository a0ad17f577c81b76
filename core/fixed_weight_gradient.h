// A dense layer's weight gradient summed exactly over the blocks of a batch (--exact-blocks): each
// block's product dz_b x_b^T is computed in float, every element one chain of fused multiply-adds
// over the block's samples in their order, and added to the sum in fixed point (fixed_point.h)
// while it is still in registers. The product is this kernel's own, not a library's, so a block's
// values are the same bits on every CPU, and the float gradient of a block is never written to
// memory: the pass costs about what the library's product of the whole shard costs.
#pragma once

#include <cstdint>
#include <vector>

namespace mlp {

// One block's factors of a dense layer's weight gradient, column-major: the gradient w.r.t. the
// layer's pre-activation dz (O, n) and the layer's input x (I, n).
struct GradientFactors {
  const float* dz = nullptr;
  const float* x = nullptr;
  int n = 0;
};

// The kernels this build has; the portable one is the formula itself, one element at a time, and
// both give the same bits.
enum class FixedKernel { kPortable, kAvx512 };
const std::vector<FixedKernel>& available_fixed_kernels();
// Throws std::invalid_argument unless this build has `kernel`.
void require_fixed_kernel(FixedKernel kernel);

class FixedWeightGradient {
 public:
  // OVERWRITES sums (O, I), column-major like the weights, with the sum over blocks of
  // round(2^shift * dz_b x_b^T) (fixed_point.h's add_fixed of each block's product). Returns the
  // largest exponent field of the blocks' products (255 when one was not finite). Blocks may be
  // empty (n = 0). Sizes its packing buffers on the first call of a shape and reuses them. Sums on
  // a 64-byte boundary, with outputs a multiple of 8, are written past the caches (the caller
  // reads them after all layers' backward).
  uint32_t compute(int outputs, int inputs, const std::vector<GradientFactors>& blocks, int shift,
                   int64_t* sums, FixedKernel kernel = available_fixed_kernels().back());

 private:
  std::vector<std::vector<float>> packed_dz_;  // per block: tiles of rows, sample-major in each
  std::vector<std::vector<float>> packed_x_;   // per block: x transposed, (n, I)
};

}  // namespace mlp
