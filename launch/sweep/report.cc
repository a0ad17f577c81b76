// Sweep result tables, best-configuration choice and the plot step; see sweep_report.h.
#include "launch/sweep/report.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>
#include <vector>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/input_file.h"
#include "core/record_csv.h"
#include "launch/sweep/halving.h"
#include "launch/sweep/halving_report.h"
#include "launch/sweep/ledger.h"
#include "launch/sweep/plot_step.h"
#include "proto/epoch_metrics.pb.h"
#include "proto/run_records.pb.h"

namespace mlp {
namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();
// read_summary_numbers's prefix of the kept epoch's metrics.
const std::string kKept = "kept_epoch.";

// The fields of an epoch's metrics record, in order.
std::vector<std::string> metric_names() {
  std::vector<std::string> names;
  const google::protobuf::Descriptor* d = pb::EpochMetrics::descriptor();
  for (int i = 0; i < d->field_count(); ++i) names.push_back(d->field(i)->name());
  return names;
}

// A column of trials.csv or summary.csv and the read_summary_numbers key it shows.
struct Column {
  std::string name, key;
};

// trials.csv: the summary's numbers around the kept epoch's metrics, named as in metrics.csv.
std::vector<Column> trial_columns() {
  std::vector<Column> columns = {{"best_epoch", "best_epoch"},
                                 {"stopped_epoch", "stopped_epoch"},
                                 {"epochs_run", "epochs_run"}};
  for (const std::string& name : metric_names()) columns.push_back({name, kKept + name});
  for (const char* name : {"test_loss", "test_acc", "total_wall_seconds"})
    columns.push_back({name, name});
  return columns;
}

// summary.csv's statistics over a configuration's seeds: the kept epoch's metrics but its
// number, then the test metrics and the best epoch.
std::vector<Column> config_columns() {
  std::vector<Column> columns;
  for (const std::string& name : metric_names())
    if (name != "epoch") columns.push_back({name, kKept + name});
  for (const char* name : {"test_loss", "test_acc", "best_epoch"}) columns.push_back({name, name});
  return columns;
}

double lookup(const std::map<std::string, double>& numbers, const std::string& key) {
  const auto it = numbers.find(key);
  return it == numbers.end() ? kMissing : it->second;
}

// A number of a record: plain numbers and booleans as they are, a google.protobuf.Value's number
// (null or not a number: NaN); nested messages such as the config are not numbers.
bool record_number(const google::protobuf::Message& record,
                   const google::protobuf::FieldDescriptor* f, double* value) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* r = record.GetReflection();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_DOUBLE:
      *value = r->GetDouble(record, f);
      return true;
    case FieldDescriptor::CPPTYPE_FLOAT:
      *value = r->GetFloat(record, f);
      return true;
    case FieldDescriptor::CPPTYPE_INT32:
      *value = r->GetInt32(record, f);
      return true;
    case FieldDescriptor::CPPTYPE_UINT32:
      *value = r->GetUInt32(record, f);
      return true;
    case FieldDescriptor::CPPTYPE_BOOL:
      *value = r->GetBool(record, f) ? 1 : 0;
      return true;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (f->message_type() != google::protobuf::Value::descriptor()) return false;
      {
        const auto& v = static_cast<const google::protobuf::Value&>(r->GetMessage(record, f));
        *value =
            v.kind_case() == google::protobuf::Value::kNumberValue ? v.number_value() : kMissing;
      }
      return true;
    default:
      return false;
  }
}

struct TrialRow {
  const pb::TrialRecord* record;
  std::string state;
  std::map<std::string, double> numbers;
};

struct Stat {
  double mean = kMissing, std = kMissing;
  int count = 0;
};

Stat stat_of(const std::vector<double>& values) {
  Stat s;
  double sum = 0;
  for (double v : values)
    if (std::isfinite(v)) {
      sum += v;
      ++s.count;
    }
  if (s.count == 0) return s;
  s.mean = sum / s.count;
  if (s.count > 1) {
    double squares = 0;
    for (double v : values)
      if (std::isfinite(v)) squares += (v - s.mean) * (v - s.mean);
    s.std = std::sqrt(squares / (s.count - 1));
  }
  return s;
}

struct ConfigGroup {
  const pb::TrialRecord* first;  // axis values of the configuration
  int trials = 0;
  std::map<std::string, int> states;
  std::map<std::string, Stat> stats;
};

int count_of(const std::map<std::string, int>& counts, const std::string& key) {
  const auto it = counts.find(key);
  return it == counts.end() ? 0 : it->second;
}

