// Expands a SweepSpec into trials: grid axes form a cartesian product, random axes are drawn
// `samples` times from counter-based hashes, each configuration is repeated over its seeds.
// Each trial gets a stable id from its resolved config and its own run folder.
#pragma once

#include <string>
#include <vector>

#include "proto/config.pb.h"
#include "proto/sweep.pb.h"

namespace mlp {

// Trials one sweep may plan; more is almost surely a mistake in the spec (and the ledger of a
// larger one would be rewritten at every state change).
constexpr int kMaxTrials = 10000;

struct PlannedTrial {
  pb::TrialRecord record;  // id, config_id, replicate, seed, axis values; state PLANNED
  pb::TrainConfig config;  // resolved (fill_defaults), validated; out_dir not yet set
};

// Reads a text-format SweepSpec. Throws UsageError "path:line:column: what" on a parse error.
pb::SweepSpec read_sweep_spec(const std::string& path);

// Expands spec deterministically (no clock, no global state): configurations in order grid
// point (last axis fastest) x random sample, then replicates. Throws UsageError naming the axis
// for an unknown field path, a value the field cannot take, bad distribution bounds, an axis on
// a field the sweep sets itself (seed, out_dir, resume, checkpoint_dir), or a resolved config
// that validate_config rejects. Trials whose resolved configs coincide (a choice drawn twice)
// are kept once; `duplicates` (optional) receives how many were dropped.
std::vector<PlannedTrial> expand_sweep(const pb::SweepSpec& spec, int* duplicates = nullptr);

// The 12 hex digit id of a resolved config: its message_hash with out_dir cleared (seed included).
std::string trial_id(const pb::TrainConfig& config);

// The axis field paths of spec, in order.
std::vector<std::string> axis_fields(const pb::SweepSpec& spec);

// Writes the sweep folder: DIR/planned_spec.txt (the spec as planned, in text format),
// DIR/trials/<id>/config.txt (the resolved config with out_dir that folder relative to DIR:
// runners pass the folder with --out, so DIR can be moved or copied), DIR/plan.txt (one line per
// trial) and DIR/ledger.txt. Re-planning into a folder keeps the ledger state of trials whose id
// is still planned, so a sweep can be extended by editing its spec. Returns the ledger written.
pb::SweepLedger write_sweep_plan(const pb::SweepSpec& spec, const std::string& dir,
                                 int* duplicates = nullptr);

}  // namespace mlp
