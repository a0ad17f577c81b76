// The exact weight-gradient kernel; see fixed_weight_gradient.h. AVX-512: the gradient is cut in
// tiles of 16 rows (one vector) by 8 columns; a tile runs each block's samples as one FMA chain per
// element, then converts the block's values to fixed point and adds them to the tile's int64 sums,
// which stay in registers from block to block and reach memory once. Operands are packed first so
// that a tile reads contiguous memory: dz by tiles of rows, sample after sample; x transposed. The
// portable kernel computes each element's chain with std::fma in the same order.
#include "core/fixed_weight_gradient.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "core/avx512.h"
#include "core/fixed_point.h"

namespace mlp {
namespace {

void portable(int outputs, int inputs, const std::vector<GradientFactors>& blocks, int shift,
              int64_t* sums, uint32_t* largest) {
  const size_t size = static_cast<size_t>(outputs) * static_cast<size_t>(inputs);
  std::fill(sums, sums + size, 0);
  std::vector<float> product(static_cast<size_t>(outputs));
  for (const GradientFactors& f : blocks) {
    if (f.n == 0) continue;
    for (int i = 0; i < inputs; ++i) {
      for (int o = 0; o < outputs; ++o) {
        float c = 0.0f;
        for (int k = 0; k < f.n; ++k)
          c = std::fma(f.dz[o + static_cast<size_t>(k) * outputs],
                       f.x[i + static_cast<size_t>(k) * inputs], c);
        product[static_cast<size_t>(o)] = c;
      }
      const uint32_t seen = add_fixed(product.data(), product.size(), shift, false,
                                      sums + static_cast<size_t>(i) * outputs);
      *largest = std::max(*largest, seen);
    }
  }
}

#ifdef MLP_FIXED_AVX512
constexpr int kTileRows = 16;
constexpr int kTileCols = 8;

// One tile (rows o0.. of the packed dz's tile, columns i0..i0+kCols) over all blocks. Per block,
// kCols float accumulators run the block's samples; their values are converted to fixed point and
// added to 2 kCols int64 accumulators, which hold the tile's sums in registers over all blocks and
// are stored once: the kernel is bound by the conversion, not by loads and stores of the sums.
// kFullRows: all 16 rows exist, so no masked stores (slow on some CPUs, Zen 4 among them); stream:
// the columns start on cache lines, and the sums, read only after the whole pass, bypass the
// caches.
template <int kCols, bool kFullRows>
void tile(int outputs, int o0, int i0, const std::vector<GradientFactors>& blocks,
          const std::vector<std::vector<float>>& packed_dz,
          const std::vector<std::vector<float>>& packed_x, __m512 scale, bool stream, int64_t* sums,
          __m512i* largest) {
  const __m512i exponent_mask = _mm512_set1_epi32(0x7f800000);
  // A local copy: __m512i may alias the sums, so updates through the pointer would each go to
  // memory.
  __m512i seen = *largest;
  __m512i low[kCols], high[kCols];  // rows o0.. and o0 + 8..
#pragma GCC unroll 8
  for (int j = 0; j < kCols; ++j) low[j] = high[j] = _mm512_setzero_si512();
  for (size_t b = 0; b < blocks.size(); ++b) {
    const int n = blocks[b].n;
    if (n == 0) continue;
    const float* dz = packed_dz[b].data() + static_cast<size_t>(o0) * n;
    const float* x = packed_x[b].data() + static_cast<size_t>(i0) * n;
    __m512 c[kCols];
#pragma GCC unroll 8
    for (int j = 0; j < kCols; ++j) c[j] = _mm512_setzero_ps();
    for (int k = 0; k < n; ++k) {
      const __m512 a = _mm512_loadu_ps(dz + k * kTileRows);
#pragma GCC unroll 8
      for (int j = 0; j < kCols; ++j) c[j] = _mm512_fmadd_ps(a, _mm512_set1_ps(x[j * n + k]), c[j]);
    }
#pragma GCC unroll 8
    for (int j = 0; j < kCols; ++j) {
      seen = _mm512_max_epu32(seen, _mm512_and_si512(_mm512_castps_si512(c[j]), exponent_mask));
      const __m512 scaled = _mm512_mul_ps(c[j], scale);
      low[j] = _mm512_add_epi64(low[j], _mm512_cvtps_epi64(_mm512_castps512_ps256(scaled)));
      high[j] = _mm512_add_epi64(
          high[j], _mm512_cvtps_epi64(
                       _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(scaled), 1))));
    }
  }
  const int rows = outputs - o0;
  const auto low_rows = static_cast<__mmask8>(rows >= 8 ? 0xff : (1u << rows) - 1);
  const auto high_rows = static_cast<__mmask8>(rows >= 16  ? 0xff
                                               : rows <= 8 ? 0
                                                           : (1u << (rows - 8)) - 1);
#pragma GCC unroll 8
  for (int j = 0; j < kCols; ++j) {
    int64_t* out = sums + o0 + static_cast<size_t>(i0 + j) * outputs;
    if constexpr (kFullRows) {
      if (stream) {
        _mm512_stream_si512(reinterpret_cast<__m512i*>(out), low[j]);
        _mm512_stream_si512(reinterpret_cast<__m512i*>(out + 8), high[j]);
      } else {
        _mm512_storeu_si512(out, low[j]);
        _mm512_storeu_si512(out + 8, high[j]);
      }
    } else {
      _mm512_mask_storeu_epi64(out, low_rows, low[j]);
      _mm512_mask_storeu_epi64(out + 8, high_rows, high[j]);
    }
  }
  *largest = seen;
}

