// The run's matrix-product backend: the one the config names, or for "auto" the fastest on rank
// 0's timing of the model's own products, broadcast so that every rank runs the same one (the
// same backend is what makes ranks' replicas and resumed runs bitwise reproducible). Under
// --precision bf16 the products run on oneDNN with bf16 operands, and rank 0 times them beside
// the float32 backends so that a host where bf16 is the slower one is told.
#pragma once

#include <string>
#include <vector>

#include "core/gemm_choice.h"
#include "dist/communicator.h"
#include "proto/config.pb.h"
#include "proto/run_records.pb.h"

namespace mlp {

struct GemmSetup {
  GemmBackend backend = GemmBackend::kEigen;
  Precision precision = Precision::kFp32;
  bool measured = false;            // chosen by timing (--gemm auto on a fresh run)
  // rank 0's measurements when measured or under bf16 (with oneDNN's bf16 rate), else empty
  std::vector<GemmTiming> timings;
  std::string openblas_core;        // the kernel OpenBLAS chose; empty without OpenBLAS
  ProductSettings products() const { return {backend, precision}; }
};

// Collective: every rank calls it once, before the first product. Under auto (and under bf16)
// the products timed are those of a step of config.model() (inputs and outputs resolved) at the
// largest shard of config.batch_size() over comm's ranks. `resumed_backend` is the backend of
// the checkpoint the run resumes from ("" for a fresh run): under auto a resumed run keeps it
// when this build has it, so it continues bitwise. Returns what was chosen and measured; the
// caller gives the model setup.products() (Model::set_products). Throws UsageError for a
// backend name it cannot run, and under bf16 on a CPU without bf16 instructions.
GemmSetup choose_gemm_backend(const pb::TrainConfig& config, Communicator& comm,
                              const std::string& resumed_backend = "");

// One warning line when a resumed run's parameters were trained under another backend (results
// then agree within about 1e-5, not bitwise); empty otherwise.
std::string gemm_resume_warning(const GemmSetup& setup, const std::string& resumed_backend);

// One warning line with both rates when oneDNN's bf16 products were measured slower than the
// fastest float32 backend's at the model's products under --precision bf16; empty otherwise.
std::string bf16_rate_warning(const GemmSetup& setup);

// One warning line when a resumed run's parameters were trained under another precision
// ("fp32", "bf16"; empty for a fresh run); empty otherwise.
std::string precision_resume_warning(const GemmSetup& setup, const std::string& resumed_precision);

// The measured rates of `setup`, GFLOP/s by backend.
pb::GemmRates gemm_rates(const GemmSetup& setup);

// Fills the gemm_backend, gemm_gflops and openblas_core fields of a record (pb::Summary,
// pb::Event) from `setup`.
template <typename Record>
void record_gemm(const GemmSetup& setup, Record* record) {
  *record->mutable_gemm_backend() = gemm_backend_name(setup.backend);
  if (!setup.timings.empty()) *record->mutable_gemm_gflops() = gemm_rates(setup);
  if (!setup.openblas_core.empty()) record->set_openblas_core(setup.openblas_core);
}

}  // namespace mlp
