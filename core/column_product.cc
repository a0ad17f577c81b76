// The exact mode's input-gradient kernel; see column_product.h. AVX-512: the blocks' columns are
// packed in groups of 16, one vector per output row, and a tile of 8 inputs by one group runs the
// outputs in order with one weight broadcast per input, so each lane is one column's chain; the 8
// inputs' weights (8 columns of w) are reused by every group from cache. The portable kernel
// computes each element's chain with std::fma in the same order.
#include "core/column_product.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "core/avx512.h"

namespace mlp {
namespace {

void portable(int outputs, int inputs, const float* w, const std::vector<ProductColumns>& blocks) {
  for (const ProductColumns& f : blocks)
    for (int j = 0; j < f.n; ++j)
      for (int i = 0; i < inputs; ++i) {
        const float* dz = f.dz + static_cast<size_t>(j) * outputs;
        const float* wi = w + static_cast<size_t>(i) * outputs;
        float c = 0.0f;
        for (int o = 0; o < outputs; ++o) c = std::fma(dz[o], wi[o], c);
        f.dx[i + static_cast<size_t>(j) * inputs] = c;
      }
}

#ifdef MLP_FIXED_AVX512
constexpr int kGroup = 16;  // columns per vector
constexpr int kTileInputs = 8;

// Inputs i0..i0+kInputs of every column in group g: one accumulator per input, a lane per column.
template <int kInputs>
void tile(int outputs, const float* w, int i0, const float* packed,
          const std::vector<float*>& dx_columns, int g) {
  __m512 c[kInputs];
#pragma GCC unroll 8
  for (int j = 0; j < kInputs; ++j) c[j] = _mm512_setzero_ps();
  const float* a = packed + static_cast<size_t>(g) * outputs * kGroup;
  const float* wi = w + static_cast<size_t>(i0) * outputs;
  for (int o = 0; o < outputs; ++o) {
    const __m512 dz = _mm512_loadu_ps(a + static_cast<size_t>(o) * kGroup);
#pragma GCC unroll 8
    for (int j = 0; j < kInputs; ++j)
      c[j] = _mm512_fmadd_ps(dz, _mm512_set1_ps(wi[o + static_cast<size_t>(j) * outputs]), c[j]);
  }
  alignas(64) float values[kInputs][kGroup];
#pragma GCC unroll 8
  for (int j = 0; j < kInputs; ++j) _mm512_store_ps(values[j], c[j]);
  const int lanes = std::min(kGroup, static_cast<int>(dx_columns.size()) - g * kGroup);
  for (int l = 0; l < lanes; ++l) {
    float* dx = dx_columns[static_cast<size_t>(g * kGroup + l)] + i0;
    for (int j = 0; j < kInputs; ++j) dx[j] = values[j][l];
  }
}

using TileFunction = void (*)(int, const float*, int, const float*, const std::vector<float*>&,
                              int);
constexpr TileFunction kTiles[kTileInputs + 1] = {nullptr, tile<1>, tile<2>, tile<3>, tile<4>,
                                                  tile<5>, tile<6>, tile<7>, tile<8>};
#endif

}  // namespace

void ColumnProduct::compute(int outputs, int inputs, const float* w,
                            const std::vector<ProductColumns>& blocks, FixedKernel kernel) {
  require_fixed_kernel(kernel);
  if (kernel == FixedKernel::kPortable) {
    portable(outputs, inputs, w, blocks);
    return;
  }
#ifdef MLP_FIXED_AVX512
  dx_columns_.clear();
  for (const ProductColumns& f : blocks)
    for (int j = 0; j < f.n; ++j) dx_columns_.push_back(f.dx + static_cast<size_t>(j) * inputs);
  const int columns = static_cast<int>(dx_columns_.size());
  const int groups = (columns + kGroup - 1) / kGroup;
  // Each group's columns side by side: one vector per output row, zeros past the last column.
  packed_dz_.assign(static_cast<size_t>(groups) * outputs * kGroup, 0.0f);
  int col = 0;
  for (const ProductColumns& f : blocks)
    for (int j = 0; j < f.n; ++j, ++col) {
      float* to =
          packed_dz_.data() + static_cast<size_t>(col / kGroup) * outputs * kGroup + col % kGroup;
      const float* from = f.dz + static_cast<size_t>(j) * outputs;
      for (int o = 0; o < outputs; ++o) to[static_cast<size_t>(o) * kGroup] = from[o];
    }
  for (int i0 = 0; i0 < inputs; i0 += kTileInputs) {
    const TileFunction run = kTiles[std::min(kTileInputs, inputs - i0)];
    for (int g = 0; g < groups; ++g) run(outputs, w, i0, packed_dz_.data(), dx_columns_, g);
  }
#endif
}

}  // namespace mlp
