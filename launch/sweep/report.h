// Tables of a sweep's results, read from each trial's summary.json and metrics.csv: one row per
// trial (trials.csv), one per trial and epoch (epochs.csv), one per configuration over its
// seeds (summary.csv); the best configuration by validation metric; plots when matplotlib is
// there. The epoch metrics are columns by reflection over pb::EpochMetrics, named as its fields.
#pragma once

#include <cstdio>
#include <map>
#include <string>

namespace mlp {

struct ReportOptions {
  std::string plot_script;  // experiments/plot_sweep.py; empty: no plots
};

// The numbers of a summary.json (a pb::Summary; null: NaN, restored_best: 0 or 1) by key, the
// kept epoch's metrics as "kept_epoch.<field>" (from a summary of a trainer before kept_epoch:
// its top-level train_* and val_*); the config, other nested messages and keys this build does
// not know are skipped. Missing file: empty. Throws UsageError "path: not a run summary: ..."
// when it is not a summary's JSON.
std::map<std::string, double> read_summary_numbers(const std::string& path);

// Writes DIR/trials.csv (the summary's numbers and the kept epoch's metrics), DIR/epochs.csv
// (every trial's metrics.csv rows) and DIR/summary.csv (mean, standard deviation and count over
// a configuration's seeds of the kept epoch's metrics, test metrics and best epoch), prints the
// best configuration to `out` (by mean val_acc over its seeds, or lowest mean val_loss when no
// accuracy applies; never by a test metric; configurations with every seed done are preferred
// over those with some seeds failed or diverged), then runs `python3 plot_script DIR` when
// python3 with matplotlib is there, or says why not. A trial the ledger does not show as finished
// but whose summary.json exists (finished under SLURM) counts as done. A successive-halving sweep
// also gets trials.csv's rung columns and halving_report.h's lines and rungs.csv; its best
// configuration is chosen by halving's metric among those halving ran to the full budget, one
// per bracket. Throws UsageError when the ledger is missing.
void write_sweep_report(const std::string& sweep_dir, const ReportOptions& options, std::FILE* out);

}  // namespace mlp
