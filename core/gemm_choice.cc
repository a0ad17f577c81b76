// Timing the product backends on a model's own shapes; see gemm_choice.h.
#include "core/gemm_choice.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <stdexcept>

namespace mlp {

std::vector<GemmProduct> step_products(const std::vector<int>& widths, int batch) {
  std::vector<GemmProduct> products;
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    const int in = widths[l], out = widths[l + 1];
    products.push_back({out, batch, in, false, false, Accumulate::kOverwrite});  // y = W x
    products.push_back({out, in, batch, false, true, Accumulate::kOverwrite});   // dW = dy x^T
    if (l > 0) products.push_back({in, batch, out, true, false, Accumulate::kOverwrite});
  }
  return products;
}

namespace {

// Operands of one product, filled with small values so no backend meets denormals, and their
// bf16 copies when bf16 is timed.
struct Operands {
  Matrix<float> a, b, c;
  Matrix<Bf16> a_bf16, b_bf16;
  Operands(const GemmProduct& p, bool with_bf16)
      : a(p.transpose_a ? Matrix<float>::Constant(p.k, p.m, 0.01f)
                        : Matrix<float>::Constant(p.m, p.k, 0.01f)),
        b(p.transpose_b ? Matrix<float>::Constant(p.n, p.k, 0.02f)
                        : Matrix<float>::Constant(p.k, p.n, 0.02f)),
        c(Matrix<float>::Zero(p.m, p.n)) {
    if (!with_bf16) return;
    a_bf16 = a.cast<Bf16>();
    b_bf16 = b.cast<Bf16>();
  }
};

}  // namespace

std::vector<GemmTiming> time_gemm_backends(const std::vector<GemmProduct>& products,
                                           double budget_seconds, int max_rounds,
                                           bool with_bf16) {
  using Clock = std::chrono::steady_clock;
  std::vector<Operands> operands;
  double flop = 0;
  for (const GemmProduct& p : products) {
    operands.emplace_back(p, with_bf16);
    flop += p.flop();
  }
  constexpr double kNone = std::numeric_limits<double>::max();
  std::vector<GemmTiming> timings;
  for (GemmBackend b : available_gemm_backends()) timings.push_back({b, kNone, 0});
  if (with_bf16) timings.push_back({GemmBackend::kOnednn, kNone, 0, Precision::kBf16});
  const auto start = Clock::now();
  for (int round = 0; round < max_rounds; ++round) {
    for (GemmTiming& t : timings) {
      const ProductSettings settings{t.backend, t.precision};
      const auto t0 = Clock::now();
      for (size_t i = 0; i < products.size(); ++i) {
        const GemmProduct& p = products[i];
        Operands& o = operands[i];
        if (t.precision == Precision::kBf16) {
          gemm(settings, o.a_bf16, p.transpose_a, o.b_bf16, p.transpose_b, o.c, p.mode);
        } else {
          gemm<float>(settings, o.a, p.transpose_a, o.b, p.transpose_b, o.c, p.mode);
        }
      }
      t.step_seconds =
          std::min(t.step_seconds, std::chrono::duration<double>(Clock::now() - t0).count());
    }
    if (round >= 1 && std::chrono::duration<double>(Clock::now() - start).count() >= budget_seconds)
      break;
  }
  for (GemmTiming& t : timings) t.gflops = flop / t.step_seconds / 1e9;
  return timings;
}

const GemmTiming& fastest_gemm(const std::vector<GemmTiming>& timings, Precision precision) {
  const GemmTiming* best = nullptr;
  for (const GemmTiming& t : timings)
    if (t.precision == precision && (best == nullptr || t.step_seconds < best->step_seconds))
      best = &t;
  if (best == nullptr) throw std::invalid_argument("fastest_gemm: no timings");
  return *best;
}

}  // namespace mlp
