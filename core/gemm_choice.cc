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

// Operands of one product, filled with small values so no backend meets denormals.
struct Operands {
  Matrix<float> a, b, c;
  explicit Operands(const GemmProduct& p)
      : a(p.transpose_a ? Matrix<float>::Constant(p.k, p.m, 0.01f)
                        : Matrix<float>::Constant(p.m, p.k, 0.01f)),
        b(p.transpose_b ? Matrix<float>::Constant(p.n, p.k, 0.02f)
                        : Matrix<float>::Constant(p.k, p.n, 0.02f)),
        c(Matrix<float>::Zero(p.m, p.n)) {}
};

}  // namespace

std::vector<GemmTiming> time_gemm_backends(const std::vector<GemmProduct>& products,
                                           double budget_seconds, int max_rounds) {
  using Clock = std::chrono::steady_clock;
  std::vector<Operands> operands;
  double flop = 0;
  for (const GemmProduct& p : products) {
    operands.emplace_back(p);
    flop += p.flop();
  }
  std::vector<GemmTiming> timings;
  for (GemmBackend b : available_gemm_backends())
    timings.push_back({b, std::numeric_limits<double>::max(), 0});
  const auto start = Clock::now();
  for (int round = 0; round < max_rounds; ++round) {
    for (GemmTiming& t : timings) {
      const ProductSettings settings{t.backend};
      const auto t0 = Clock::now();
      for (size_t i = 0; i < products.size(); ++i) {
        const GemmProduct& p = products[i];
        Operands& o = operands[i];
        gemm<float>(settings, o.a, p.transpose_a, o.b, p.transpose_b, o.c, p.mode);
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

const GemmTiming& fastest_gemm(const std::vector<GemmTiming>& timings) {
  if (timings.empty()) throw std::invalid_argument("fastest_gemm: no timings");
  return *std::min_element(
      timings.begin(), timings.end(),
      [](const GemmTiming& x, const GemmTiming& y) { return x.step_seconds < y.step_seconds; });
}

}  // namespace mlp
