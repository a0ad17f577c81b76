// Run folder writer; see run_output.h.
#include "launch/train/run_output.h"

#include <google/protobuf/stubs/common.h>
#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>

#include "core/atomic_file.h"
#include "core/config_fields.h"
#include "core/errors.h"
#include "core/record_csv.h"

namespace mlp {
namespace {

constexpr char kStepsHeader[] = "step,epoch,train_loss,learning_rate,samples_per_second\n";
// Significant digits of the reals in metrics.csv and steps.csv.
constexpr int kDigits = 6;

void write_metrics_row(std::FILE* f, const pb::EpochMetrics& m) {
  std::fprintf(f, "%s\n", csv_row(m, kDigits).c_str());
}

// Whole or not at all: the sweep takes a trial with a summary.json as finished.
void write_whole_file(const std::string& path, const std::string& text) {
  AtomicFileStream file(path, ExitCode::kUsage);
  file.write(text);
  file.commit();
}

// JSON text is UTF-8, and protobuf drops other bytes with a warning on stderr. Paths and error
// messages come from outside: a string that is not UTF-8 has its non-ASCII bytes written as '?'.
void keep_utf8(google::protobuf::Message* record) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* r = record->GetReflection();
  const google::protobuf::Descriptor* d = record->GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_repeated() || !r->HasField(*record, f)) continue;
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      keep_utf8(r->MutableMessage(record, f));
    } else if (f->type() == FieldDescriptor::TYPE_STRING) {
      std::string text = r->GetString(*record, f);
      if (google::protobuf::internal::IsStructurallyValidUTF8(text)) continue;
      for (char& c : text)
        if (static_cast<unsigned char>(c) >= 0x80) c = '?';
      r->SetString(record, f, text);
    }
  }
}

double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

google::protobuf::Value number_or_null(double value) {
  google::protobuf::Value v;
  if (std::isfinite(value))
    v.set_number_value(value);
  else
    v.set_null_value(google::protobuf::NULL_VALUE);
  return v;
}

std::string record_json(const google::protobuf::Message& record, bool pretty) {
  const std::unique_ptr<google::protobuf::Message> utf8(record.New());
  utf8->CopyFrom(record);
  keep_utf8(utf8.get());
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = pretty;
  std::string json;
  google::protobuf::util::MessageToJsonString(*utf8, &json, options);
  return json;
}

RunOutput::RunOutput(const std::string& dir, bool enabled) : dir_(dir), enabled_(enabled) {
  if (!enabled_) return;
  std::error_code error;
  std::filesystem::create_directories(dir_, error);
  if (error || !std::filesystem::is_directory(dir_))
    throw UsageError("--out: cannot create folder " + dir_ + (error ? ": " + error.message() : ""));
}

RunOutput::~RunOutput() {
  for (std::FILE* f : {metrics_, steps_, events_})
    if (f) std::fclose(f);
}

std::FILE* RunOutput::open_log(const std::string& name, bool append, const char* header) {
  const std::string path = dir_ + "/" + name;
  const bool fresh =
      !append || !std::filesystem::exists(path) || std::filesystem::file_size(path) == 0;
  std::FILE* f = std::fopen(path.c_str(), fresh ? "w" : "a");
  if (!f) throw UsageError("--out: cannot write " + path);
  if (fresh && header) std::fputs(header, f);
  std::fflush(f);
  return f;
}

void RunOutput::start(const std::vector<pb::EpochMetrics>& history, bool resuming, bool log_steps) {
  if (!enabled_) return;
  const std::string metrics_header = csv_header(*pb::EpochMetrics::descriptor()) + "\n";
  metrics_ = open_log("metrics.csv", false, metrics_header.c_str());
  if (log_steps) steps_ = open_log("steps.csv", resuming, kStepsHeader);
  events_ = open_log("events.jsonl", resuming, nullptr);
  tensorboard_ = std::make_unique<TensorBoardWriter>(dir_);
  for (const pb::EpochMetrics& m : history) write_metrics_row(metrics_, m);
  std::fflush(metrics_);
}

void RunOutput::write_config(const pb::TrainConfig& config) {
  if (enabled_) write_whole_file(dir_ + "/config.txt", to_text(config));
}

void RunOutput::append_epoch(const pb::EpochMetrics& m) {
  if (!enabled_) return;
  write_metrics_row(metrics_, m);
  std::fflush(metrics_);
  std::vector<std::pair<std::string, double>> scalars;
  for (const google::protobuf::FieldDescriptor* f : present_fields(m))
    if (f->number() != pb::EpochMetrics::kEpochFieldNumber)
      scalars.emplace_back("epoch/" + f->name(), number_field(m, f));
  tensorboard_->add_scalars(m.epoch(), scalars);
}

void RunOutput::append_step(int64_t global_step, int epoch, double train_loss, double learning_rate,
                            double samples_per_second) {
  if (!enabled_ || !steps_) return;
  std::fprintf(steps_, "%lld,%d,%s,%s,%s\n", static_cast<long long>(global_step), epoch,
               csv_number(train_loss, kDigits).c_str(), csv_number(learning_rate, kDigits).c_str(),
               csv_number(samples_per_second, kDigits).c_str());
  std::fflush(steps_);
  // Tagged as the columns of steps.csv and metrics.csv are named.
  tensorboard_->add_scalars(global_step, {{"step/train_loss", train_loss},
                                          {"step/learning_rate", learning_rate},
                                          {"step/samples_per_second", samples_per_second}});
}

void RunOutput::log_event(const std::string& name, pb::Event fields) {
  if (!enabled_ || !events_) return;
  // Milliseconds are enough to order events and keep the lines short.
  fields.set_time(std::round(unix_seconds() * 1000) / 1000);
  fields.set_event(name);
  std::fprintf(events_, "%s\n", record_json(fields, false).c_str());
  std::fflush(events_);
}

void RunOutput::write_summary(const pb::Summary& summary) {
  if (enabled_) write_whole_file(dir_ + "/summary.json", record_json(summary, true));
}

}  // namespace mlp
