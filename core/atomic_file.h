// Replacing a file so that a reader sees the old bytes or the new ones, never a mix, and the new
// ones survive a crash: checkpoints, the sweep's ledger, plans and reports all write this way.
#pragma once

#include <string>

namespace mlp {

// Writes bytes to `path.tmp` in the same folder, fsyncs it, renames it over path and fsyncs the
// folder. Throws Error(kCheckpoint) naming the path and the failing call (errno text); the
// temporary file is removed when the write, fsync or rename fails.
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace mlp
