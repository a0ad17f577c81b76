// The bf16 conversion and the CPU's bf16 capability; see bf16.h.
#include "core/bf16.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <cstdlib>
#include <sstream>

#include "core/errors.h"
#include "core/gemm_backend.h"

namespace mlp {
namespace {

bool hidden_feature(const std::string& name) {
  const char* hidden = std::getenv("MLP_HIDE_CPU_FEATURES");
  if (hidden == nullptr) return false;
  std::stringstream list(hidden);
  std::string item;
  while (std::getline(list, item, ','))
    if (item == name) return true;
  return false;
}

#if defined(__x86_64__)
// CPUID leaf 7: sub-leaf 1 EAX bit 5 is AVX512_BF16, sub-leaf 0 EDX bit 22 AMX_BF16.
bool cpuid_bit(unsigned subleaf, int reg, unsigned bit) {
  unsigned r[4] = {0, 0, 0, 0};
  if (__get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid_count(7, subleaf, r[0], r[1], r[2], r[3]);
  return (r[reg] >> bit) & 1u;
}
#endif

}  // namespace

void to_bf16(const float* __restrict in, Bf16* __restrict out, size_t n) {
  auto* bits = reinterpret_cast<uint16_t*>(out);
  for (size_t i = 0; i < n; ++i) bits[i] = bf16_bits(in[i]);
}

std::string missing_bf16_isa() {
#if !defined(__x86_64__)
  return "avx512_bf16 (or amx_bf16)";
#else
  __builtin_cpu_init();
  // Both need the operating system to save AVX-512 state, which avx512f's check includes.
  const bool avx512 = __builtin_cpu_supports("avx512f") && !hidden_feature("avx512f");
  const bool avx512_bf16 = avx512 && cpuid_bit(1, 0, 5) && !hidden_feature("avx512_bf16");
  const bool amx_bf16 = avx512 && cpuid_bit(0, 3, 22) && !hidden_feature("amx_bf16");
  if (avx512_bf16 || amx_bf16) return "";
  return avx512 ? "avx512_bf16 (or amx_bf16)" : "avx512f with avx512_bf16 (or amx_bf16)";
#endif
}

bool bf16_products_run() {
  return gemm_backend_available(GemmBackend::kOnednn) && missing_bf16_isa().empty();
}

void require_bf16_cpu(const std::string& what) {
  const std::string missing = missing_bf16_isa();
  if (missing.empty()) return;
  throw UsageError(what + ": this CPU lacks " + missing +
                   ", the instruction set of bf16 matrix products; use --precision fp32");
}

}  // namespace mlp
