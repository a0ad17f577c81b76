// The oneDNN backend: one matmul primitive per product shape, created on first use and kept.
// oneDNN is row-major, and a column-major (r, c) matrix with leading dimension ld is the
// row-major (c, r) matrix with row stride ld, so C = op(A) op(B) runs as
// C^T = op(B)^T op(A)^T with B^T as the primitive's source and A^T as its weights.
#include <dnnl.hpp>
#include <map>
#include <tuple>

#include "core/gemm_backends.h"

namespace mlp::gemm_detail {
namespace {

using dnnl::memory;

// What a primitive is specialized to: shape, transposes, strides and the accumulation mode.
using Key = std::tuple<Eigen::Index, Eigen::Index, Eigen::Index, bool, bool, Eigen::Index,
                       Eigen::Index, Eigen::Index, bool>;

struct Plan {
  dnnl::matmul primitive;
  memory src, weights, dst;
};

struct Engine {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::map<Key, Plan> plans;
};

Engine& engine() {
  static Engine e;
  return e;
}

// dims (rows, cols) of a row-major view of column-major data: stored as is when `transposed`
// (strides {1, ld}) or read as its transpose (strides {ld, 1}).
memory::desc view(Eigen::Index rows, Eigen::Index cols, Eigen::Index ld, bool transposed) {
  return memory::desc({rows, cols}, memory::data_type::f32,
                      transposed ? memory::dims{1, ld} : memory::dims{ld, 1});
}

Plan make_plan(Engine& e, Eigen::Index m, Eigen::Index n, Eigen::Index k, bool transpose_a,
               bool transpose_b, Eigen::Index lda, Eigen::Index ldb, Eigen::Index ldc, bool add) {
  // Row-major roles: src = op(B)^T (N, K), weights = op(A)^T (K, M), dst = C^T (N, M).
  const memory::desc src = view(n, k, ldb, transpose_b);
  const memory::desc weights = view(k, m, lda, transpose_a);
  const memory::desc dst = view(n, m, ldc, false);
  dnnl::primitive_attr attr;
  if (add) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, weights, dst), attr, e.engine);
  return {dnnl::matmul(pd), memory(src, e.engine, nullptr), memory(weights, e.engine, nullptr),
          memory(dst, e.engine, nullptr)};
}

}  // namespace

void onednn_gemm(const ConstMatrixRef<float>& a, bool transpose_a, const ConstMatrixRef<float>& b,
                 bool transpose_b, MatrixRef<float> c, Accumulate mode) {
  const Eigen::Index m = c.rows(), n = c.cols(), k = transpose_a ? a.rows() : a.cols();
  const Eigen::Index lda = std::max<Eigen::Index>({a.outerStride(), a.rows(), 1});
  const Eigen::Index ldb = std::max<Eigen::Index>({b.outerStride(), b.rows(), 1});
  const Eigen::Index ldc = std::max<Eigen::Index>({c.outerStride(), c.rows(), 1});
  const bool add = mode == Accumulate::kAdd;
  Engine& e = engine();
  const Key key{m, n, k, transpose_a, transpose_b, lda, ldb, ldc, add};
  auto found = e.plans.find(key);
  if (found == e.plans.end()) {
    found =
        e.plans.emplace(key, make_plan(e, m, n, k, transpose_a, transpose_b, lda, ldb, ldc, add))
            .first;
  }
  Plan& p = found->second;
  // oneDNN takes non-const handles but never writes its source or weights.
  p.src.set_data_handle(const_cast<float*>(b.data()));
  p.weights.set_data_handle(const_cast<float*>(a.data()));
  p.dst.set_data_handle(c.data());
  p.primitive.execute(
      e.stream, {{DNNL_ARG_SRC, p.src}, {DNNL_ARG_WEIGHTS, p.weights}, {DNNL_ARG_DST, p.dst}});
  e.stream.wait();
}

}  // namespace mlp::gemm_detail
