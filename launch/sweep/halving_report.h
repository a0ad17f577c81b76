// What `sweep report` adds for a successive-halving sweep: each rung's decision as rungs.csv and
// as lines of the report, the epochs trained against the full grid's, and the configurations that
// reached the full budget, among which the best one is chosen.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "proto/sweep.pb.h"

namespace mlp {

// Significant digits of the reals in the sweep report's tables, rungs.csv among them.
constexpr int kReportDigits = 8;

// "1, 3, 9 and 27 epochs".
std::string rungs_text(const pb::SweepLedger& ledger);

// " of BRACKET" (one line), or nothing with one bracket.
std::string of_bracket(const std::string& bracket);

// "rung 1 (1 epoch) of BRACKET decided: 5 of 16 configurations promoted to 3 epochs", as `sweep
// run` says it.
std::string decision_text(const pb::SweepLedger& ledger, const pb::RungDecision& d);

// How the report names a configuration: "optimizer.lr=0.1, model.hidden=8", and its axis values
// as CSV cells, each after a comma.
struct ConfigLabel {
  std::string text, csv_cells;
};

// The config ids of the configurations promoted into the last rung (every configuration when
// there is one rung): those successive halving ran to the full budget.
std::set<std::string> finalists(const pb::SweepLedger& ledger);

// Writes DIR/rungs.csv, one row per configuration of each decided rung in the ranking's order:
// the bracket (only with bracket_by), rung (from 1, as in trials.csv), rung_epochs, rank (from
// 1), config_id, the axis values (axes_header: their column names, each after a comma), value
// (the mean metric; empty without one) and outcome (promoted, stopped, ended). Prints to `out`
// the schedule and its metric, each rung's decision (the configurations promoted, with their
// values), the next rung of each bracket not yet decided, and the epochs trained (epochs_trained:
// the metrics.csv rows of every trial) against the full grid's (every trial for the last rung's
// epochs), as a number and a percentage.
void report_halving(const std::string& dir, const pb::SweepLedger& ledger,
                    const std::map<std::string, ConfigLabel>& labels,
                    const std::string& axes_header, int64_t epochs_trained, std::FILE* out);

}  // namespace mlp
