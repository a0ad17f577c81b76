// The run summary; see run_summary.h.
#include "launch/train/run_summary.h"

#include <limits>

#include "launch/train/run_output.h"

namespace mlp {

pb::EpochMetrics kept_epoch(const TrainingResult& r) {
  return r.restored_best     ? r.history[r.best_epoch - 1]
         : r.history.empty() ? pb::EpochMetrics{}
                             : r.history.back();
}

pb::Summary make_summary(const TrainingResult& r, const RunTotals& totals,
                         const pb::TrainConfig& config) {
  constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
  pb::Summary s;
  s.set_epochs_run(r.epochs_run);
  s.set_world_size(totals.world_size);
  s.set_parameters(static_cast<double>(totals.parameters));
  s.set_global_steps(static_cast<double>(r.steps_run));
  *s.mutable_best_epoch() = number_or_null(r.best_epoch > 0 ? r.best_epoch : kNan);
  *s.mutable_stopped_epoch() = number_or_null(r.stopped_epoch > 0 ? r.stopped_epoch : kNan);
  s.set_restored_best(r.restored_best);
  *s.mutable_samples_per_second() =
      number_or_null(totals.train_seconds > 0 ? totals.train_samples / totals.train_seconds : kNan);
  if (totals.has_test) {
    *s.mutable_test_loss() = number_or_null(r.test_loss);
    *s.mutable_test_acc() = number_or_null(r.test_acc);
  }
  s.set_wall_seconds(totals.wall_seconds);
  s.set_total_wall_seconds(totals.seconds_before_resume + totals.wall_seconds);
  s.set_peak_rss_mb(totals.peak_rss_mb);
  if (!r.history.empty()) *s.mutable_kept_epoch() = kept_epoch(r);
  *s.mutable_config() = config;
  return s;
}

void write_run_end(const TrainingResult& result, const RunTotals& totals,
                   const pb::TrainConfig& config, const GemmSetup& gemm, RunOutput* output) {
  pb::Summary summary = make_summary(result, totals, config);
  record_gemm(gemm, &summary);
  output->write_summary(summary);
  pb::Event event;
  event.set_epochs_run(result.epochs_run);
  *event.mutable_test_acc() = number_or_null(result.test_acc);
  output->log_event("finish", event);
}

}  // namespace mlp
