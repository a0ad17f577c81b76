// Replacing a file so that a reader sees the old bytes or the new ones, never a mix, and the new
// ones survive a crash: checkpoints, model files, the sweep's ledger, plans, reports and
// predictions all write this way.
#pragma once

#include <string>
#include <string_view>

#include "core/errors.h"

namespace mlp {

// A file written piece by piece (outputs too large to hold in memory) that appears at its path
// only when complete and durable: the pieces go to `path` + temp_suffix (".tmp") in the same
// folder; commit() fsyncs it, renames it over path and fsyncs the folder. Writers that may race
// for one path give suffixes of their own. Destroyed without commit(), or after a failure, the
// temporary file is removed. A symlink is followed (the link stays, its target is replaced); a
// pipe, terminal or device (`/dev/stdout`, `/dev/null`) is written in place. Failures throw
// Error(on_error) naming the path and the failing call (errno text).
class AtomicFileStream {
 public:
  explicit AtomicFileStream(const std::string& path, ExitCode on_error = ExitCode::kCheckpoint,
                            const std::string& temp_suffix = ".tmp");
  ~AtomicFileStream();
  AtomicFileStream(const AtomicFileStream&) = delete;
  AtomicFileStream& operator=(const AtomicFileStream&) = delete;

  void write(std::string_view bytes);
  void commit();

 private:
  [[noreturn]] void fail(const std::string& what);

  std::string path_, tmp_;
  ExitCode on_error_;
  int fd_ = -1;
};

// The whole of bytes through an AtomicFileStream; failures throw Error(kCheckpoint).
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace mlp