using TileFunction = void (*)(int, int, int, const std::vector<GradientFactors>&,
                              const std::vector<std::vector<float>>&,
                              const std::vector<std::vector<float>>&, __m512, bool, int64_t*,
                              __m512i*);
// By the tile's column count, then whether all its rows exist.
constexpr TileFunction kTiles[kTileCols + 1][2] = {{nullptr, nullptr},
                                                   {tile<1, false>, tile<1, true>},
                                                   {tile<2, false>, tile<2, true>},
                                                   {tile<3, false>, tile<3, true>},
                                                   {tile<4, false>, tile<4, true>},
                                                   {tile<5, false>, tile<5, true>},
                                                   {tile<6, false>, tile<6, true>},
                                                   {tile<7, false>, tile<7, true>},
                                                   {tile<8, false>, tile<8, true>}};

// dz (O, n) into tiles of kTileRows rows, each sample's rows contiguous, zero below the last row.
void pack_dz(const GradientFactors& f, int outputs, std::vector<float>* packed) {
  const int tiles = (outputs + kTileRows - 1) / kTileRows;
  packed->resize(static_cast<size_t>(tiles) * f.n * kTileRows);
  for (int t = 0; t < tiles; ++t) {
    const int rows = std::min(kTileRows, outputs - t * kTileRows);
    for (int k = 0; k < f.n; ++k) {
      float* to = packed->data() + (static_cast<size_t>(t) * f.n + k) * kTileRows;
      std::memcpy(to, f.dz + static_cast<size_t>(k) * outputs + t * kTileRows,
                  static_cast<size_t>(rows) * sizeof(float));
      std::fill(to + rows, to + kTileRows, 0.0f);
    }
  }
}

// x (I, n) transposed: each input's n samples contiguous.
void pack_x(const GradientFactors& f, int inputs, std::vector<float>* packed) {
  packed->resize(static_cast<size_t>(inputs) * f.n);
  for (int i = 0; i < inputs; ++i)
    for (int k = 0; k < f.n; ++k)
      (*packed)[static_cast<size_t>(i) * f.n + k] = f.x[i + static_cast<size_t>(k) * inputs];
}
#endif

}  // namespace

const std::vector<FixedKernel>& available_fixed_kernels() {
#ifdef MLP_FIXED_AVX512
  static const std::vector<FixedKernel> kernels = {FixedKernel::kPortable, FixedKernel::kAvx512};
#else
  static const std::vector<FixedKernel> kernels = {FixedKernel::kPortable};
#endif
  return kernels;
}

void require_fixed_kernel(FixedKernel kernel) {
  if (kernel != FixedKernel::kPortable && kernel != available_fixed_kernels().back())
    throw std::invalid_argument("this build has no such fixed-point kernel");
}

uint32_t FixedWeightGradient::compute(int outputs, int inputs,
                                      const std::vector<GradientFactors>& blocks, int shift,
                                      int64_t* sums, FixedKernel kernel) {
  require_fixed_kernel(kernel);
  uint32_t largest = 0;
  bool any = false;
  for (const GradientFactors& f : blocks) any = any || f.n > 0;
  if (!any || kernel == FixedKernel::kPortable) {
    portable(outputs, inputs, blocks, shift, sums, &largest);
    return largest;
  }
#ifdef MLP_FIXED_AVX512
  packed_dz_.resize(blocks.size());
  packed_x_.resize(blocks.size());
  for (size_t b = 0; b < blocks.size(); ++b) {
    pack_dz(blocks[b], outputs, &packed_dz_[b]);
    pack_x(blocks[b], inputs, &packed_x_[b]);
  }
  const __m512 scale = _mm512_set1_ps(std::ldexp(1.0f, shift));
  const bool stream = reinterpret_cast<uintptr_t>(sums) % 64 == 0 && outputs % 8 == 0;
  __m512i largest_bits = _mm512_setzero_si512();
  for (int o0 = 0; o0 < outputs; o0 += kTileRows) {
    const int full = o0 + kTileRows <= outputs ? 1 : 0;
    for (int i0 = 0; i0 < inputs; i0 += kTileCols)
      kTiles[std::min(kTileCols, inputs - i0)][full](outputs, o0, i0, blocks, packed_dz_, packed_x_,
                                                     scale, stream, sums, &largest_bits);
  }
  if (stream) _mm_sfence();
  largest = _mm512_reduce_max_epu32(largest_bits) >> 23;
#endif
  return largest;
}

}  // namespace mlp