std::string mean_and_spread(const Stat& s) {
  char text[64];
  if (s.count < 2)
    std::snprintf(text, sizeof text, "%.4g (one seed)", s.mean);
  else
    std::snprintf(text, sizeof text, "%.4g ± %.2g", s.mean, s.std);
  return text;
}

}  // namespace

std::map<std::string, double> read_summary_numbers(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) return {};
  pb::Summary summary;
  google::protobuf::util::JsonParseOptions options;
  // Summaries of older and newer trainers: keys this one does not know are skipped.
  options.ignore_unknown_fields = true;
  std::string json;
  read_whole_file(path, &json);  // unreadable: empty, which is no summary
  const auto status = google::protobuf::util::JsonStringToMessage(json, &summary, options);
  if (!status.ok()) throw UsageError(path + ": not a run summary: " + one_line(status.ToString()));
  // Trainers before kept_epoch wrote its train_* and val_* as top-level keys (null when they
  // did not apply); their top-level samples_per_second is the run's, not the epoch's.
  if (!summary.has_kept_epoch()) {
    pb::EpochMetrics flat;
    if (google::protobuf::util::JsonStringToMessage(json, &flat, options).ok()) {
      flat.clear_samples_per_second();
      if (flat.ByteSizeLong() > 0) *summary.mutable_kept_epoch() = flat;
    }
  }
  std::map<std::string, double> numbers;
  const google::protobuf::Descriptor* d = summary.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    double value = 0;
    if (summary.GetReflection()->HasField(summary, f) && record_number(summary, f, &value))
      numbers[f->name()] = value;
  }
  for (const google::protobuf::FieldDescriptor* f : present_fields(summary.kept_epoch()))
    numbers[kKept + f->name()] = number_field(summary.kept_epoch(), f);
  return numbers;
}

