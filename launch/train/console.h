// What rank 0 tells the person running the trainer on stdout (warnings on stderr): the run's
// shape, resume, one line per epoch, early stop, restored weights, the test result. Disabled on
// the other ranks, so the training loop does not branch on the rank.
#pragma once

#include <cstdint>
#include <string>

#include "proto/config.pb.h"
#include "proto/epoch_metrics.pb.h"

namespace mlp {

class Console {
 public:
  explicit Console(bool enabled) : enabled_(enabled) {}

  void banner(const pb::TrainConfig& config, int64_t train, int64_t val, int64_t test,
              size_t parameters, int world_size) const;
  void no_checkpoint(const std::string& dir) const;
  void resumed(const std::string& source, int epoch, int64_t step_in_epoch, int64_t global_step,
               int saved_world_size) const;
  // The learning-rate schedule bends from `step` on: the run's length or rate changed.
  void schedule_changed(const pb::TrainConfig& saved, int64_t saved_steps,
                        const pb::TrainConfig& now, int64_t planned_steps, int64_t step,
                        double rate_now, double rate_before) const;
  // "epoch   3/10" and then each metric present that has a console_format
  // (proto/epoch_metrics.proto), in field order.
  void epoch(const pb::EpochMetrics& m, int epochs) const;
  void early_stop(int epoch, const char* metric, int patience, int best_epoch) const;
  // "paused after epoch 3 of 27 ...": the run stopped to be continued with --resume auto.
  void paused(int epoch, int epochs, const std::string& checkpoint_dir) const;
  void restored(int best_epoch) const;
  // "trainer: warning: TEXT" on stderr, nothing when text is empty.
  void warning(const std::string& text) const;
  void test(double loss, double acc, bool classifies) const;

 private:
  bool enabled_;
};

}  // namespace mlp
