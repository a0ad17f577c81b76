// Successive halving of a sweep: the rungs of an epoch budget, the checks of a spec that asks for
// it, the decision rule of one rung, and the ledger moved on from rung to rung. Decisions are a
// pure function of the spec and the trials' results (their metrics.csv rows), made once per rung
// and recorded in the ledger, so neither the number of trials running at once, nor the order they
// finish in, nor a launcher killed and run again changes them.
//
// The rule, synchronous within a rung: configurations are halved in brackets (one, or one per
// combination of the values of the axes in bracket_by), each on its own. A bracket's rung is
// decided once every trial of the configurations taking part (all of the bracket's at the first
// rung, then those promoted into it) has reached it (is
// paused there), ended earlier (early stopping: done), diverged or failed for good. Each
// configuration's value is the mean over its replicates of the metric in their metrics.csv row of
// the rung's epoch (a replicate that ended earlier: its last row). Configurations are ranked best
// first (highest val_acc, or lowest val_loss), ties in plan order; those with a replicate that
// diverged or failed, or without a value, rank last in plan order. Of the n configurations, the
// best floor(n / reduction_factor), at least one, among those that can continue (every replicate
// paused at the rung or done, none diverged or failed, at least one paused) are promoted: their
// paused replicates run on to the next rung, their done ones stay done and keep counting with
// their last value. Paused replicates of the others are pruned. The last rung is the full budget:
// its trials finish as any trial does.
#pragma once

#include <string>
#include <vector>

#include "launch/sweep/plan.h"
#include "proto/sweep.pb.h"

namespace mlp {

// The rungs' epochs: min_epochs x reduction_factor^k for k = 0, 1, ... while below max_epochs,
// then max_epochs. Expects 1 <= min_epochs <= max_epochs and reduction_factor >= 2.
std::vector<int> rung_epochs(int max_epochs, int min_epochs, int reduction_factor);

// Checks spec.successive_halving against the spec and its expanded trials. Throws UsageError with
// one line for a reduction factor below 2, min_epochs outside [1, R] (R: base.epochs), a random
// axis without an explicit `samples`, an axis on epochs or a trial whose epochs differ from R, a
// trial without a validation split (val_fraction 0), or a bracket_by field that is not an axis
// (or is listed twice).
void check_halving(const pb::SweepSpec& spec, const std::vector<PlannedTrial>& trials);

// Sets a planned ledger's halving fields (none without spec.successive_halving): the block and
// its rungs, and from the previous ledger of the folder (null: none) its decisions and resolved
// metric. Throws UsageError when the folder's trials have run under another schedule (or none),
// or when its rungs are partly decided and the trials differ: the decisions would no longer
// follow from the spec; plan into a new folder then.
void plan_halving(const pb::SweepSpec& spec, const std::vector<PlannedTrial>& trials,
                  const pb::SweepLedger* previous, pb::SweepLedger* ledger);

// One replicate of a configuration at a rung, as decide_rung sees it.
struct ReplicateAtRung {
  enum class Kind {
    kPaused,  // paused at the rung
    kDone,    // finished earlier (early stopping) or at the rung
    kLost,    // diverged, or failed for good
  };
  Kind kind = Kind::kPaused;
  double value = 0;  // the metric at the rung's epoch (kDone: at its last, if earlier); NaN: none
};

struct ConfigAtRung {
  std::string config_id;
  std::vector<ReplicateAtRung> replicates;
};

// The decision of rung `rung` (of `epochs` epochs) over `configs` in plan order, by the rule above;
// higher_is_better: the metric is an accuracy. Pure.
pb::RungDecision decide_rung(int rung, int epochs, const std::vector<ConfigAtRung>& configs,
                             int reduction_factor, bool higher_is_better);

// The bracket of trial t in a halving ledger: "field=value, ..." over halving.bracket_by, in
// that order; "" without.
std::string bracket_of(const pb::SweepLedger& ledger, const pb::TrialRecord& t);

// The trainer's --pause-after-epoch for trial t of a halving ledger: the epochs of its rung, or 0
// at the last rung (it finishes).
int pause_epoch(const pb::SweepLedger& ledger, const pb::TrialRecord& t);

// Whether the decision of trial t's rung (its bracket, its rung) is recorded with t's
// configuration in it: a failed trial of that rung then stays failed, since the decision stands
// and counted it as failed. False without halving.
bool rung_decided(const pb::SweepLedger& ledger, const pb::TrialRecord& t);

// Whether trials ran at rung `rung` of `bracket` and every one of them failed: such a rung is
// left undecided (the failures tell of the set-up, not of the configurations).
bool every_trial_at_rung_failed(const pb::SweepLedger& ledger, const std::string& bracket,
                                int rung);

// Moves a halving ledger on, in memory: applies each recorded decision to the trials of its
// configurations paused at its rung (promoted: planned at the next rung; otherwise pruned), then
// decides, bracket by bracket and in rung order, every rung whose trials have all settled, reading
// their metrics.csv rows in sweep_dir (the first decision fixes an unset metric: val_acc when a
// trial of the rung reports one, else val_loss), records it (the ledger's decisions in rung order,
// each rung's in the brackets' plan order) and applies it. Returns the indices of the trials it
// changed. A ledger without halving is left alone. Throws UsageError for a ledger whose rungs or
// decisions do not fit together, or a metric that no trial of a rung reports.
std::vector<int> advance_halving(const std::string& sweep_dir, pb::SweepLedger* ledger);

}  // namespace mlp
