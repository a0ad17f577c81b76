// Choosing and agreeing on the matrix-product backend; see gemm_setup.h.
#include "launch/gemm_setup.h"

#include <cstdint>
#include <sstream>

namespace mlp {

GemmSetup choose_gemm_backend(const pb::TrainConfig& config, const std::vector<int>& widths,
                              int batch, Communicator& comm) {
  GemmSetup setup;
  setup.openblas_core = openblas_core_name();
  if (config.gemm() != "auto") {
    setup.backend = parse_gemm_backend(config.gemm());
  } else {
    // Timed on one rank only: ranks sharing a host would disturb each other's timing, and all
    // must run the same backend anyway.
    int32_t chosen = 0;
    if (comm.rank() == 0) {
      setup.timings = time_gemm_backends(step_products(widths, batch), kAutoGemmBudgetSeconds);
      chosen = static_cast<int32_t>(fastest_gemm(setup.timings).backend);
    }
    comm.broadcast(&chosen, sizeof chosen, 0);
    setup.backend = static_cast<GemmBackend>(chosen);
    setup.measured = true;
  }
  set_gemm_backend(setup.backend);
  return setup;
}

std::string describe_gemm_rates(const GemmSetup& setup) {
  std::ostringstream out;
  out.precision(4);
  for (size_t i = 0; i < setup.timings.size(); ++i) {
    out << (i > 0 ? ", " : "") << gemm_backend_name(setup.timings[i].backend) << " "
        << setup.timings[i].gflops;
  }
  return out.str();
}

}  // namespace mlp
