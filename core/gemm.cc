// Dispatch of a product to the backend its settings name, the shape checks every backend shares,
// and Eigen's own products. The backend names live in gemm_backend.cc.
#include "core/gemm.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "core/gemm_backends.h"

namespace mlp {
namespace {

// Checks the shapes, and does the work of a product with no terms (some libraries reject zero
// sizes). Returns true when nothing is left for a library to do.
template <typename In, typename Out>
bool settle_shape(const ConstMatrixRef<In>& a, bool transpose_a, const ConstMatrixRef<In>& b,
                  bool transpose_b, MatrixRef<Out>& c, Accumulate mode) {
  const auto m = transpose_a ? a.cols() : a.rows(), k = transpose_a ? a.rows() : a.cols();
  const auto kb = transpose_b ? b.cols() : b.rows(), n = transpose_b ? b.rows() : b.cols();
  if (k != kb || m != c.rows() || n != c.cols()) {
    throw std::invalid_argument("gemm: (" + std::to_string(m) + ", " + std::to_string(k) +
                                ") times (" + std::to_string(kb) + ", " + std::to_string(n) +
                                ") into (" + std::to_string(c.rows()) + ", " +
                                std::to_string(c.cols()) + ")");
  }
  if (c.size() == 0) return true;
  if (k == 0) {
    if (mode == Accumulate::kOverwrite) c.setZero();
    return true;
  }
  return false;
}

}  // namespace

namespace gemm_detail {

template <typename T>
void eigen_gemm(const ConstMatrixRef<T>& a, bool transpose_a, const ConstMatrixRef<T>& b,
                bool transpose_b, MatrixRef<T> c, Accumulate mode) {
  const auto run = [&](const auto& left, const auto& right) {
    if (mode == Accumulate::kAdd) {
      c.noalias() += left * right;
    } else {
      c.noalias() = left * right;
    }
  };
  if (transpose_a) {
    transpose_b ? run(a.transpose(), b.transpose()) : run(a.transpose(), b);
  } else {
    transpose_b ? run(a, b.transpose()) : run(a, b);
  }
}

template void eigen_gemm<float>(const ConstMatrixRef<float>&, bool, const ConstMatrixRef<float>&,
                                bool, MatrixRef<float>, Accumulate);
template void eigen_gemm<double>(const ConstMatrixRef<double>&, bool, const ConstMatrixRef<double>&,
                                 bool, MatrixRef<double>, Accumulate);

}  // namespace gemm_detail

template <typename T>
void gemm(const ProductSettings& products, const ConstMatrixRef<T>& a, bool transpose_a,
          const ConstMatrixRef<T>& b, bool transpose_b, MatrixRef<T> c, Accumulate mode) {
  if (settle_shape<T, T>(a, transpose_a, b, transpose_b, c, mode)) return;
#ifdef MLP_ONEDNN
  if constexpr (std::is_same_v<T, float>) {
    if (products.backend == GemmBackend::kOnednn) {
      gemm_detail::onednn_gemm(a.data(), a.outerStride(), b.data(), b.outerStride(),
                               gemm_detail::OperandType::kFp32, transpose_a, transpose_b,
                               a.rows(), a.cols(), b.rows(), c, mode);
      return;
    }
  }
#endif
#ifdef MLP_OPENBLAS
  if (products.backend == GemmBackend::kBlas) {
    gemm_detail::blas_gemm<T>(a, transpose_a, b, transpose_b, c, mode);
    return;
  }
#endif
  gemm_detail::eigen_gemm<T>(a, transpose_a, b, transpose_b, c, mode);
}

template void gemm<float>(const ProductSettings&, const ConstMatrixRef<float>&, bool,
                          const ConstMatrixRef<float>&, bool, MatrixRef<float>, Accumulate);
template void gemm<double>(const ProductSettings&, const ConstMatrixRef<double>&, bool,
                           const ConstMatrixRef<double>&, bool, MatrixRef<double>, Accumulate);

void gemm(const ProductSettings& /*products*/, const ConstMatrixRef<Bf16>& a, bool transpose_a,
          const ConstMatrixRef<Bf16>& b, bool transpose_b, MatrixRef<float> c, Accumulate mode) {
  if (settle_shape<Bf16, float>(a, transpose_a, b, transpose_b, c, mode)) return;
#ifdef MLP_ONEDNN
  gemm_detail::onednn_gemm(a.data(), a.outerStride(), b.data(), b.outerStride(),
                           gemm_detail::OperandType::kBf16, transpose_a, transpose_b, a.rows(),
                           a.cols(), b.rows(), c, mode);
#else
  throw std::logic_error("gemm: bf16 products need oneDNN, which this build lacks");
#endif
}

std::string openblas_core_name() {
#ifdef MLP_OPENBLAS
  return gemm_detail::blas_core_name();
#else
  return "";
#endif
}

std::string openblas_generic_core_warning() {
  const std::string core = openblas_core_name();
  if (core.empty()) return "";
  // OpenBLAS's names of its kernels for CPUs before AVX2, which it also falls back to for
  // CPU models its table does not list.
  static const std::array<const char*, 12> generic = {
      "prescott", "nehalem",    "core2",     "penryn", "dunnington",  "atom",
      "katmai",   "coppermine", "northwood", "banias", "sandybridge", "unknown"};
  std::string lower = core;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (std::find(generic.begin(), generic.end(), lower) == generic.end()) return "";
  __builtin_cpu_init();
  const char* isa = __builtin_cpu_supports("avx512f") ? "AVX-512"
                    : __builtin_cpu_supports("avx2")  ? "AVX2"
                                                      : nullptr;
  if (isa == nullptr) return "";
  return std::string("OpenBLAS runs its generic ") + core + " kernels on this " + isa +
         " CPU (its table does not know the CPU model); --gemm blas will be slow, "
         "OPENBLAS_CORETYPE=SkylakeX or Haswell would fix it";
}

}  // namespace mlp
