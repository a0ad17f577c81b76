// Exact sums of float tensors over batch blocks (--exact-blocks): each block's values become
// int64 multiples of 2^-shift, one power of two per tensor shared by every block of the step, so
// the blocks' sum is a sum of integers: exact, and the same whatever order or grouping adds it
// (one rank holding many blocks, MPI adding ranks in any tree). The shift comes from the largest
// exponent the tensor's block values had at the previous step, with kFixedHeadroomBits to spare;
// a step whose values outgrow it is computed again at the new exponent (never wrapped).
//
// Rounding against a float sum: a block value becomes a multiple of the unit 2^-shift, rounded to
// nearest (ties to even); the blocks' integers sum exactly; the sum becomes a float once, rounded
// to nearest. With c = ceil(log2 N) for N blocks, h = kFixedHeadroomBits and M = 2^(e-126) the
// bound on the previous step's largest value (e its exponent field), the shift puts M * 2^h at
// 2^(62-c): the unit is 2^(c+h-62) M (2^-51 M for N = 8), and N blocks sum to at most 2^62. A value
// within 2^-27 of the tensor's largest therefore loses less to the unit than it already lost when
// its block computed it in float, and less than a float sum of the blocks, which rounds every
// partial sum to 24 bits; values far below the tensor's largest keep fewer bits, and those under
// half a unit become zero. The shift is capped at 126 (the unit stays a normal float), so values
// below 2^-127 become zero in any tensor.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mlp {

// Growth of a tensor's largest value from one step to the next (a factor 2^8 = 256) that the
// scale absorbs; more costs a second backward of the step.
constexpr int kFixedHeadroomBits = 8;
// A tensor's exponent before any step has measured one.
constexpr int kNoExponent = -1;
// The exponent field (bits 23-30) of an infinite or NaN float.
constexpr uint32_t kNonFiniteExponent = 255;

// ceil(log2(blocks)), blocks >= 1.
int block_bits(int blocks);

// The shift of a tensor whose block values had exponent fields at most `exponent` (0..254, or
// kNoExponent: then the shift of 254, which rounds all but huge values to zero) at the previous
// step, summed over `blocks` blocks: values up to exponent + kFixedHeadroomBits fit.
int fixed_shift(int exponent, int blocks);

// Whether block values whose largest exponent field is `seen` were converted at a shift made for
// `assumed` without overflow: false when assumed is kNoExponent or seen outgrew the headroom.
bool exponent_fits(int assumed, int seen);

// Whether values with exponent fields up to `seen` (finite, below 255) may sum over `blocks`
// blocks to more than a float holds. Such a step counts as non-finite, as a float sum that
// overflows would.
bool sum_may_overflow_float(int seen, int blocks);

// The exponent field of x, 0 for zero and subnormals, 255 for infinities and NaN.
uint32_t exponent_field(float x);

// sums[i] += round(values[i] * 2^shift) for i < n (OVERWRITES when first). Returns the largest
// exponent field of the values. Values beyond the shift's range leave unspecified sums (the
// caller sees it in the returned exponent and computes the step again).
uint32_t add_fixed(const float* values, size_t n, int shift, bool first, int64_t* sums);

// out[i] = sums[i] * 2^-shift rounded to the nearest float, for i < n.
void fixed_to_float(const int64_t* sums, size_t n, int shift, float* out);

// out[i] = (parts[0][i] + ... + parts[count - 1][i]) * 2^-shift rounded to the nearest float, for
// i < n: the integer sum in registers, so that several ranks' sums are read once and none is
// written back. The sum must fit an int64 (the shift's headroom makes it so for all blocks).
void fixed_sum_to_float(const int64_t* const* parts, size_t count, size_t n, int shift, float* out);

}  // namespace mlp
