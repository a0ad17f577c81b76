// The run's matrix-product backend: the one the config names, or for "auto" the fastest on rank
// 0's timing of the model's own products, broadcast so that every rank runs the same one (the
// same backend is what makes ranks' replicas and resumed runs bitwise reproducible).
#pragma once

#include <string>
#include <vector>

#include "core/gemm_choice.h"
#include "dist/communicator.h"
#include "proto/config.pb.h"

namespace mlp {

struct GemmSetup {
  GemmBackend backend = GemmBackend::kEigen;
  bool measured = false;            // chosen by timing (--gemm auto)
  std::vector<GemmTiming> timings;  // rank 0's measurements when measured, else empty
  std::string openblas_core;        // the kernel OpenBLAS chose; empty without OpenBLAS
};

// Collective: every rank calls it once, before the first product. `widths` are the model's
// layer widths (inputs, hidden..., outputs), `batch` the largest shard of the global batch.
// Sets the process's backend and returns what was chosen and measured.
GemmSetup choose_gemm_backend(const pb::TrainConfig& config, const std::vector<int>& widths,
                              int batch, Communicator& comm);

// "onednn 161.2, eigen 134.8, blas 141.3" (GFLOP/s of each timed backend), for logs.
std::string describe_gemm_rates(const GemmSetup& setup);

}  // namespace mlp
