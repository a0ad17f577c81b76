// The CBLAS backend (OpenBLAS): column-major sgemm/dgemm on the views' own strides.
#include <cblas.h>

#include <algorithm>

#include "core/gemm_backends.h"

// OpenBLAS's own entry points, not part of CBLAS.
extern "C" char* openblas_get_corename(void);

namespace mlp::gemm_detail {
namespace {

void call(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint m, blasint n, blasint k, const float* a,
          blasint lda, const float* b, blasint ldb, float beta, float* c, blasint ldc) {
  cblas_sgemm(CblasColMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}

void call(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint m, blasint n, blasint k, const double* a,
          blasint lda, const double* b, blasint ldb, double beta, double* c, blasint ldc) {
  cblas_dgemm(CblasColMajor, ta, tb, m, n, k, 1.0, a, lda, b, ldb, beta, c, ldc);
}

blasint leading(Eigen::Index outer_stride, Eigen::Index rows) {
  return static_cast<blasint>(std::max<Eigen::Index>({outer_stride, rows, 1}));
}

}  // namespace

template <typename T>
void blas_gemm(const ConstMatrixRef<T>& a, bool transpose_a, const ConstMatrixRef<T>& b,
               bool transpose_b, MatrixRef<T> c, Accumulate mode) {
  const auto k = transpose_a ? a.rows() : a.cols();
  // beta = 0 means C is never read, so the caller's buffer needs no zeroing first.
  call(transpose_a ? CblasTrans : CblasNoTrans, transpose_b ? CblasTrans : CblasNoTrans,
       static_cast<blasint>(c.rows()), static_cast<blasint>(c.cols()), static_cast<blasint>(k),
       a.data(), leading(a.outerStride(), a.rows()), b.data(), leading(b.outerStride(), b.rows()),
       mode == Accumulate::kAdd ? T(1) : T(0), c.data(), leading(c.outerStride(), c.rows()));
}

template void blas_gemm<float>(const ConstMatrixRef<float>&, bool, const ConstMatrixRef<float>&,
                               bool, MatrixRef<float>, Accumulate);
template void blas_gemm<double>(const ConstMatrixRef<double>&, bool, const ConstMatrixRef<double>&,
                                bool, MatrixRef<double>, Accumulate);

std::string blas_core_name() {
  const char* name = openblas_get_corename();
  return name == nullptr ? "" : name;
}

}  // namespace mlp::gemm_detail
