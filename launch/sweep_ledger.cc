// Ledger file and sweep-folder lock; see sweep_ledger.h.
#include "launch/sweep_ledger.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "launch/config_fields.h"

namespace mlp {

std::string ledger_path(const std::string& sweep_dir) { return sweep_dir + "/ledger.txt"; }

std::string trial_dir(const std::string& sweep_dir, const std::string& id) {
  return sweep_dir + "/trials/" + id;
}

pb::SweepLedger read_ledger(const std::string& sweep_dir) {
  const std::string path = ledger_path(sweep_dir);
  if (!std::filesystem::exists(path))
    throw UsageError(path + ": no ledger; run `sweep plan SPEC --out " + sweep_dir + "` first");
  pb::SweepLedger ledger;
  read_text_file(path, &ledger);
  return ledger;
}

void write_ledger(const std::string& sweep_dir, const pb::SweepLedger& ledger) {
  write_file_atomically(ledger_path(sweep_dir), to_text(ledger));
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
