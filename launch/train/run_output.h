// The files of a run folder, written by rank 0 only: the resolved config (text proto),
// metrics.csv (one pb::EpochMetrics a row, core/record_csv.h), steps.csv (every N steps when
// asked), events.jsonl (one pb::Event a line: start, resume, checkpoint_saved, early_stop, signal,
// error, finish), TensorBoard event files, and summary.json (a pb::Summary). The JSON records are
// proto/run_records.proto printed by protobuf. On other ranks every call is a no-op, so the
// training loop does not branch on the rank.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/tensorboard_writer.h"
#include "proto/config.pb.h"
#include "proto/epoch_metrics.pb.h"
#include "proto/run_records.pb.h"

namespace mlp {

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
  void start(const std::vector<pb::EpochMetrics>& history, bool resuming, bool log_steps);
  void write_config(const pb::TrainConfig& config);
  // A metrics.csv row, and TensorBoard scalars epoch/<field> of every metric present but the
  // epoch, which is their step.
  void append_epoch(const pb::EpochMetrics& m);
  void append_step(int64_t global_step, int epoch, double train_loss, double learning_rate,
                   double samples_per_second);
  // One line of events.jsonl: `fields` with its time (unix seconds now) and event name set.
  void log_event(const std::string& name, pb::Event fields = {});
  // summary.json, written whole.
  void write_summary(const pb::Summary& summary);
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

// A JSON number, or null for NaN and infinities (JSON has neither).
google::protobuf::Value number_or_null(double value);

// A run record as JSON with the proto field names as keys: one line, or (pretty) one field a
// line.
std::string record_json(const google::protobuf::Message& record, bool pretty);

}  // namespace mlp
