// The oneDNN backend: one matmul primitive per product shape, created on first use and kept.
// oneDNN is row-major, and a column-major (r, c) matrix with leading dimension ld is the
// row-major (c, r) matrix with row stride ld, so C = op(A) op(B) runs as
// C^T = op(B)^T op(A)^T with B^T as the primitive's source and A^T as its weights. Operands are
// float or bf16 (then oneDNN accumulates in float), the result is float.
#include <dnnl.hpp>
#include <map>
#include <tuple>

#include "core/gemm_backends.h"

namespace mlp::gemm_detail {
namespace {

using dnnl::memory;

// What a primitive is specialized to: shape, transposes, strides, the accumulation mode and the
// operands' type.
using Key = std::tuple<Eigen::Index, Eigen::Index, Eigen::Index, bool, bool, Eigen::Index,
                       Eigen::Index, Eigen::Index, bool, OperandType>;

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
memory::desc view(Eigen::Index rows, Eigen::Index cols, Eigen::Index ld, bool transposed,
                  memory::data_type type) {
  return memory::desc({rows, cols}, type, transposed ? memory::dims{1, ld} : memory::dims{ld, 1});
}

Plan make_plan(Engine& e, Eigen::Index m, Eigen::Index n, Eigen::Index k, bool transpose_a,
               bool transpose_b, Eigen::Index lda, Eigen::Index ldb, Eigen::Index ldc, bool add,
               OperandType type) {
  const auto in = type == OperandType::kBf16 ? memory::data_type::bf16 : memory::data_type::f32;
  // Row-major roles: src = op(B)^T (N, K), weights = op(A)^T (K, M), dst = C^T (N, M).
  const memory::desc src = view(n, k, ldb, transpose_b, in);
  const memory::desc weights = view(k, m, lda, transpose_a, in);
  const memory::desc dst = view(n, m, ldc, false, memory::data_type::f32);
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

void onednn_gemm(const void* a, Eigen::Index lda, const void* b, Eigen::Index ldb,
                 OperandType type, bool transpose_a, bool transpose_b, Eigen::Index a_rows,
                 Eigen::Index a_cols, Eigen::Index b_rows, MatrixRef<float> c, Accumulate mode) {
  const Eigen::Index m = c.rows(), n = c.cols(), k = transpose_a ? a_rows : a_cols;
  lda = std::max<Eigen::Index>({lda, a_rows, 1});
  ldb = std::max<Eigen::Index>({ldb, b_rows, 1});
  const Eigen::Index ldc = std::max<Eigen::Index>({c.outerStride(), c.rows(), 1});
  const bool add = mode == Accumulate::kAdd;
  Engine& e = engine();
  const Key key{m, n, k, transpose_a, transpose_b, lda, ldb, ldc, add, type};
  auto found = e.plans.find(key);
  if (found == e.plans.end()) {
    found = e.plans
                .emplace(key, make_plan(e, m, n, k, transpose_a, transpose_b, lda, ldb, ldc, add,
                                        type))
                .first;
  }
  Plan& p = found->second;
  // oneDNN takes non-const handles but never writes its source or weights.
  p.src.set_data_handle(const_cast<void*>(b));
  p.weights.set_data_handle(const_cast<void*>(a));
  p.dst.set_data_handle(c.data());
  p.primitive.execute(
      e.stream, {{DNNL_ARG_SRC, p.src}, {DNNL_ARG_WEIGHTS, p.weights}, {DNNL_ARG_DST, p.dst}});
  e.stream.wait();
}

}  // namespace mlp::gemm_detail
