// Run folder writer; see run_output.h.
#include "launch/run_output.h"

#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/errors.h"
#include "launch/config_fields.h"

namespace mlp {
namespace {

std::string csv_number(double value) {
  if (!std::isfinite(value)) return "";
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

void write_whole_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw UsageError("--out: cannot write " + path);
}

}  // namespace

std::string json_number(double value) {
  if (!std::isfinite(value)) return "null";
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

RunOutput::RunOutput(const std::string& dir, bool enabled) : dir_(dir), enabled_(enabled) {
  if (!enabled_) return;
  std::error_code error;
  std::filesystem::create_directories(dir_, error);
  if (error || !std::filesystem::is_directory(dir_))
    throw UsageError("--out: cannot create folder " + dir_ + (error ? ": " + error.message() : ""));
  const std::string path = dir_ + "/metrics.csv";
  metrics_ = std::fopen(path.c_str(), "w");
  if (!metrics_) throw UsageError("--out: cannot write " + path);
  std::fprintf(metrics_, "epoch,train_loss,train_acc,val_loss,val_acc,samples_per_second,epoch_seconds\n");
  std::fflush(metrics_);
}

RunOutput::~RunOutput() {
  if (metrics_) std::fclose(metrics_);
}

void RunOutput::write_config(const pb::TrainConfig& config) {
  if (enabled_) write_whole_file(dir_ + "/config.txt", to_text(config));
}

void RunOutput::append_epoch(const EpochMetrics& m) {
  if (!enabled_) return;
  std::fprintf(metrics_, "%d,%s,%s,%s,%s,%s,%s\n", m.epoch, csv_number(m.train_loss).c_str(),
               csv_number(m.train_acc).c_str(), csv_number(m.val_loss).c_str(),
               csv_number(m.val_acc).c_str(), csv_number(m.samples_per_second).c_str(),
               csv_number(m.epoch_seconds).c_str());
  std::fflush(metrics_);
}

void RunOutput::write_summary(const std::map<std::string, double>& numbers,
                              const pb::TrainConfig& config) {
  if (!enabled_) return;
  std::string json = "{\n";
  for (const auto& [key, value] : numbers) json += "  \"" + key + "\": " + json_number(value) + ",\n";
  std::string config_json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  google::protobuf::util::MessageToJsonString(config, &config_json, options);
  json += "  \"config\": " + config_json + "\n}\n";
  write_whole_file(dir_ + "/summary.json", json);
}

}  // namespace mlp
