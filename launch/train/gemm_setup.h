// The run's matrix-product backend: the one the config names, or for "auto" the fastest on rank
// 0's timing of the model's own products, broadcast so that every rank runs the same one (the
// same backend is what makes ranks' replicas and resumed runs bitwise reproducible). Auto
// remembers its choice per host, CPU and product shapes (gemm_memory.h) and reuses it, so that
// two runs of one command run the same backend whatever the load; "remeasure" times again.
// Under --precision bf16 the products run on oneDNN with bf16 operands, and rank 0 times them
// beside the float32 backends so that a host where bf16 is the slower one is told.
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
  bool measured = false;  // chosen by timing now (auto without memory, or remeasure)
  // Rank 0's rates, measured now or remembered with the choice (step_seconds 0 then), or under
  // bf16 (with oneDNN's bf16 rate); empty when the backend was named or is the checkpoint's.
  std::vector<GemmTiming> timings;
  std::string openblas_core;  // the kernel OpenBLAS chose; empty without OpenBLAS
  // How it was chosen: "named", "measured", "remembered" or "checkpoint" (Event.gemm_choice),
  // and rank 0's file of auto's memory ("" when none).
  std::string choice;
  std::string choice_file;
  // Rank 0's warnings about the memory (a file refused, or not written), one line each.
  std::vector<std::string> notes;
  ProductSettings products() const { return {backend, precision}; }
};

// Collective: every rank calls it once, before the first product. Under auto the products
// timed are those of a step of config.model() (inputs and outputs resolved) at the largest shard
// of config.batch_size() over comm's ranks (the largest block with --exact-blocks), and the
// choice is remembered in the data cache folder (config.data().cache_dir(), its default when ""
// or "off"), reused when the file checks out, timed again otherwise or under "remeasure".
// Under bf16 the backend is oneDNN, and rank 0 times the same products with bf16's beside them.
// `resumed_backend` is the backend of the checkpoint the run resumes from ("" for a fresh run):
// under auto a resumed run keeps it when this build has it, so it continues bitwise. Returns
// what was chosen and how; the caller gives the model setup.products() (Model::set_products).
// Throws UsageError for a backend name it cannot run, and under bf16 on a CPU without bf16
// instructions; a memory that cannot be written is a note.
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

// The warnings of the start of a run, one line each: OpenBLAS's generic kernels, a resumed run's
// other precision (which alone says both when the backend changed too) or other backend, a slower
// bf16, and the notes of auto's memory.
std::vector<std::string> gemm_start_warnings(const GemmSetup& setup,
                                             const std::string& resumed_backend,
                                             const std::string& resumed_precision);

// The measured rates of `setup`, GFLOP/s by backend.
pb::GemmRates gemm_rates(const GemmSetup& setup);

// Fills the gemm_backend, gemm_gflops, openblas_core, gemm_choice and gemm_choice_file fields of
// a record (pb::Summary, pb::Event) from `setup`.
template <typename Record>
void record_gemm(const GemmSetup& setup, Record* record) {
  *record->mutable_gemm_backend() = gemm_backend_name(setup.backend);
  if (!setup.timings.empty()) *record->mutable_gemm_gflops() = gemm_rates(setup);
  if (!setup.openblas_core.empty()) record->set_openblas_core(setup.openblas_core);
  if (!setup.choice.empty()) record->set_gemm_choice(setup.choice);
  if (!setup.choice_file.empty()) record->set_gemm_choice_file(setup.choice_file);
}

}  // namespace mlp
