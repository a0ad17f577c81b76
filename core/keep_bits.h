// Dropout's keep decisions as bits, many at a time: unit u of one sample's column of a dropout
// layer is kept when random_uniform(seed, kDropout, step, sample, layer * 2^32 + u) >= rate, the
// stream the trainer has always drawn, computed for 8 units at once where the build targets
// AVX-512 and one at a time elsewhere, with the same bits. DropoutLayer draws and applies them.
#pragma once

#include <cstdint>
#include <vector>

namespace mlp {

// The implementations: portable C++ on any CPU, and AVX-512 (F and DQ: 64-bit lane multiplies)
// when the build targets it. Both give the same bits; tests compare each with the reference.
enum class KeepKernel { kPortable, kAvx512 };

// Those this build has, the fastest last.
const std::vector<KeepKernel>& available_keep_kernels();

// The 64-bit words holding the bits of `units` units.
inline int keep_words(int units) { return (units + 63) / 64; }

// A column's keys: `start` is the RNG's last word for unit 0 (each unit adds kRngCounterStep),
// `threshold` the smallest 24-bit value random_uniform turns into a number >= rate.
struct KeepColumn {
  uint64_t start = 0;
  uint64_t threshold = 0;
};
KeepColumn keep_column(uint64_t seed, int64_t step, int64_t sample, int layer, float rate);

// Writes keep_words(units) words at bits: bit u % 64 of word u / 64 is set when unit u is kept;
// the bits past `units` are zero.
void draw_keep_bits(const KeepColumn& column, int units, uint64_t* bits,
                    KeepKernel kernel = available_keep_kernels().back());

// out[u] = in[u] * (unit u kept ? scale : 0) for u < units, the product dropout's mask makes
// (in and out may be the same).
template <typename T>
void apply_keep_bits(const uint64_t* bits, T scale, int units, const T* in, T* out,
                     KeepKernel kernel = available_keep_kernels().back());

}  // namespace mlp
