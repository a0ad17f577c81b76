// summary.json of a finished run: the kept model's numbers (the best epoch's metrics when its
// weights were restored, else the last epoch's), the test result and the run's totals. A new
// summary field is one line in make_summary and one in proto/run_records.proto; a new epoch
// metric needs neither.
#pragma once

#include <cstddef>

#include "launch/train/gemm_setup.h"
#include "launch/train/run_output.h"
#include "launch/train/train_loop.h"
#include "proto/config.pb.h"
#include "proto/run_records.pb.h"

namespace mlp {

// What the summary reports beyond the TrainingResult.
struct RunTotals {
  int world_size = 1;
  size_t parameters = 0;
  bool has_test = false;                        // test_loss and test_acc are reported
  double train_samples = 0, train_seconds = 0;  // of the steps this process ran
  double wall_seconds = 0;                      // of this process
  double seconds_before_resume = 0;             // of the processes before it
  double peak_rss_mb = 0;                       // of this process
};

// The metrics of the epoch whose weights a run keeps: the best epoch's when they were restored,
// else the last epoch's (an empty record before any epoch).
pb::EpochMetrics kept_epoch(const TrainingResult& result);

pb::Summary make_summary(const TrainingResult& result, const RunTotals& totals,
                         const pb::TrainConfig& config);

// The records of a run's end: summary.json (make_summary and the backend's fields) and the
// "finish" event.
void write_run_end(const TrainingResult& result, const RunTotals& totals,
                   const pb::TrainConfig& config, const GemmSetup& gemm, RunOutput* output);

}  // namespace mlp
