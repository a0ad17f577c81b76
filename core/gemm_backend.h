// The names of the matrix-product backends and which ones this build has. Apart from the products
// themselves (core/gemm.h), so that config validation can check a backend name without linking
// any product library.
#pragma once

#include <string>
#include <vector>

namespace mlp {

enum class GemmBackend { kOnednn, kEigen, kBlas };

// The operands of a model's products: float32, or bf16 with float32 accumulation and results
// (on oneDNN only). Everything else of training (master weights, gradients, optimizer) is float32.
enum class Precision { kFp32, kBf16 };

// "fp32", "bf16".
const char* precision_name(Precision precision);

// "onednn", "eigen", "blas".
const char* gemm_backend_name(GemmBackend backend);
// Every backend this build knows, available or not, in a fixed order.
const std::vector<GemmBackend>& all_gemm_backends();
// Whether this build links the backend's library (Eigen always).
bool gemm_backend_available(GemmBackend backend);
std::vector<GemmBackend> available_gemm_backends();
// Parses a backend name; throws UsageError naming `flag` for an unknown name or for a backend
// this build does not link (one line saying how to get it).
GemmBackend parse_gemm_backend(const std::string& name, const std::string& flag = "--gemm");

}  // namespace mlp
