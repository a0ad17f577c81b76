// Sweep result tables, best-configuration choice and the plot step; see sweep_report.h.
#include "launch/sweep/report.h"

#include <fcntl.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>
#include <vector>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/input_file.h"
#include "launch/sweep/ledger.h"
#include "proto/run_records.pb.h"

extern char** environ;

namespace mlp {
namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

// Columns of trials.csv taken from summary.json, and the per-configuration statistics.
const std::vector<std::string> kTrialNumbers = {"best_epoch", "stopped_epoch",     "epochs_run",
                                                "val_loss",   "val_acc",           "test_loss",
                                                "test_acc",   "total_wall_seconds"};
const std::vector<std::string> kConfigNumbers = {"val_acc", "val_loss", "test_acc", "test_loss",
                                                 "best_epoch"};
const std::vector<std::string> kEpochColumns = {"epoch", "train_loss", "train_acc", "val_loss",
                                                "val_acc"};

// A CSV field, quoted when it holds a comma or quote (hidden sizes such as "100,10" do).
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string number_text(double value) {
  if (!std::isfinite(value)) return "";
  char text[32];
  std::snprintf(text, sizeof text, "%.8g", value);
  return text;
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

// Splits one CSV line (the trainer writes plain numbers, so no quoting to undo).
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream s(line);
  std::string field;
  while (std::getline(s, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
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

std::string axis_description(const pb::SweepLedger& ledger, const pb::TrialRecord& t) {
  std::string text;
  for (int i = 0; i < ledger.axis_field_size() && i < t.axis_value_size(); ++i)
    text += (i ? ", " : "") + ledger.axis_field(i) + "=" + t.axis_value(i);
  return text.empty() ? "the base config" : text;
}

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

// Runs argv to completion; its output is discarded when quiet. Returns the exit status, or -1
// when it could not start or was killed.
int spawn_and_wait(std::vector<std::string> args, bool quiet) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (quiet) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  }
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The first Python with matplotlib: the one in PATH, else Debian's (python3-matplotlib installs
// for /usr/bin/python3, which a virtualenv or pyenv in PATH may hide). Empty when none.
std::string python_with_matplotlib() {
  for (const char* python : {"python3", "/usr/bin/python3"})
    if (spawn_and_wait({python, "-c", "import matplotlib"}, true) == 0) return python;
  return "";
}

void run_plots(const std::string& script, const std::string& dir, std::FILE* out) {
  if (!std::filesystem::exists(script)) {
    std::fprintf(out, "plots skipped: %s not found\n", script.c_str());
    return;
  }
  const std::string python = python_with_matplotlib();
  if (python.empty()) {
    std::fprintf(
        out,
        "plots skipped: no python3 with matplotlib (Debian: apt-get install python3-matplotlib)\n");
    return;
  }
  std::fflush(out);
  const int status = spawn_and_wait({python, script, dir}, false);
  if (status != 0)
    std::fprintf(out, "plots failed: %s %s exited with status %d\n", python.c_str(), script.c_str(),
                 status);
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
  if (!status.ok()) throw UsageError(path + ": not a run summary: " + status.ToString());
  std::map<std::string, double> numbers;
  const google::protobuf::Descriptor* d = summary.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    double value = 0;
    if (summary.GetReflection()->HasField(summary, f) && record_number(summary, f, &value))
      numbers[f->name()] = value;
  }
  return numbers;
}

void write_sweep_report(const std::string& sweep_dir, const ReportOptions& options,
                        std::FILE* out) {
  const std::string dir = std::filesystem::absolute(sweep_dir).lexically_normal().string();
  const pb::SweepLedger ledger = read_ledger(dir);
  std::string axes_header;
  for (const std::string& field : ledger.axis_field()) axes_header += "," + csv_field(field);

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

  std::string trials = "id,config_id" + axes_header + ",seed,state";
  for (const std::string& key : kTrialNumbers) trials += "," + key;
  trials += "\n";
  std::string epochs = "id,config_id" + axes_header + ",seed";
  for (const std::string& column : kEpochColumns) epochs += "," + column;
  epochs += "\n";
  for (const TrialRow& row : rows) {
    const pb::TrialRecord& t = *row.record;
    std::string key = t.id() + "," + t.config_id();
    for (const std::string& value : t.axis_value()) key += "," + csv_field(value);
    key += "," + std::to_string(t.seed());
    trials += key + "," + row.state;
    for (const std::string& name : kTrialNumbers)
      trials += "," + number_text(lookup(row.numbers, name));
    trials += "\n";

    std::string csv;
    read_whole_file(trial_dir(dir, t.id()) + "/metrics.csv", &csv);  // none yet: no rows
    std::istringstream metrics(csv);
    std::string line;
    if (!std::getline(metrics, line)) continue;
    const std::vector<std::string> header = split_csv(line);
    std::vector<int> columns;
    for (const std::string& name : kEpochColumns) {
      const auto it = std::find(header.begin(), header.end(), name);
      columns.push_back(it == header.end() ? -1 : static_cast<int>(it - header.begin()));
    }
    while (std::getline(metrics, line)) {
      if (line.empty()) continue;
      const std::vector<std::string> fields = split_csv(line);
      epochs += key;
      for (int c : columns)
        epochs += "," + (c >= 0 && c < static_cast<int>(fields.size()) ? fields[c] : std::string());
      epochs += "\n";
    }
  }

  // Configurations in plan order, each over its replicates; metrics only from finished trials.
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
      for (const std::string& name : kConfigNumbers)
        values[config][name].push_back(lookup(row.numbers, name));
  }
  std::string summary = "config_id" + axes_header + ",trials,done,diverged,failed";
  for (const std::string& name : kConfigNumbers)
    summary += "," + name + "_mean," + name + "_std," + name + "_count";
  summary += "\n";
  for (const std::string& config : order) {
    ConfigGroup& g = groups[config];
    summary += config;
    for (const std::string& value : g.first->axis_value()) summary += "," + csv_field(value);
    summary += "," + std::to_string(g.trials) + "," + std::to_string(count_of(g.states, "done")) +
               "," + std::to_string(count_of(g.states, "diverged")) + "," +
               std::to_string(count_of(g.states, "failed"));
    for (const std::string& name : kConfigNumbers) {
      const Stat s = stat_of(values[config][name]);
      g.stats[name] = s;
      summary +=
          "," + number_text(s.mean) + "," + number_text(s.std) + "," + std::to_string(s.count);
    }
    summary += "\n";
  }
  write_file_atomically(dir + "/trials.csv", trials);
  write_file_atomically(dir + "/epochs.csv", epochs);
  write_file_atomically(dir + "/summary.csv", summary);
  std::fprintf(out,
               "wrote %s/trials.csv, epochs.csv and summary.csv (%zu trials, %zu configurations)\n",
               dir.c_str(), rows.size(), order.size());

  // Validation accuracy decides when any configuration has one; otherwise validation loss.
  bool by_accuracy = false;
  for (const auto& [config, g] : groups)
    by_accuracy = by_accuracy || g.stats.at("val_acc").count > 0;
  const std::string metric = by_accuracy ? "val_acc" : "val_loss";
  const ConfigGroup* best = nullptr;
  bool best_complete = false;
  for (const std::string& config : order) {
    const ConfigGroup& g = groups[config];
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
    std::fprintf(out, "no configuration has a validation result yet\n");
  } else {
    const Stat& v = best->stats.at(metric);
    const Stat& test = best->stats.at(by_accuracy ? "test_acc" : "test_loss");
    std::fprintf(out, "best configuration by mean %s over its seeds (%d of %d done): %s\n",
                 metric.c_str(), count_of(best->states, "done"), best->trials,
                 axis_description(ledger, *best->first).c_str());
    std::fprintf(out, "  %s %s; %s %s (test is reported, never used to choose)\n", metric.c_str(),
                 mean_and_spread(v).c_str(), by_accuracy ? "test_acc" : "test_loss",
                 mean_and_spread(test).c_str());
  }
  if (!options.plot_script.empty()) run_plots(options.plot_script, dir, out);
}

}  // namespace mlp
