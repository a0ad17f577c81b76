// The successive-halving part of the sweep report; see halving_report.h.
#include "launch/sweep/halving_report.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "core/record_csv.h"
#include "launch/sweep/halving.h"

namespace mlp {
namespace {

std::string outcome_name(pb::RankedConfig::Outcome outcome) {
  switch (outcome) {
    case pb::RankedConfig::PROMOTED:
      return "promoted";
    case pb::RankedConfig::STOPPED:
      return "stopped";
    case pb::RankedConfig::ENDED:
      return "ended";
  }
  return "unknown";
}

std::string epochs_text(int epochs) {
  return std::to_string(epochs) + (epochs == 1 ? " epoch" : " epochs");
}

const ConfigLabel& label_of(const std::map<std::string, ConfigLabel>& labels,
                            const std::string& config_id) {
  static const ConfigLabel unknown{"an unplanned configuration", ""};
  const auto it = labels.find(config_id);
  return it == labels.end() ? unknown : it->second;
}

}  // namespace

std::string of_bracket(const std::string& bracket) {
  return bracket.empty() ? "" : " of " + one_line(bracket);
}

std::string decision_text(const pb::SweepLedger& ledger, const pb::RungDecision& d) {
  int promoted = 0;
  for (const pb::RankedConfig& c : d.ranking())
    promoted += c.outcome() == pb::RankedConfig::PROMOTED;
  const int next = d.rung() + 1 < ledger.rung_epochs_size() ? ledger.rung_epochs(d.rung() + 1) : 0;
  return "rung " + std::to_string(d.rung() + 1) + " (" + std::to_string(d.epochs()) +
         (d.epochs() == 1 ? " epoch)" : " epochs)") + of_bracket(d.bracket()) +
         " decided: " + std::to_string(promoted) + " of " + std::to_string(d.configurations()) +
         (d.configurations() == 1 ? " configuration" : " configurations") + " promoted to " +
         std::to_string(next) + " epochs";
}

std::string rungs_text(const pb::SweepLedger& ledger) {
  std::string text;
  for (int k = 0; k < ledger.rung_epochs_size(); ++k)
    text += (k == 0                               ? ""
             : k + 1 == ledger.rung_epochs_size() ? " and "
                                                  : ", ") +
            std::to_string(ledger.rung_epochs(k));
  return text + " epochs";
}

std::set<std::string> finalists(const pb::SweepLedger& ledger) {
  std::set<std::string> ids;
  const int last = ledger.rung_epochs_size() - 1;
  for (const pb::TrialRecord& t : ledger.trial())
    if (t.rung() == last) ids.insert(t.config_id());
  return ids;
}

void report_halving(const std::string& dir, const pb::SweepLedger& ledger,
                    const std::map<std::string, ConfigLabel>& labels,
                    const std::string& axes_header, int64_t epochs_trained, std::FILE* out) {
  // The metric is fixed at the first decision (by what the trials report) unless the spec names it.
  const char* metric = !ledger.halving().has_metric() ? "val_acc (val_loss if none is reported)"
                       : ledger.halving().metric() == pb::VAL_ACC ? "val_acc"
                                                                  : "val_loss";
  const bool bracketed = ledger.halving().bracket_by_size() > 0;
  std::string csv = std::string(bracketed ? "bracket," : "") + "rung,rung_epochs,rank,config_id" +
                    axes_header + ",value,outcome\n";
  std::fprintf(out, "successive halving, reduction factor %d, rungs of %s, by mean %s%s:\n",
               ledger.halving().reduction_factor(), rungs_text(ledger).c_str(), metric,
               bracketed ? ", each bracket on its own" : "");
  for (const pb::RungDecision& d : ledger.decision()) {
    std::string promoted;
    int rank = 0, count = 0;
    for (const pb::RankedConfig& c : d.ranking()) {
      const ConfigLabel& label = label_of(labels, c.config_id());
      const double value = c.has_value() ? c.value() : std::numeric_limits<double>::quiet_NaN();
      csv += (bracketed ? csv_text(d.bracket()) + "," : "") + std::to_string(d.rung() + 1) + "," +
             std::to_string(d.epochs()) + "," + std::to_string(++rank) + "," + c.config_id() +
             label.csv_cells + "," + csv_number(value, kReportDigits) + "," +
             outcome_name(c.outcome()) + "\n";
      if (c.outcome() != pb::RankedConfig::PROMOTED) continue;
      ++count;
      char shown[32];
      std::snprintf(shown, sizeof shown, " (%.4g)", c.value());
      promoted += std::string(promoted.empty() ? "" : "; ") + label.text + shown;
    }
    std::fprintf(out, "  rung %d (%s)%s: %d configuration%s, %d promoted: %s\n", d.rung() + 1,
                 epochs_text(d.epochs()).c_str(), of_bracket(d.bracket()).c_str(),
                 d.configurations(), d.configurations() == 1 ? "" : "s", count,
                 promoted.empty() ? "none could go on" : promoted.c_str());
  }
  // The next rung of each bracket that still goes on, in plan order.
  std::vector<std::string> brackets;
  for (const pb::TrialRecord& t : ledger.trial()) {
    const std::string bracket = bracket_of(ledger, t);
    if (std::find(brackets.begin(), brackets.end(), bracket) == brackets.end())
      brackets.push_back(bracket);
  }
  for (const std::string& bracket : brackets) {
    int decided = 0;
    bool goes_on = true;
    for (const pb::RungDecision& d : ledger.decision()) {
      if (d.bracket() != bracket) continue;
      ++decided;
      goes_on = std::any_of(d.ranking().begin(), d.ranking().end(), [](const auto& c) {
        return c.outcome() == pb::RankedConfig::PROMOTED;
      });
    }
    if (!goes_on || decided + 1 >= ledger.rung_epochs_size()) continue;
    std::fprintf(out, "  rung %d (%s)%s: not decided %s\n", decided + 1,
                 epochs_text(ledger.rung_epochs(decided)).c_str(), of_bracket(bracket).c_str(),
                 every_trial_at_rung_failed(ledger, bracket, decided)
                     ? "(every trial that ran at it failed; fix the cause and run again with a "
                       "larger --retries)"
                     : "yet");
  }
  write_file_atomically(dir + "/rungs.csv", csv);
  const int64_t grid = static_cast<int64_t>(ledger.trial_size()) * ledger.rung_epochs().rbegin()[0];
  std::fprintf(out,
               "epochs trained: %lld of the full grid's %lld (%d trials x %s), %.1f%%; see "
               "%s/rungs.csv\n",
               static_cast<long long>(epochs_trained), static_cast<long long>(grid),
               ledger.trial_size(), epochs_text(ledger.rung_epochs().rbegin()[0]).c_str(),
               grid > 0 ? 100.0 * static_cast<double>(epochs_trained) / grid : 0.0, dir.c_str());
}

}  // namespace mlp
