// Keep decisions of dropout as bits; see keep_bits.h. Only the last of random_bits' five mixes
// depends on the unit, so a column costs four scalar mixes once and then one mix per unit, which
// AVX-512 computes for 8 units at once (vpmullq). The portable kernel is the reference formula
// itself, one unit at a time.
#include "core/keep_bits.h"

#include <cmath>
#include <stdexcept>
#include <type_traits>

#include "core/hash.h"
#include "core/rng.h"

#if defined(__AVX512F__) && defined(__AVX512DQ__)
#define MLP_KEEP_AVX512 1
#include <immintrin.h>
#endif

namespace mlp {
namespace {

// random_uniform is (bits >> 40) * 2^-24, exactly, so it is >= rate exactly when the 24-bit
// integer bits >> 40 is >= rate * 2^24 (exact in double), rounded up.
uint64_t uniform_threshold(float rate) {
  return static_cast<uint64_t>(std::ceil(static_cast<double>(rate) * 16777216.0));
}

void require_built(KeepKernel kernel) {
  if (kernel != available_keep_kernels().back() && kernel != KeepKernel::kPortable)
    throw std::invalid_argument("this build has no such keep kernel");
}

void draw_portable(const KeepColumn& column, int units, uint64_t* bits) {
  for (int w = 0; w < keep_words(units); ++w) {
    uint64_t word = 0;
    for (int i = 0; i < 64 && 64 * w + i < units; ++i) {
      const uint64_t unit = static_cast<uint64_t>(64 * w + i);
      const uint64_t value = splitmix64_mix(column.start + unit * kRngCounterStep) >> 40;
      word |= static_cast<uint64_t>(value >= column.threshold) << i;
    }
    bits[w] = word;
  }
}

template <typename T>
void apply_portable(const uint64_t* bits, T scale, int units, const T* in, T* out) {
  for (int u = 0; u < units; ++u)
    out[u] = in[u] * (((bits[u / 64] >> (u % 64)) & 1) != 0 ? scale : T(0));
}

#ifdef MLP_KEEP_AVX512
// Eight 64-bit lanes; GCC's operators on it compile to AVX-512 (vpsrlq, vpxorq, vpmullq).
typedef uint64_t Lanes __attribute__((vector_size(64)));

// splitmix64_mix's last step, z ^ (z >> 31), leaves bits 40 to 63 as they are, so the test on
// the top 24 bits is a compare of the value before it with threshold << 40.
void draw_avx512(const KeepColumn& column, int units, uint64_t* bits) {
  const uint64_t s = kRngCounterStep;
  Lanes z = Lanes{0, s, 2 * s, 3 * s, 4 * s, 5 * s, 6 * s, 7 * s} + column.start;
  const __m512i threshold = _mm512_set1_epi64(static_cast<int64_t>(column.threshold << 40));
  for (int w = 0; w < keep_words(units); ++w) {
    uint64_t word = 0;
    for (int k = 0; k < 8; ++k) {
      Lanes h = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
      word |=
          static_cast<uint64_t>(_mm512_cmpge_epu64_mask(reinterpret_cast<__m512i>(h), threshold))
          << (8 * k);
      z += 8 * s;
    }
    const int left = units - 64 * w;
    bits[w] = left >= 64 ? word : word & ((uint64_t{1} << left) - 1);
  }
}

// 16 floats a vector: their 16 bits select scale or zero, as the portable product does.
void apply_avx512(const uint64_t* bits, float scale, int units, const float* in, float* out) {
  const __m512 scales = _mm512_set1_ps(scale);
  int u = 0;
  for (; u + 16 <= units; u += 16) {
    const auto keep = static_cast<__mmask16>(bits[u / 64] >> (u % 64));
    _mm512_storeu_ps(out + u,
                     _mm512_mul_ps(_mm512_loadu_ps(in + u), _mm512_maskz_mov_ps(keep, scales)));
  }
  if (u < units) {
    const auto tail = static_cast<__mmask16>((1u << (units - u)) - 1);
    const auto keep = static_cast<__mmask16>(bits[u / 64] >> (u % 64));
    _mm512_mask_storeu_ps(
        out + u, tail,
        _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, in + u), _mm512_maskz_mov_ps(keep, scales)));
  }
}
#endif

}  // namespace

const std::vector<KeepKernel>& available_keep_kernels() {
#ifdef MLP_KEEP_AVX512
  static const std::vector<KeepKernel> kernels = {KeepKernel::kPortable, KeepKernel::kAvx512};
#else
  static const std::vector<KeepKernel> kernels = {KeepKernel::kPortable};
#endif
  return kernels;
}

KeepColumn keep_column(uint64_t seed, int64_t step, int64_t sample, int layer, float rate) {
  const uint64_t state = random_state(seed, RngStream::kDropout, static_cast<uint64_t>(step),
                                      static_cast<uint64_t>(sample));
  return {random_last_word(state, static_cast<uint64_t>(layer) << 32), uniform_threshold(rate)};
}

void draw_keep_bits(const KeepColumn& column, int units, uint64_t* bits, KeepKernel kernel) {
  require_built(kernel);
#ifdef MLP_KEEP_AVX512
  if (kernel == KeepKernel::kAvx512) return draw_avx512(column, units, bits);
#endif
  draw_portable(column, units, bits);
}

// Double (the finite-difference checks) is applied portably by either kernel.
template <typename T>
void apply_keep_bits(const uint64_t* bits, T scale, int units, const T* in, T* out,
                     KeepKernel kernel) {
  require_built(kernel);
#ifdef MLP_KEEP_AVX512
  if constexpr (std::is_same_v<T, float>) {
    if (kernel == KeepKernel::kAvx512) return apply_avx512(bits, scale, units, in, out);
  }
#endif
  apply_portable(bits, scale, units, in, out);
}

template void apply_keep_bits<float>(const uint64_t*, float, int, const float*, float*, KeepKernel);
template void apply_keep_bits<double>(const uint64_t*, double, int, const double*, double*,
                                      KeepKernel);

}  // namespace mlp
