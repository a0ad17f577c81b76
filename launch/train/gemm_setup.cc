// Choosing and agreeing on the matrix-product backend; see gemm_setup.h.
#include "launch/train/gemm_setup.h"

#include <algorithm>
#include <cstdint>
#include <sstream>

#include "core/data_cache.h"
#include "core/errors.h"
#include "core/hidden_sizes.h"
#include "launch/train/gemm_memory.h"

namespace mlp {

namespace {

bool available_name(const std::string& name) {
  for (GemmBackend b : available_gemm_backends())
    if (name == gemm_backend_name(b)) return true;
  return false;
}

// The products a step of the config runs: at the largest shard of a batch over the ranks, or in
// the exact mode at the largest block.
std::vector<GemmProduct> timed_products(const pb::TrainConfig& config, int ranks) {
  const int parts = config.exact_blocks() > 0 ? config.exact_blocks() : ranks;
  const int largest = (config.batch_size() + parts - 1) / parts;
  return step_products(layer_widths(config.model()), largest);
}

// Rank 0's choice under auto or remeasure: the remembered one when its file checks out (auto
// only), else the fastest timed now, then remembered.
void choose_on_rank_zero(const pb::TrainConfig& config, int ranks, bool remeasure,
                         GemmSetup* setup) {
  const std::vector<GemmProduct> products = timed_products(config, ranks);
  const GemmMemoryKey key = gemm_memory_key(products);
  const std::string& dir = config.data().cache_dir();
  try {
    setup->choice_file =
        gemm_memory_path(dir.empty() || dir == "off" ? default_data_cache_dir() : dir, key);
  } catch (const UsageError& e) {
    setup->notes.push_back(std::string("--gemm auto cannot remember its choice: ") + e.what());
  }
  std::string why;
  if (!remeasure && !setup->choice_file.empty() &&
      recall_gemm_choice(setup->choice_file, key, &setup->backend, &setup->timings, &why))
    return;
  if (!why.empty()) {
    if (why.back() == '.') why.pop_back();  // protobuf's parse errors end with one
    setup->notes.push_back("--gemm auto: " + why + "; timing the backends again");
  }
  setup->timings = time_gemm_backends(products, kAutoGemmBudgetSeconds);
  setup->backend = fastest_gemm(setup->timings).backend;
  setup->measured = true;
  if (setup->choice_file.empty()) return;
  try {
    remember_gemm_choice(setup->choice_file, key, setup->timings);
  } catch (const Error& e) {
    setup->notes.push_back(std::string("--gemm auto cannot remember its choice: ") + e.what());
    setup->choice_file.clear();
  }
}

}  // namespace

GemmSetup choose_gemm_backend(const pb::TrainConfig& config, Communicator& comm,
                              const std::string& resumed_backend) {
  GemmSetup setup;
  setup.openblas_core = openblas_core_name();
  const bool remeasure = config.gemm() == "remeasure";
  if (config.precision() == pb::BF16) {
    require_bf16_cpu("--precision bf16");
    setup.precision = Precision::kBf16;
    setup.backend = parse_gemm_backend("onednn", "--precision bf16");
    setup.choice = "named";
    // Only to tell the user: no choice depends on it, so no rank waits for another's timing.
    if (comm.rank() == 0)
      setup.timings = time_gemm_backends(timed_products(config, comm.size()),
                                         kAutoGemmBudgetSeconds, 20, /*with_bf16=*/true);
  } else if (config.gemm() != "auto" && !remeasure) {
    setup.backend = parse_gemm_backend(config.gemm());
    setup.choice = "named";
  } else if (!remeasure && available_name(resumed_backend)) {
    // Every rank read the same checkpoint, so they agree without a broadcast.
    setup.backend = parse_gemm_backend(resumed_backend);
    setup.choice = "checkpoint";
  } else {
    // Timed (or recalled) on one rank only: ranks sharing a host would disturb each other's
    // timing, and all must run the same backend anyway.
    int32_t chosen = 0;
    if (comm.rank() == 0) {
      choose_on_rank_zero(config, comm.size(), remeasure, &setup);
      chosen = static_cast<int32_t>(setup.backend);
    }
    comm.broadcast(&chosen, sizeof chosen, 0);
    setup.backend = static_cast<GemmBackend>(chosen);
    int32_t measured = setup.measured ? 1 : 0;
    comm.broadcast(&measured, sizeof measured, 0);
    setup.measured = measured != 0;
    setup.choice = setup.measured ? "measured" : "remembered";
  }
  return setup;
}

std::string gemm_resume_warning(const GemmSetup& setup, const std::string& resumed_backend) {
  const std::string now = gemm_backend_name(setup.backend);
  if (resumed_backend.empty() || resumed_backend == now) return "";
  return "the checkpoint was trained with --gemm " + show_input(resumed_backend) +
         ", this run uses " + now +
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

std::string precision_resume_warning(const GemmSetup& setup, const std::string& resumed_precision) {
  const std::string now = precision_name(setup.precision);
  if (resumed_precision.empty() || resumed_precision == now) return "";
  return "the checkpoint was trained with --precision " + show_input(resumed_precision) +
         ", this run uses " + now +
         ": it continues from the same float32 weights and optimizer state, but its "
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

std::vector<std::string> gemm_start_warnings(const GemmSetup& setup,
                                             const std::string& resumed_backend,
                                             const std::string& resumed_precision) {
  std::vector<std::string> lines{openblas_generic_core_warning()};
  const std::string precision_warning = precision_resume_warning(setup, resumed_precision);
  lines.push_back(precision_warning.empty() ? gemm_resume_warning(setup, resumed_backend)
                                            : precision_warning);
  lines.push_back(bf16_rate_warning(setup));
  lines.insert(lines.end(), setup.notes.begin(), setup.notes.end());
  lines.erase(std::remove(lines.begin(), lines.end(), std::string()), lines.end());
  return lines;
}

}  // namespace mlp
