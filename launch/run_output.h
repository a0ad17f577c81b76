// The files of a run folder, written by rank 0 only: the resolved config (text proto),
// metrics.csv (one row per epoch), steps.csv (every N steps when asked), events.jsonl (one JSON
// object per event: config, checkpoint saved, early stop, signal, error), TensorBoard event
// files, and summary.json. On other ranks every call is a no-op, so the training loop does not
// branch on the rank.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "launch/tensorboard_writer.h"
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
  double learning_rate = 0;  // at the epoch's last step
};

class RunOutput {
 public:
  // Creates the folder (and parents) when enabled. Throws UsageError "--out: ..." when it
  // cannot be created.
  RunOutput(const std::string& dir, bool enabled);
  ~RunOutput();
  RunOutput(const RunOutput&) = delete;
  RunOutput& operator=(const RunOutput&) = delete;

  // Opens the logs. metrics.csv is rewritten with `history` (the epochs a resumed run keeps);
  // events.jsonl and steps.csv are appended to when resuming, else started afresh.
  void start(const std::vector<EpochMetrics>& history, bool resuming, bool log_steps);
  void write_config(const pb::TrainConfig& config);
  void append_epoch(const EpochMetrics& m);
  void append_step(int64_t global_step, int epoch, double train_loss, double learning_rate,
                   double samples_per_second);
  // One line of events.jsonl: {"time": unix seconds, "event": name, <fields>}; fields is a
  // comma-separated list of JSON members, possibly empty.
  void log_event(const std::string& name, const std::string& fields);
  // summary.json: the numbers given, then the resolved config as a JSON object.
  void write_summary(const std::map<std::string, double>& numbers, const pb::TrainConfig& config);
  const std::string& dir() const { return dir_; }

 private:
  std::FILE* open_log(const std::string& name, bool append, const char* header);

  std::string dir_;
  bool enabled_;
  std::FILE* metrics_ = nullptr;
  std::FILE* steps_ = nullptr;
  std::FILE* events_ = nullptr;
  std::unique_ptr<TensorBoardWriter> tensorboard_;
};

// Formats a number for JSON: NaN and infinities become null.
std::string json_number(double value);
// A JSON string literal with quotes, backslashes and control characters escaped.
std::string json_string(const std::string& text);

}  // namespace mlp
