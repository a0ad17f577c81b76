// Everything a resumed run needs besides the parameters and the optimizer: where the run stands,
// its history, the early-stopping state with the best weights, time and the last rate. The one
// place that turns a run into a Checkpoint message and back; a new saved field is one edit in
// run_state.cc and one in proto/checkpoint.proto.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/batch_plan.h"
#include "core/early_stopping.h"
#include "core/optimizer.h"
#include "core/param_store.h"
#include "proto/checkpoint.pb.h"
#include "proto/config.pb.h"
#include "proto/epoch_metrics.pb.h"

namespace mlp {

struct RunState {
  // Position: the next step to run is step_in_epoch of epoch (both 0-based).
  int epoch = 0;
  int64_t step_in_epoch = 0;
  int64_t global_step = 0;
  int64_t samples_consumed = 0;
  pb::PartialEpoch partial;               // sums of the interrupted epoch's steps, over all ranks
  std::vector<pb::EpochMetrics> history;  // one record per evaluated epoch
  EarlyStoppingState early_stopping;
  std::vector<float> best_params;  // the best epoch's parameters; empty unless restore_best
  // Wall seconds of the run so far, summed over the processes that resumed along the way; the
  // loop refreshes it before each save.
  double elapsed_seconds = 0;
  double last_learning_rate = 0;  // of the last step run
  // The product backend that trained the parameters (a checkpoint's; empty when unknown).
  std::string gemm_backend;
  // The products' precision that trained them ("fp32", "bf16"; a checkpoint's, empty for a fresh
  // run).
  std::string precision;
  // The exact mode's fixed-point exponents, one per parameter block (ExactSum::exponents);
  // empty when the mode is off.
  std::vector<int> exact_exponents;
};

// What the run is, that a checkpoint is written for or must agree with.
struct RunIdentity {
  const pb::TrainConfig& config;
  const BatchPlan& plan;  // of the training split
  uint64_t data_fingerprint = 0;
  int world_size = 1;
  std::string command_line;  // provenance only
  // The input standardization the parameters are trained on; null without --standardize.
  const pb::Standardization* standardization = nullptr;
};

// Program version, host, time, command line and training-data fingerprint: the provenance of
// checkpoints and model files.
pb::Provenance make_provenance(const std::string& command_line, uint64_t data_fingerprint);

// The checkpoint of `state` with the parameters, optimizer state and provenance, as one message
// (the float vectors copied in): what reading the file write_run_checkpoint writes gives.
pb::Checkpoint to_checkpoint(const RunState& state, const ParamStore<float>& store,
                             const Optimizer& optimizer, const RunIdentity& run);

// Writes the same checkpoint as a checkpoint file (core/checkpoint_file.h), its float vectors
// (parameters, optimizer slots, the best epoch's parameters) streamed from memory, never copied.
void write_run_checkpoint(const std::string& path, const RunState& state,
                          const ParamStore<float>& store, const Optimizer& optimizer,
                          const RunIdentity& run);

// Checks every field of `checkpoint` against `run` and against each other before anything is
// used, then copies parameters and optimizer state into store and optimizer and returns the
// state. The checkpoint is outside input: throws Error(kCheckpoint) "SOURCE: cannot resume: why"
// naming the first problem (the config's model, optimizer, seed or batch size, the data, the
// layout, vector lengths, slot names, the position, the history, the early-stopping state,
// non-finite values). The run's length, outputs, checkpoint settings and rank count may differ.
// A non-finite number in the history reads as absent: earlier versions wrote NaN for a metric
// that did not apply, and every output showed any non-finite number as not applying.
RunState from_checkpoint(const pb::Checkpoint& checkpoint, const RunIdentity& run,
                         const std::string& source, ParamStore<float>* store, Optimizer* optimizer);

}  // namespace mlp
