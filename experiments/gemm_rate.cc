// Single-core rate of every matrix-product backend on the products of one training step of an
// MLP (W x, dy x^T, W^T dy per layer), through the same timing the trainer's --gemm auto uses
// but for longer. The fastest backend's time for all of them is the step's GEMM-bound limit.
// Prints one key=value line per backend, a line for the fastest, and on a CPU with bf16
// instructions a last line for oneDNN with bf16 operands (the bf16 step's limit), for
// bench_single.sh.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "launch/platform/compute_threads.h"
#include "core/bf16.h"
#include "core/gemm_choice.h"
#include "core/hidden_sizes.h"

int main(int argc, char** argv) {
  std::string hidden = "1024,1024";
  int inputs = 784, outputs = 10, batch = 128;
  double seconds = 2.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--hidden") {
      hidden = value;
    } else if (flag == "--inputs") {
      inputs = std::atoi(value);
    } else if (flag == "--outputs") {
      outputs = std::atoi(value);
    } else if (flag == "--batch") {
      batch = std::atoi(value);
    } else if (flag == "--seconds") {
      seconds = std::atof(value);
    } else {
      inputs = 0;
    }
  }
  if (argc % 2 != 1 || inputs <= 0 || outputs <= 0 || batch <= 0 || !(seconds > 0)) {
    std::cerr << "gemm_rate: bad flags\nusage: gemm_rate [--hidden 1024,1024] [--inputs 784]"
                 " [--outputs 10] [--batch 128] [--seconds 2]\n";
    return 2;
  }
  mlp::use_one_compute_thread();
  std::vector<int> widths = mlp::parse_hidden_sizes(hidden);
  widths.insert(widths.begin(), inputs);
  widths.push_back(outputs);
  const bool bf16 = mlp::bf16_products_run();
  const auto timings =
      mlp::time_gemm_backends(mlp::step_products(widths, batch), seconds, 1 << 20, bf16);
  for (const mlp::GemmTiming& t : timings) {
    if (t.precision != mlp::Precision::kFp32) continue;
    std::cout << "backend=" << mlp::gemm_backend_name(t.backend)
              << " step_gemm_ms=" << t.step_seconds * 1e3 << " gflops=" << t.gflops << "\n";
  }
  const mlp::GemmTiming& best = mlp::fastest_gemm(timings);
  std::cout << "fastest=" << mlp::gemm_backend_name(best.backend)
            << " step_gemm_ms=" << best.step_seconds * 1e3 << " gflops=" << best.gflops
            << " limit_samples_per_s=" << batch / best.step_seconds
            << " openblas_core=" << mlp::openblas_core_name() << "\n";
  if (bf16) {
    const mlp::GemmTiming& t = mlp::fastest_gemm(timings, mlp::Precision::kBf16);
    std::cout << "bf16 backend=onednn step_gemm_ms=" << t.step_seconds * 1e3
              << " gflops=" << t.gflops << " limit_samples_per_s=" << batch / t.step_seconds
              << "\n";
  }
  return 0;
}
