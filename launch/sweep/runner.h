// Runs a planned sweep on this machine: each trial as `mpirun -np K --bind-to none trainer
// --config DIR/trials/<id>/config.txt --out DIR/trials/<id> --resume auto`, as many at once as
// the rank limit allows, with the trial's state file and the ledger rewritten atomically on every
// state change so a re-run continues where a killed launcher stopped.
#pragma once

#include <string>

namespace mlp {

constexpr double kTrialKillGraceSeconds = 10;

struct SweepRunOptions {
  // A trial that fails is attempted at most this many times in all (attempts stopped by a
  // signal do not count).
  int retries = 2;
  // Ranks in use at once over all trials; 0: the ledger's max_ranks, else the number of cores.
  int max_ranks = 0;
  // Seconds an attempt may run before it is ended (SIGTERM, then SIGKILL to its process group
  // kTrialKillGraceSeconds later) and counted as failed; 0: no limit.
  double trial_timeout = 0;
  std::string trainer;            // path of the trainer binary
  std::string mpirun = "mpirun";  // path or name (searched in PATH) of mpirun
};

// Runs every trial of DIR that is not finished, holding the sweep folder's lock. Trials left
// `running` by a killed launcher are re-run (the trainer resumes from their checkpoints), or
// marked done when their summary.json shows they finished after the launcher died; failed
// trials with attempts left are retried; done and diverged trials are skipped.
//
// A successive-halving sweep (the ledger's halving) runs rung by rung: every attempt gets
// --pause-after-epoch with its rung's epochs (0 at the last rung), an exit code 0 without a
// summary.json makes the trial paused, and whenever every trial of a rung has settled the rung
// is decided (halving.h), recorded in the ledger, and the promoted trials are planned again.
//
// Exit code of a trial: 0 done (or paused); 4 diverged; 75 (stopped by a signal) interrupted, run
// again; anything else a failure, retried until `retries` failing attempts. An attempt ended for
// running past `trial_timeout` is a failure whatever its exit code (a host lost for good leaves
// mpirun waiting forever; the retry resumes from the trial's last checkpoint). Each trial's stdout
// and stderr go to DIR/trials/<id>/trainer.log. Progress (counts and an ETA from the mean wall time
// of finished trials) goes to stderr.
//
// SIGINT or SIGTERM sends SIGUSR1 to every running mpirun (the trainers checkpoint and exit 75),
// waits for them and returns; a second signal ends them with SIGTERM. Trials get SIGUSR1 too if
// the launcher dies without that chance (parent-death signal), so none outlives it for long.
//
// Environment variables pass to mpirun unchanged: as root, Open MPI needs
// OMPI_ALLOW_RUN_AS_ROOT=1 and OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 in the environment.
//
// Returns 0 when every trial is done, diverged or pruned, 1 when some failed, 75 when stopped by
// a signal. Throws UsageError for a missing or unreadable ledger, a folder in use by another
// sweep process, or more ranks per trial than the rank limit.
int run_sweep(const std::string& sweep_dir, const SweepRunOptions& options);

}  // namespace mlp
