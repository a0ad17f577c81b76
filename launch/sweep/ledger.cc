// Ledger file and sweep-folder lock; see sweep_ledger.h.
#include "launch/sweep/ledger.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/config_fields.h"
#include "core/errors.h"

namespace mlp {

std::string ledger_path(const std::string& sweep_dir) { return sweep_dir + "/ledger.txt"; }

std::string trial_dir(const std::string& sweep_dir, const std::string& id) {
  return sweep_dir + "/trials/" + id;
}

std::string trial_state_path(const std::string& sweep_dir, const std::string& id) {
  return trial_dir(sweep_dir, id) + "/state.txt";
}

namespace {

// The fields a trial's runner records; the rest of a TrialRecord belongs to the plan.
pb::TrialRecord run_fields(const pb::TrialRecord& record) {
  pb::TrialRecord fields;
  fields.set_state(record.state());
  fields.set_attempts(record.attempts());
  fields.set_failures(record.failures());
  *fields.mutable_exit_codes() = record.exit_codes();
  if (record.has_wall_seconds()) fields.set_wall_seconds(record.wall_seconds());
  if (record.has_rung()) fields.set_rung(record.rung());
  return fields;
}

// Trial ids name folders: what `sweep plan` writes (12 hexadecimal digits), nothing that could
// lead a path elsewhere or break a line.
bool is_trial_id(const std::string& id) {
  return id.size() == 12 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

pb::SweepLedger read_ledger(const std::string& sweep_dir) {
  const std::string path = ledger_path(sweep_dir);
  if (!std::filesystem::exists(path))
    throw UsageError(path + ": no ledger; run `sweep plan SPEC --out " + sweep_dir + "` first");
  pb::SweepLedger ledger;
  read_text_file(path, &ledger);
  for (const pb::TrialRecord& t : ledger.trial())
    if (!is_trial_id(t.id()) || (t.has_config_id() && !is_trial_id(t.config_id())))
      throw UsageError(path + ": trial " + quote_input(t.id()) + " (configuration " +
                       quote_input(t.config_id()) + ") is not named as `sweep plan` names trials");
  for (pb::TrialRecord& t : *ledger.mutable_trial()) read_trial_state(sweep_dir, &t);
  return ledger;
}

bool read_trial_state(const std::string& sweep_dir, pb::TrialRecord* record) {
  const std::string path = trial_state_path(sweep_dir, record->id());
  if (!std::filesystem::exists(path)) return false;
  pb::TrialRecord own;
  read_text_file(path, &own);
  record->clear_exit_codes();
  record->clear_wall_seconds();
  record->MergeFrom(run_fields(own));
  return true;
}

void write_trial_state(const std::string& sweep_dir, const pb::TrialRecord& record) {
  write_file_atomically(trial_state_path(sweep_dir, record.id()), to_text(run_fields(record)));
}

void write_ledger(const std::string& sweep_dir, const pb::SweepLedger& ledger) {
  write_file_atomically(ledger_path(sweep_dir), to_text(ledger));
}

std::string axis_description(const pb::SweepLedger& ledger, const pb::TrialRecord& t) {
  std::string text;
  for (int i = 0; i < ledger.axis_field_size() && i < t.axis_value_size(); ++i)
    text += (i ? ", " : "") + ledger.axis_field(i) + "=" + t.axis_value(i);
  return text.empty() ? "the base config" : one_line(text);
}

std::string state_name(pb::TrialState state) {
  switch (state) {
    case pb::PLANNED:
      return "planned";
    case pb::RUNNING:
      return "running";
    case pb::DONE:
      return "done";
    case pb::FAILED:
      return "failed";
    case pb::DIVERGED:
      return "diverged";
    case pb::PAUSED:
      return "paused";
    case pb::PRUNED:
      return "pruned";
  }
  return "unknown";
}

SweepLock::SweepLock(const std::string& sweep_dir) {
  const std::string path = sweep_dir + "/.sweep.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw UsageError(path + ": cannot open: " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    if (error == EWOULDBLOCK) throw UsageError(sweep_dir + " is in use by another sweep process");
    throw UsageError(path + ": cannot lock: " + std::strerror(error));
  }
}

SweepLock::~SweepLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace mlp
