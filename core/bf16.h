// bf16 (bfloat16: float32's sign and 8-bit exponent with 7 stored mantissa bits) as the operands
// of matrix products under --precision bf16: the conversion from float that the passes writing
// those operands use, and whether this CPU runs bf16 products in hardware.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace mlp {

using Bf16 = Eigen::bfloat16;

// float -> bf16 rounded to nearest, ties to even (as oneDNN and the AVX512-BF16 instructions
// round); subnormals round like any other value, NaN stays a (quiet) NaN of the same sign.
inline uint16_t bf16_bits(float value) {
  uint32_t u;
  std::memcpy(&u, &value, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// out[i] = in[i] rounded to bf16, i < n; a loop the compiler vectorizes for the build's ISA.
void to_bf16(const float* in, Bf16* out, size_t n);

// The bf16 value back as a float (exact).
inline float bf16_to_float(Bf16 value) { return static_cast<float>(value); }

// Empty when this CPU multiplies bf16 matrices in hardware (avx512_bf16, or AMX's amx_bf16 with
// AVX-512), else the missing instruction set as lscpu names it. The environment variable
// MLP_HIDE_CPU_FEATURES (a comma-separated list of lscpu names, e.g. "avx512_bf16,amx_bf16")
// makes the check treat those as absent: how tests see a CPU without bf16.
std::string missing_bf16_isa();

// Whether bf16 products run here: this build links oneDNN and missing_bf16_isa() is empty.
bool bf16_products_run();

// Throws UsageError (exit 2) with one line naming the missing instruction set unless
// missing_bf16_isa() is empty. `what`: who needs it, e.g. "--precision bf16".
void require_bf16_cpu(const std::string& what);

}  // namespace mlp
