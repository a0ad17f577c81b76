// Writes a planned sweep as a SLURM job array: DIR/trials.list (one trial id per line, the
// array index selects the line) and DIR/sweep.sbatch, one array task per unfinished trial.
#pragma once

#include <string>

namespace mlp {

struct SlurmOptions {
  std::string partition;          // empty: the cluster's default
  std::string time = "04:00:00";  // per trial
  std::string trainer;            // absolute path of the trainer binary on the cluster
  // Seconds before the time limit at which SLURM signals the batch shell to checkpoint.
  int signal_seconds = 600;
  // Ranks in use at once over the array; 0: the ledger's max_ranks (0 there: no throttle).
  int max_ranks = 0;
};

// Lists the trials of DIR's ledger that are not done or diverged and writes the script: array
// 0-(N-1) throttled to max_ranks / ranks_per_trial tasks at once,
// --ntasks = ranks per trial, SIGUSR1 forwarded to mpirun before the time limit (trap + wait)
// and a requeue when the trainer exits 75. Also creates DIR/slurm/ for the tasks' output.
// Regenerating renumbers the list: do it only when no array job of the sweep is queued.
// Returns the number of array tasks. Throws UsageError when nothing is left to run, a trial
// needs more ranks than max_ranks, or a path or value would need shell quoting.
int write_slurm_script(const std::string& sweep_dir, const SlurmOptions& options);

}  // namespace mlp
