// Writes a planned sweep as a SLURM batch script, DIR/sweep.sbatch: a job array, one task per
// unfinished trial (DIR/trials.list: one trial id per line, the array index selects the line);
// or, for a successive-halving sweep, one allocation that runs `sweep run` inside it.
#pragma once

#include <cstdint>
#include <string>

namespace mlp {

struct SlurmOptions {
  std::string partition;          // empty: the cluster's default
  std::string time = "04:00:00";  // per trial
  std::string trainer;            // absolute path of the trainer binary on the cluster
  std::string sweep;              // and of the sweep binary (successive halving only)
  // Seconds before the time limit at which SLURM signals the batch shell to checkpoint; 0: a
  // tenth of the limit, at most 600 (SLURM may signal up to a minute earlier than asked).
  int signal_seconds = 0;
  // Ranks in use at once over the array; 0: the ledger's max_ranks (0 there: no throttle).
  int max_ranks = 0;
};

// Seconds of a SLURM time limit: minutes, minutes:seconds, hours:minutes:seconds, days-hours,
// days-hours:minutes or days-hours:minutes:seconds. Throws UsageError naming --time otherwise
// (also for 0 and for "UNLIMITED", which leave no moment to signal before).
int64_t slurm_time_seconds(const std::string& text);

// Lists the trials of DIR's ledger that are not done or diverged and writes the script: array
// 0-(N-1) throttled to max_ranks / ranks_per_trial tasks at once,
// --ntasks = ranks per trial, SIGUSR1 forwarded to mpirun before the time limit (trap + wait)
// and a requeue of that array task alone when the trainer exits 75. Each task holds the trial's
// lock while it runs and records the trial's state in its state file (running, then done,
// diverged, failed or planned again after a stop), so `sweep run` and `sweep report` see it.
// Also creates DIR/slurm/ for the tasks' output.
// Regenerating renumbers the list: do it only when no array job of the sweep is queued.
// Returns the number of array tasks. Throws UsageError when nothing is left to run, a trial
// needs more ranks than max_ranks, --time is not a SLURM time limit, --signal-seconds is not
// below it, or a path or value would need shell quoting.
int write_slurm_script(const std::string& sweep_dir, const SlurmOptions& options);

// For a successive-halving sweep, whose rungs need a decision between them: one job of max_ranks
// ranks (--ntasks) whose batch shell runs `SWEEP run DIR --max-ranks $SLURM_NTASKS --trainer T`
// in the background (the trials start under mpirun inside the allocation); SIGUSR1 before the
// time limit is passed on as SIGTERM, so `sweep run` stops its trials with a checkpoint and exits
// 75, and the job then requeues itself ($SLURM_JOB_ID) and continues the same rungs with the same
// decisions. Also creates DIR/slurm/ for the job's output (%j.out). Returns the ranks of the
// allocation. Throws UsageError when the ledger has no halving, nothing is left to run, no rank
// limit is given (options or spec), a trial needs more, --time or --signal-seconds is wrong, or
// a path would need shell quoting.
int write_halving_slurm_script(const std::string& sweep_dir, const SlurmOptions& options);

}  // namespace mlp
