// Successive halving's rungs, checks, decision rule and ledger steps; see halving.h.
#include "launch/sweep/halving.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "core/errors.h"
#include "core/record_csv.h"
#include "launch/sweep/ledger.h"
#include "proto/epoch_metrics.pb.h"

namespace mlp {
namespace {

constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

std::string str(int64_t value) { return std::to_string(value); }

bool by_accuracy(const pb::SweepLedger& ledger) { return ledger.halving().metric() == pb::VAL_ACC; }

// The metric of `m`, NaN when absent.
double metric_of(const pb::EpochMetrics& m, bool accuracy) {
  if (accuracy) return m.has_val_acc() ? m.val_acc() : kNone;
  return m.has_val_loss() ? m.val_loss() : kNone;
}

// The metrics row of a trial at `epoch`, or its last row when it has none that late and `or_last`;
// null when there is none.
const pb::EpochMetrics* row_at(const std::vector<pb::EpochMetrics>& rows, int epoch, bool or_last) {
  for (const pb::EpochMetrics& m : rows)
    if (m.epoch() == epoch) return &m;
  if (or_last && !rows.empty() && rows.back().epoch() < epoch) return &rows.back();
  return nullptr;
}

// The ledger's rungs and decisions must fit each other and its trials before anything indexes
// with them: the file is outside input.
void check_ledger(const pb::SweepLedger& ledger) {
  const std::string where = "ledger: successive halving: ";
  const int rungs = ledger.rung_epochs_size();
  if (rungs == 0) throw UsageError(where + "no rungs; plan the sweep again");
  for (int k = 0; k < rungs; ++k)
    if (ledger.rung_epochs(k) < 1 || (k > 0 && ledger.rung_epochs(k) <= ledger.rung_epochs(k - 1)))
      throw UsageError(where + "the rungs' epochs must increase from 1 or more");
  // Each bracket's decisions come in rung order, and the last rung has none.
  std::map<std::string, int> decided;
  for (int i = 0; i < ledger.decision_size(); ++i) {
    const pb::RungDecision& d = ledger.decision(i);
    int& next = decided[d.bracket()];
    if (d.rung() != next || d.rung() >= rungs - 1)
      throw UsageError(where + "decision " + str(i + 1) + " is of rung " + str(d.rung()) +
                       " where rung " + str(next) + " of " + str(rungs) + " was due");
    ++next;
  }
  for (const pb::TrialRecord& t : ledger.trial())
    if (t.rung() < 0 || t.rung() >= rungs)
      throw UsageError(where + "trial " + t.id() + " is at rung " + str(t.rung()) + " of " +
                       str(rungs));
}

// Configurations in plan order, each with the indices of its trials.
std::vector<std::pair<std::string, std::vector<int>>> configurations(
    const pb::SweepLedger& ledger) {
  std::vector<std::pair<std::string, std::vector<int>>> configs;
  std::map<std::string, size_t> index;
  for (int i = 0; i < ledger.trial_size(); ++i) {
    const std::string& id = ledger.trial(i).config_id();
    if (!index.count(id)) {
      index[id] = configs.size();
      configs.push_back({id, {}});
    }
    configs[index[id]].second.push_back(i);
  }
  return configs;
}

// Whether trial t stands still for rung k's decision.
bool settled(const pb::TrialRecord& t, int k) {
  switch (t.state()) {
    case pb::DONE:
    case pb::DIVERGED:
    case pb::FAILED:
      return true;
    case pb::PAUSED:
      return t.rung() == k;
    default:
      return false;
  }
}

// Applies decision d to the trials of its configurations paused at its rung; appends the indices
// changed.
void apply(const pb::RungDecision& d, pb::SweepLedger* ledger, std::vector<int>* changed) {
  std::map<std::string, pb::RankedConfig::Outcome> outcome;
  for (const pb::RankedConfig& c : d.ranking()) outcome[c.config_id()] = c.outcome();
  for (int i = 0; i < ledger->trial_size(); ++i) {
    pb::TrialRecord* t = ledger->mutable_trial(i);
    const auto it = outcome.find(t->config_id());
    if (t->state() != pb::PAUSED || t->rung() != d.rung() || it == outcome.end()) continue;
    if (it->second == pb::RankedConfig::PROMOTED) {
      t->set_state(pb::PLANNED);
      t->set_rung(d.rung() + 1);
    } else {
      t->set_state(pb::PRUNED);
    }
    changed->push_back(i);
  }
}

}  // namespace

std::vector<int> rung_epochs(int max_epochs, int min_epochs, int reduction_factor) {
  std::vector<int> rungs;
  for (int64_t e = min_epochs; e < max_epochs; e *= reduction_factor)
    rungs.push_back(static_cast<int>(e));
  rungs.push_back(max_epochs);
  return rungs;
}

void check_halving(const pb::SweepSpec& spec, const std::vector<PlannedTrial>& trials) {
  const pb::SuccessiveHalving& h = spec.successive_halving();
  const std::string label = "successive_halving";
  const int max_epochs = spec.base().has_epochs() ? spec.base().epochs()
                                                  : pb::TrainConfig::default_instance().epochs();
  if (h.reduction_factor() < 2)
    throw UsageError(label + ".reduction_factor: must be at least 2, got " +
                     str(h.reduction_factor()));
  if (h.min_epochs() < 1 || h.min_epochs() > max_epochs)
    throw UsageError(label + ".min_epochs: must be in [1, " + str(max_epochs) +
                     "] (base.epochs is the largest budget), got " + str(h.min_epochs()));
  for (int i = 0; i < spec.axis_size(); ++i) {
    const pb::Axis& axis = spec.axis(i);
    if (axis.field() == "epochs")
      throw UsageError("axis " + str(i + 1) + " (\"epochs\"): " + label +
                       " takes every trial's budget from base.epochs; no axis may change it");
    if (axis.distribution_case() != pb::Axis::DISTRIBUTION_NOT_SET && !spec.has_samples())
      throw UsageError("axis " + str(i + 1) + " (" + quote_input(axis.field()) + ") is random: " +
                       label + " needs `samples`, how many configurations to draw and rank");
  }
  std::set<std::string> bracket_by;
  for (const std::string& field : h.bracket_by()) {
    const bool axis = std::any_of(spec.axis().begin(), spec.axis().end(),
                                  [&](const pb::Axis& a) { return a.field() == field; });
    if (!axis)
      throw UsageError(label + ".bracket_by: " + quote_input(field) +
                       " is not an axis of the spec");
    if (!bracket_by.insert(field).second)
      throw UsageError(label + ".bracket_by: " + quote_input(field) + " is listed twice");
  }
  for (const PlannedTrial& trial : trials) {
    if (trial.config.epochs() != max_epochs)
      throw UsageError("trial " + trial.record.id() + " has epochs " + str(trial.config.epochs()) +
                       ", not base.epochs " + str(max_epochs) + ": " + label +
                       " needs one budget for every trial");
    if (!(trial.config.data().val_fraction() > 0))
      throw UsageError("trial " + trial.record.id() + " has no validation split " +
                       "(data.val_fraction 0): " + label +
                       " ranks configurations by a validation metric; set val_fraction");
  }
}

void plan_halving(const pb::SweepSpec& spec, const std::vector<PlannedTrial>& trials,
                  const pb::SweepLedger* previous, pb::SweepLedger* ledger) {
  if (spec.has_successive_halving()) {
    const pb::SuccessiveHalving& h = spec.successive_halving();
    *ledger->mutable_halving() = h;
    ledger->mutable_halving()->set_reduction_factor(h.reduction_factor());
    ledger->mutable_halving()->set_min_epochs(h.min_epochs());
    for (int e : rung_epochs(trials.front().config.epochs(), h.min_epochs(), h.reduction_factor()))
      ledger->add_rung_epochs(e);
  }
  if (previous == nullptr) return;
  bool started = false;
  for (const pb::TrialRecord& t : previous->trial())
    started = started || t.state() != pb::PLANNED || t.attempts() > 0;
  const pb::SuccessiveHalving &now = ledger->halving(), &before = previous->halving();
  const bool same_schedule =
      ledger->has_halving() == previous->has_halving() &&
      std::equal(ledger->rung_epochs().begin(), ledger->rung_epochs().end(),
                 previous->rung_epochs().begin(), previous->rung_epochs().end()) &&
      now.reduction_factor() == before.reduction_factor() &&
      std::equal(now.bracket_by().begin(), now.bracket_by().end(), before.bracket_by().begin(),
                 before.bracket_by().end()) &&
      !(now.has_metric() && before.has_metric() && now.metric() != before.metric());
  if (started && !same_schedule)
    throw UsageError("the folder's trials ran under " +
                     std::string(previous->has_halving() ? "another successive_halving schedule"
                                                         : "no successive_halving") +
                     "; plan this spec into a new folder");
  if (!ledger->has_halving() || previous->decision_size() == 0 || !same_schedule) return;
  bool same_trials = previous->trial_size() == ledger->trial_size();
  for (int i = 0; same_trials && i < ledger->trial_size(); ++i)
    same_trials = previous->trial(i).id() == ledger->trial(i).id();
  if (!same_trials)
    throw UsageError("the folder's successive halving has decided " +
                     str(previous->decision_size()) +
                     " rung(s) over other trials; plan this spec into a new folder");
  if (!now.has_metric() && before.has_metric())
    ledger->mutable_halving()->set_metric(before.metric());
  *ledger->mutable_decision() = previous->decision();
}

pb::RungDecision decide_rung(int rung, int epochs, const std::vector<ConfigAtRung>& configs,
                             int reduction_factor, bool higher_is_better) {
  struct Standing {
    size_t index;
    double value = kNone;
    bool can_continue = false;
  };
  std::vector<Standing> standings;
  for (size_t i = 0; i < configs.size(); ++i) {
    Standing s{i};
    bool lost = false, paused = false;
    double sum = 0;
    for (const ReplicateAtRung& r : configs[i].replicates) {
      lost = lost || r.kind == ReplicateAtRung::Kind::kLost;
      paused = paused || r.kind == ReplicateAtRung::Kind::kPaused;
      sum += r.value;
    }
    if (!lost && !configs[i].replicates.empty() && std::isfinite(sum))
      s.value = sum / static_cast<double>(configs[i].replicates.size());
    s.can_continue = paused && std::isfinite(s.value);
    standings.push_back(s);
  }
  // Stable: equal values keep plan order, and so do the configurations without one, last.
  std::stable_sort(standings.begin(), standings.end(), [&](const Standing& a, const Standing& b) {
    if (std::isfinite(a.value) != std::isfinite(b.value)) return std::isfinite(a.value);
    return higher_is_better ? a.value > b.value : a.value < b.value;
  });
  pb::RungDecision d;
  d.set_rung(rung);
  d.set_epochs(epochs);
  const int n = static_cast<int>(configs.size());
  d.set_configurations(n);
  d.set_keep(std::max(1, n / reduction_factor));
  int promoted = 0;
  for (const Standing& s : standings) {
    pb::RankedConfig* c = d.add_ranking();
    c->set_config_id(configs[s.index].config_id);
    if (std::isfinite(s.value)) c->set_value(s.value);
    if (!s.can_continue) {
      c->set_outcome(pb::RankedConfig::ENDED);
    } else if (promoted < d.keep()) {
      c->set_outcome(pb::RankedConfig::PROMOTED);
      ++promoted;
    } else {
      c->set_outcome(pb::RankedConfig::STOPPED);
    }
  }
  return d;
}

int pause_epoch(const pb::SweepLedger& ledger, const pb::TrialRecord& t) {
  const int last = ledger.rung_epochs_size() - 1;
  return t.rung() < last ? ledger.rung_epochs(t.rung()) : 0;
}

bool rung_decided(const pb::SweepLedger& ledger, const pb::TrialRecord& t) {
  if (!ledger.has_halving()) return false;
  const std::string bracket = bracket_of(ledger, t);
  for (const pb::RungDecision& d : ledger.decision())
    if (d.bracket() == bracket && d.rung() == t.rung())
      for (const pb::RankedConfig& c : d.ranking())
        if (c.config_id() == t.config_id()) return true;
  return false;
}

bool every_trial_at_rung_failed(const pb::SweepLedger& ledger, const std::string& bracket,
                                int rung) {
  // A replicate early stopping ended before the rung did not run at it: its rung is lower.
  int at_rung = 0, failed = 0;
  for (const pb::TrialRecord& t : ledger.trial())
    if (t.rung() == rung && bracket_of(ledger, t) == bracket) {
      ++at_rung;
      failed += t.state() == pb::FAILED;
    }
  return at_rung > 0 && failed == at_rung;
}

std::string bracket_of(const pb::SweepLedger& ledger, const pb::TrialRecord& t) {
  std::string bracket;
  for (const std::string& field : ledger.halving().bracket_by())
    for (int i = 0; i < ledger.axis_field_size() && i < t.axis_value_size(); ++i)
      if (ledger.axis_field(i) == field)
        bracket += (bracket.empty() ? "" : ", ") + field + "=" + t.axis_value(i);
  return bracket;
}

namespace {

using Configurations = std::vector<std::pair<std::string, std::vector<int>>>;

// Decides rung k of one bracket when every trial of its configurations taking part has settled
// and not all of them failed (then they say nothing of their configurations, only of the set-up:
// a missing file, a launch that cannot work; a run with more retries tries them again): records
// the decision in the ledger and applies it. Returns false, changing nothing, otherwise.
bool decide(const std::string& sweep_dir, const std::string& bracket, int k,
            const Configurations& members, pb::SweepLedger* ledger, std::vector<int>* changed) {
  std::map<std::string, bool> taking_part;
  if (k > 0)
    for (const pb::RungDecision& d : ledger->decision())
      if (d.bracket() == bracket && d.rung() == k - 1)
        for (const pb::RankedConfig& c : d.ranking())
          taking_part[c.config_id()] = c.outcome() == pb::RankedConfig::PROMOTED;
  std::vector<const std::vector<int>*> trials;  // of the configurations taking part
  std::vector<std::string> ids;
  for (const auto& [id, indices] : members) {
    if (k > 0 && !taking_part[id]) continue;
    for (int i : indices)
      if (!settled(ledger->trial(i), k)) return false;
    ids.push_back(id);
    trials.push_back(&indices);
  }
  if (ids.empty()) return false;
  if (every_trial_at_rung_failed(*ledger, bracket, k)) return false;
  const int epoch = ledger->rung_epochs(k);
  // Each replicate's kind and row at the rung (a done one's last row, if earlier; none: an
  // empty record). An unset metric is fixed by what the rows hold.
  std::vector<std::vector<std::pair<ReplicateAtRung::Kind, pb::EpochMetrics>>> seen(ids.size());
  bool any_row = false, any_acc = false, any_loss = false;
  for (size_t c = 0; c < ids.size(); ++c)
    for (int i : *trials[c]) {
      const pb::TrialRecord& t = ledger->trial(i);
      const bool done = t.state() == pb::DONE;
      const auto kind = t.state() == pb::PAUSED ? ReplicateAtRung::Kind::kPaused
                        : done                  ? ReplicateAtRung::Kind::kDone
                                                : ReplicateAtRung::Kind::kLost;
      pb::EpochMetrics row;
      if (kind != ReplicateAtRung::Kind::kLost) {
        const std::vector<pb::EpochMetrics> rows =
            read_csv_records<pb::EpochMetrics>(trial_dir(sweep_dir, t.id()) + "/metrics.csv");
        if (const pb::EpochMetrics* m = row_at(rows, epoch, done)) row = *m;
      }
      any_row = any_row || row.has_epoch();
      any_acc = any_acc || row.has_val_acc();
      any_loss = any_loss || row.has_val_loss();
      seen[c].emplace_back(kind, row);
    }
  pb::SuccessiveHalving* h = ledger->mutable_halving();
  if (!h->has_metric()) h->set_metric(any_acc ? pb::VAL_ACC : pb::VAL_LOSS);
  const bool accuracy = by_accuracy(*ledger);
  if (any_row && !(accuracy ? any_acc : any_loss))
    throw UsageError(std::string("successive_halving.metric: no trial reports ") +
                     (accuracy ? "val_acc (a regression? use VAL_LOSS)" : "val_loss") +
                     " at epoch " + str(epoch) + ", the rung to decide");
  std::vector<ConfigAtRung> standing;
  for (size_t c = 0; c < ids.size(); ++c) {
    ConfigAtRung config{ids[c], {}};
    for (const auto& [kind, row] : seen[c])
      config.replicates.push_back({kind, row.has_epoch() ? metric_of(row, accuracy) : kNone});
    standing.push_back(std::move(config));
  }
  pb::RungDecision* d = ledger->add_decision();
  *d = decide_rung(k, epoch, standing, h->reduction_factor(), accuracy);
  if (!bracket.empty()) d->set_bracket(bracket);
  apply(*d, ledger, changed);
  return true;
}

}  // namespace

std::vector<int> advance_halving(const std::string& sweep_dir, pb::SweepLedger* ledger) {
  std::vector<int> changed;
  if (!ledger->has_halving()) return changed;
  check_ledger(*ledger);
  for (const pb::RungDecision& d : ledger->decision()) apply(d, ledger, &changed);
  // Brackets in plan order, each with its configurations in plan order.
  std::vector<std::pair<std::string, Configurations>> brackets;
  for (const auto& config : configurations(*ledger)) {
    const std::string bracket = bracket_of(*ledger, ledger->trial(config.second.front()));
    auto it = std::find_if(brackets.begin(), brackets.end(),
                           [&](const auto& b) { return b.first == bracket; });
    if (it == brackets.end()) it = brackets.insert(brackets.end(), {bracket, {}});
    it->second.push_back(config);
  }
  const int last = ledger->rung_epochs_size() - 1;
  const int decided = ledger->decision_size();
  for (const auto& [bracket, members] : brackets) {
    int k = 0;
    for (const pb::RungDecision& d : ledger->decision()) k += d.bracket() == bracket;
    while (k < last && decide(sweep_dir, bracket, k, members, ledger, &changed)) ++k;
  }
  if (ledger->decision_size() > decided) {
    // One order whatever the timing of the brackets: by rung, then the brackets' plan order.
    std::vector<pb::RungDecision> sorted(ledger->decision().begin(), ledger->decision().end());
    const auto position = [&](const pb::RungDecision& d) {
      return std::find_if(brackets.begin(), brackets.end(),
                          [&](const auto& b) { return b.first == d.bracket(); }) -
             brackets.begin();
    };
    std::stable_sort(sorted.begin(), sorted.end(), [&](const auto& a, const auto& b) {
      return a.rung() != b.rung() ? a.rung() < b.rung() : position(a) < position(b);
    });
    ledger->clear_decision();
    for (pb::RungDecision& d : sorted) *ledger->add_decision() = std::move(d);
  }
  return changed;
}

}  // namespace mlp