void write_sweep_report(const std::string& sweep_dir, const ReportOptions& options,
                        std::FILE* out) {
  const std::string dir = std::filesystem::absolute(sweep_dir).lexically_normal().string();
  const pb::SweepLedger ledger = read_ledger(dir);
  std::string axes_header;
  for (const std::string& field : ledger.axis_field()) axes_header += "," + csv_text(field);

  std::vector<TrialRow> rows;
  for (const pb::TrialRecord& t : ledger.trial()) {
    TrialRow row{&t, state_name(t.state()),
                 read_summary_numbers(trial_dir(dir, t.id()) + "/summary.json")};
    // Summaries from trainers older than total_wall_seconds: exact for runs never resumed.
    if (!row.numbers.count("total_wall_seconds") && row.numbers.count("wall_seconds"))
      row.numbers["total_wall_seconds"] = row.numbers["wall_seconds"];
    if (!row.numbers.empty() && (t.state() == pb::PLANNED || t.state() == pb::RUNNING))
      row.state = "done";
    rows.push_back(std::move(row));
  }

  const std::vector<Column> trial_numbers = trial_columns();
  const bool halving = ledger.has_halving();
  std::string trials = "id,config_id" + axes_header + ",seed,state";
  if (halving) trials += ",rung,rung_epochs,epochs_trained";
  for (const Column& column : trial_numbers) trials += "," + column.name;
  trials += "\n";
  std::string epochs =
      "id,config_id" + axes_header + ",seed," + csv_header(*pb::EpochMetrics::descriptor()) + "\n";
  int64_t epochs_trained = 0;
  std::map<std::string, ConfigLabel> labels;
  for (const TrialRow& row : rows) {
    const pb::TrialRecord& t = *row.record;
    std::string key = t.id() + "," + t.config_id(), cells;
    for (const std::string& value : t.axis_value()) cells += "," + csv_text(value);
    labels.insert({t.config_id(), {axis_description(ledger, t), cells}});
    key += cells + "," + std::to_string(t.seed());
    const std::vector<pb::EpochMetrics> metrics =
        read_csv_records<pb::EpochMetrics>(trial_dir(dir, t.id()) + "/metrics.csv");
    epochs_trained += static_cast<int64_t>(metrics.size());
    trials += key + "," + row.state;
    if (halving)
      trials +=
          "," + std::to_string(t.rung() + 1) + "," +
          std::to_string(t.rung() < ledger.rung_epochs_size() ? ledger.rung_epochs(t.rung()) : 0) +
          "," + std::to_string(metrics.size());
    for (const Column& column : trial_numbers)
      trials += "," + csv_number(lookup(row.numbers, column.key), kReportDigits);
    trials += "\n";
    for (const pb::EpochMetrics& m : metrics)
      epochs += key + "," + csv_row(m, kReportDigits) + "\n";
  }

  // Configurations in plan order, each over its replicates; metrics only from finished trials.
  const std::vector<Column> config_numbers = config_columns();
  std::vector<std::string> order;
  std::map<std::string, ConfigGroup> groups;
  std::map<std::string, std::map<std::string, std::vector<double>>> values;
  for (const TrialRow& row : rows) {
    const std::string& config = row.record->config_id();
    if (!groups.count(config)) {
      order.push_back(config);
      groups[config].first = row.record;
    }
    ConfigGroup& g = groups[config];
    ++g.trials;
    ++g.states[row.state];
    if (row.state == "done")
      for (const Column& column : config_numbers)
        values[config][column.name].push_back(lookup(row.numbers, column.key));
  }
  std::string summary = "config_id" + axes_header + ",trials,done,diverged,failed";
  for (const Column& column : config_numbers)
    summary += "," + column.name + "_mean," + column.name + "_std," + column.name + "_count";
  summary += "\n";
  for (const std::string& config : order) {
    ConfigGroup& g = groups[config];
    summary += config;
    for (const std::string& value : g.first->axis_value()) summary += "," + csv_text(value);
    summary += "," + std::to_string(g.trials) + "," + std::to_string(count_of(g.states, "done")) +
               "," + std::to_string(count_of(g.states, "diverged")) + "," +
               std::to_string(count_of(g.states, "failed"));
    for (const Column& column : config_numbers) {
      const Stat s = stat_of(values[config][column.name]);
      g.stats[column.name] = s;
      summary += "," + csv_number(s.mean, kReportDigits) + "," + csv_number(s.std, kReportDigits) +
                 "," + std::to_string(s.count);
    }
    summary += "\n";
  }
  write_file_atomically(dir + "/trials.csv", trials);
  write_file_atomically(dir + "/epochs.csv", epochs);
  write_file_atomically(dir + "/summary.csv", summary);
  std::fprintf(out,
               "wrote %s/trials.csv, epochs.csv and summary.csv (%zu trials, %zu configurations)\n",
               dir.c_str(), rows.size(), order.size());

  if (halving) report_halving(dir, ledger, labels, axes_header, epochs_trained, out);

  // Validation accuracy decides when any configuration has one; otherwise validation loss. Under
  // successive halving, the metric it ranked by, among the configurations it ran to the end.
  bool by_accuracy = false;
  for (const auto& [config, g] : groups)
    by_accuracy = by_accuracy || g.stats.at("val_acc").count > 0;
  if (halving && ledger.halving().has_metric())
    by_accuracy = ledger.halving().metric() == pb::VAL_ACC;
  const std::set<std::string> finished_by_halving = finalists(ledger);
  const std::string metric = by_accuracy ? "val_acc" : "val_loss";
  // The best of each bracket of successive halving (one without bracket_by), in plan order.
  std::vector<std::string> brackets;
  for (const std::string& config : order) {
    const std::string bracket = halving ? bracket_of(ledger, *groups[config].first) : "";
    if (std::find(brackets.begin(), brackets.end(), bracket) == brackets.end())
      brackets.push_back(bracket);
  }
  for (const std::string& bracket : brackets) {
    const std::string of = of_bracket(bracket);
    const ConfigGroup* best = nullptr;
    bool best_complete = false;
    for (const std::string& config : order) {
      const ConfigGroup& g = groups[config];
      if (halving &&
          (!finished_by_halving.count(config) || bracket_of(ledger, *g.first) != bracket))
        continue;
      const Stat& s = g.stats.at(metric);
      if (s.count == 0) continue;
      const bool complete = count_of(g.states, "done") == g.trials;
      const Stat* incumbent = best ? &best->stats.at(metric) : nullptr;
      const bool better = !best || (complete && !best_complete) ||
                          (complete == best_complete &&
                           (by_accuracy ? s.mean > incumbent->mean : s.mean < incumbent->mean));
      if (better) {
        best = &g;
        best_complete = complete;
      }
    }
    if (!best) {
      std::fprintf(out, "no configuration%s has a validation result yet\n", of.c_str());
      continue;
    }
    const Stat& v = best->stats.at(metric);
    const Stat& test = best->stats.at(by_accuracy ? "test_acc" : "test_loss");
    std::fprintf(out, "best configuration%s by mean %s over its seeds (%d of %d done)%s: %s\n",
                 of.c_str(), metric.c_str(), count_of(best->states, "done"), best->trials,
                 halving ? ", among those successive halving ran to the full budget" : "",
                 axis_description(ledger, *best->first).c_str());
    std::fprintf(out, "  %s %s; %s %s (test is reported, never used to choose)\n", metric.c_str(),
                 mean_and_spread(v).c_str(), by_accuracy ? "test_acc" : "test_loss",
                 mean_and_spread(test).c_str());
  }
  if (!options.plot_script.empty()) run_plot_script(options.plot_script, dir, out);
}

}  // namespace mlp
