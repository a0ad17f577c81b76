// The files of a run folder, written by rank 0 only: the resolved config (text proto),
// metrics.csv (one row per epoch) and summary.json. On other ranks every call is a no-op, so
// the training loop does not branch on the rank.
#pragma once

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "proto/config.pb.h"

namespace mlp {

// One epoch's numbers. NaN marks a metric that does not apply (accuracy of a regression,
// validation without a validation set); it is written as an empty CSV field and JSON null.
struct EpochMetrics {
  int epoch = 0;
  double train_loss = 0, train_acc = 0;
  double val_loss = 0, val_acc = 0;
  double samples_per_second = 0;
  double epoch_seconds = 0;
};

class RunOutput {
 public:
  // Creates the folder (and parents) when enabled. Throws UsageError "--out: ..." when it
  // cannot be created or written.
  RunOutput(const std::string& dir, bool enabled);
  ~RunOutput();
  RunOutput(const RunOutput&) = delete;
  RunOutput& operator=(const RunOutput&) = delete;

  void write_config(const pb::TrainConfig& config);
  void append_epoch(const EpochMetrics& m);
  // summary.json: the numbers given, then the resolved config as a JSON object.
  void write_summary(const std::map<std::string, double>& numbers, const pb::TrainConfig& config);
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  bool enabled_;
  std::FILE* metrics_ = nullptr;
};

// Formats a number for JSON: NaN and infinities become null.
std::string json_number(double value);

}  // namespace mlp
