// Choosing and agreeing on the matrix-product backend; see gemm_setup.h.
#include "launch/train/gemm_setup.h"

#include <cstdint>
#include <sstream>

#include "core/hidden_sizes.h"

namespace mlp {

namespace {

bool available_name(const std::string& name) {
  for (GemmBackend b : available_gemm_backends())
    if (name == gemm_backend_name(b)) return true;
  return false;
}

}  // namespace

GemmSetup choose_gemm_backend(const pb::TrainConfig& config, Communicator& comm,
                              const std::string& resumed_backend) {
  GemmSetup setup;
  setup.openblas_core = openblas_core_name();
  const int largest_shard = (config.batch_size() + comm.size() - 1) / comm.size();
  if (config.precision() == pb::BF16) {
    require_bf16_cpu("--precision bf16");
    setup.precision = Precision::kBf16;
    setup.backend = parse_gemm_backend("onednn", "--precision bf16");
    // Only to tell the user: no choice depends on it, so no rank waits for another's timing.
    if (comm.rank() == 0)
      setup.timings = time_gemm_backends(step_products(layer_widths(config.model()), largest_shard),
                                         kAutoGemmBudgetSeconds, 20, /*with_bf16=*/true);
  } else if (config.gemm() != "auto") {
    setup.backend = parse_gemm_backend(config.gemm());
  } else if (available_name(resumed_backend)) {
    // Every rank read the same checkpoint, so they agree without a broadcast.
    setup.backend = parse_gemm_backend(resumed_backend);
  } else {
    // Timed on one rank only: ranks sharing a host would disturb each other's timing, and all
    // must run the same backend anyway.
    int32_t chosen = 0;
    if (comm.rank() == 0) {
      setup.timings = time_gemm_backends(step_products(layer_widths(config.model()), largest_shard),
                                         kAutoGemmBudgetSeconds);
      chosen = static_cast<int32_t>(fastest_gemm(setup.timings).backend);
    }
    comm.broadcast(&chosen, sizeof chosen, 0);
    setup.backend = static_cast<GemmBackend>(chosen);
    setup.measured = true;
  }
  return setup;
}

std::string gemm_resume_warning(const GemmSetup& setup, const std::string& resumed_backend) {
  const std::string now = gemm_backend_name(setup.backend);
  if (resumed_backend.empty() || resumed_backend == now) return "";
  return "the checkpoint was trained with --gemm " + resumed_backend + ", this run uses " + now +
         ": results agree with an uninterrupted run within about 1e-5, not bitwise";
}

std::string bf16_rate_warning(const GemmSetup& setup) {
  if (setup.precision != Precision::kBf16 || setup.timings.empty()) return "";
  const GemmTiming& bf16 = fastest_gemm(setup.timings, Precision::kBf16);
  const GemmTiming& fp32 = fastest_gemm(setup.timings, Precision::kFp32);
  if (bf16.gflops >= fp32.gflops) return "";
  std::ostringstream line;
  line.precision(3);
  line << "oneDNN's bf16 products run at " << bf16.gflops << " GFLOP/s on this CPU, slower than "
       << gemm_backend_name(fp32.backend) << "'s float32 at " << fp32.gflops
       << " GFLOP/s on this model's products; --precision fp32 would train faster";
  return line.str();
}

std::string precision_resume_warning(const GemmSetup& setup,
                                     const std::string& resumed_precision) {
  const std::string now = precision_name(setup.precision);
  if (resumed_precision.empty() || resumed_precision == now) return "";
  return "the checkpoint was trained with --precision " + resumed_precision + ", this run uses " +
         now + ": it continues from the same float32 weights and optimizer state, but its "
         "results differ from an uninterrupted run's by the products' rounding, not bitwise";
}

pb::GemmRates gemm_rates(const GemmSetup& setup) {
  pb::GemmRates rates;
  for (const GemmTiming& t : setup.timings) {
    if (t.precision == Precision::kBf16) {
      rates.set_onednn_bf16(t.gflops);
      continue;
    }
    switch (t.backend) {
      case GemmBackend::kOnednn:
        rates.set_onednn(t.gflops);
        break;
      case GemmBackend::kEigen:
        rates.set_eigen(t.gflops);
        break;
      case GemmBackend::kBlas:
        rates.set_blas(t.gflops);
        break;
    }
  }
  return rates;
}

}  // namespace mlp
