// The sweep folder's ledger (DIR/ledger.txt): every planned trial and its state, attempts and
// exit codes, as a text-format SweepLedger replaced atomically on each change so a launcher
// killed at any moment leaves the last consistent state behind.
#pragma once

#include <string>

#include "proto/sweep.pb.h"

namespace mlp {

std::string ledger_path(const std::string& sweep_dir);

// DIR/trials/<id>: the run folder of one trial.
std::string trial_dir(const std::string& sweep_dir, const std::string& id);

// DIR/trials/<id>/state.txt: the trial's own record of where it stands, written atomically by
// whoever runs it (`sweep run`, or a SLURM array task's shell, which cannot rewrite the shared
// ledger safely). A text-format TrialRecord holding state, attempts, failures, exit_codes,
// wall_seconds and rung; these take precedence over the ledger's copy.
std::string trial_state_path(const std::string& sweep_dir, const std::string& id);

// Reads DIR/ledger.txt and lays each trial's state file over its entry. Throws UsageError when
// the ledger is missing ("run `sweep plan` first") or a file does not parse (path:line:column).
pb::SweepLedger read_ledger(const std::string& sweep_dir);

// Lays the trial's state file, when there is one, over *record. Returns whether there was one.
bool read_trial_state(const std::string& sweep_dir, pb::TrialRecord* record);

// Replaces the trial's state file atomically with the run fields of `record`.
void write_trial_state(const std::string& sweep_dir, const pb::TrialRecord& record);

// Replaces DIR/ledger.txt atomically and durably (write_file_atomically).
void write_ledger(const std::string& sweep_dir, const pb::SweepLedger& ledger);

// Trial t's axis values as one line, "optimizer.lr=0.1, model.hidden=8"; "the base config"
// without axes.
std::string axis_description(const pb::SweepLedger& ledger, const pb::TrialRecord& t);

// "planned", "running", "done", "failed", "diverged", "paused", "pruned".
std::string state_name(pb::TrialState state);

// An exclusive advisory lock on DIR/.sweep.lock, held while this object lives, so two launchers
// (or a plan and a run) never change one sweep folder at once. The lock is released by the
// kernel when the holder dies, even by SIGKILL, and is not inherited by child processes.
class SweepLock {
 public:
  // Throws UsageError "DIR is in use by another sweep process" when the lock is held.
  explicit SweepLock(const std::string& sweep_dir);
  ~SweepLock();
  SweepLock(const SweepLock&) = delete;
  SweepLock& operator=(const SweepLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace mlp
