// The one place that calls a matrix-product library. Every product of the math code goes through
// gemm(), which runs it as the caller's ProductSettings say: on oneDNN's matmul primitive, Eigen's
// own products, or CBLAS (OpenBLAS). No library wins on every host, so the trainer picks the
// backend by timing them (gemm_choice.h) and gives it to the model, which hands it to every
// product; nothing about products is process-wide.
#pragma once

#include <string>

#include "core/bf16.h"
#include "core/gemm_backend.h"
#include "core/tensor.h"

namespace mlp {

// How matrix products run: the settings a model carries (Model::products()) and passes to each
// of its products. Eigen in float32 unless the model is told otherwise. Under Precision::kBf16
// the model hands its float products bf16 copies of their operands (the bf16 overload of gemm
// below), and the backend is oneDNN.
struct ProductSettings {
  GemmBackend backend = GemmBackend::kEigen;
  Precision precision = Precision::kFp32;
};

// Column-major views; columns may be strided (a block of columns of a larger matrix).
template <typename T>
using ConstMatrixRef = Eigen::Ref<const Matrix<T>>;
template <typename T>
using MatrixRef = Eigen::Ref<Matrix<T>>;

enum class Accumulate { kOverwrite, kAdd };

// c (M, N) = op(a) op(b) (kOverwrite: c is only written, so it needs no zeroing and old NaNs
// do not leak) or c += op(a) op(b) (kAdd), op(x) = x or x^T as transpose_a / transpose_b say.
// c must already have its shape. Float runs on products.backend (Eigen for a backend this build
// lacks); double (gradient checks) on CBLAS when that is the backend and on Eigen otherwise, as
// oneDNN has no double kernels. Throws std::invalid_argument when the shapes do not fit.
template <typename T>
void gemm(const ProductSettings& products, const ConstMatrixRef<T>& a, bool transpose_a,
          const ConstMatrixRef<T>& b, bool transpose_b, MatrixRef<T> c, Accumulate mode);

// The same product with bf16 operands, float32 accumulation and a float32 c, on oneDNN whatever
// products.backend says (the only backend with bf16 kernels). Throws std::invalid_argument when
// the shapes do not fit, std::logic_error in a build without oneDNN.
void gemm(const ProductSettings& products, const ConstMatrixRef<Bf16>& a, bool transpose_a,
          const ConstMatrixRef<Bf16>& b, bool transpose_b, MatrixRef<float> c, Accumulate mode);

// The CPU kernel OpenBLAS chose ("SkylakeX", "Prescott", ...); empty when OpenBLAS is not
// linked.
std::string openblas_core_name();
// One warning line when OpenBLAS runs a generic kernel (Prescott, Nehalem, Core2 and the like)
// on a CPU that has AVX2 or AVX-512, which costs it a factor of 3-5; empty otherwise.
std::string openblas_generic_core_warning();

}  // namespace mlp
