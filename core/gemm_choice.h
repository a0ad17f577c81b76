// Choosing the matrix-product backend by measurement: every backend this build has is timed on
// the products of one training step of the model itself (forward, weight gradient, input
// gradient at the rank's batch), and the fastest wins. No library's table of CPU models decides.
#pragma once

#include <vector>

#include "core/gemm.h"

namespace mlp {

// What --gemm auto may spend on timing at start-up.
constexpr double kAutoGemmBudgetSeconds = 0.3;

// One product c (m, n) = op(a) op(b) with op(a) (m, k), as a layer issues it.
struct GemmProduct {
  int m = 0, n = 0, k = 0;
  bool transpose_a = false, transpose_b = false;
  Accumulate mode = Accumulate::kOverwrite;
  double flop() const { return 2.0 * m * n * static_cast<double>(k); }
};

// The products of one training step of dense layers with these widths (inputs, hidden...,
// outputs) at `batch` samples: per layer W x, dy x^T and, for all but the first layer, W^T dy.
std::vector<GemmProduct> step_products(const std::vector<int>& widths, int batch);

struct GemmTiming {
  GemmBackend backend;
  double step_seconds = 0;  // best time of all the products once
  double gflops = 0;        // their floating-point work over that time
  Precision precision = Precision::kFp32;
};

// Times every available backend on `products` in float32 (and, with `with_bf16`, oneDNN with
// bf16 operands as well, last), interleaved round by round so a neighbour's burst on a shared
// machine hits them alike, keeping each one's best round. Stops after `max_rounds` rounds or
// once `budget_seconds` are spent (after at least two rounds: the first includes one-time
// set-up such as oneDNN's kernel generation). with_bf16 needs oneDNN in the build.
std::vector<GemmTiming> time_gemm_backends(const std::vector<GemmProduct>& products,
                                           double budget_seconds, int max_rounds = 20,
                                           bool with_bf16 = false);

// The timing of `precision` with the shortest step; throws std::invalid_argument when there is
// none.
const GemmTiming& fastest_gemm(const std::vector<GemmTiming>& timings,
                               Precision precision = Precision::kFp32);

}  // namespace mlp
