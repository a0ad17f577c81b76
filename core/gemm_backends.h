// The backends behind gemm(), one file each so that a build without a library leaves its file
// out. Only core/gemm.cc includes this.
#pragma once

#include <string>

#include "core/gemm.h"

namespace mlp::gemm_detail {

// Same contract as gemm() (core/gemm.h), on one library.
template <typename T>
void eigen_gemm(const ConstMatrixRef<T>& a, bool transpose_a, const ConstMatrixRef<T>& b,
                bool transpose_b, MatrixRef<T> c, Accumulate mode);
template <typename T>
void blas_gemm(const ConstMatrixRef<T>& a, bool transpose_a, const ConstMatrixRef<T>& b,
               bool transpose_b, MatrixRef<T> c, Accumulate mode);
enum class OperandType { kFp32, kBf16 };
// oneDNN's product of column-major a (a_rows, a_cols; leading dimension lda) and b (b_rows,
// leading dimension ldb), both float or both bf16 as `type` says, into the float c.
void onednn_gemm(const void* a, Eigen::Index lda, const void* b, Eigen::Index ldb,
                 OperandType type, bool transpose_a, bool transpose_b, Eigen::Index a_rows,
                 Eigen::Index a_cols, Eigen::Index b_rows, MatrixRef<float> c, Accumulate mode);

std::string blas_core_name();

}  // namespace mlp::gemm_detail
