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
void onednn_gemm(const ConstMatrixRef<float>& a, bool transpose_a, const ConstMatrixRef<float>& b,
                 bool transpose_b, MatrixRef<float> c, Accumulate mode);

std::string blas_core_name();

}  // namespace mlp::gemm_detail
