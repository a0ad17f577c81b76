// `trainer inspect FILE`: verifies a checkpoint (frame, CRCs, parse, format version) and prints
// what it holds: version, position, world size, provenance, config and a parameter summary.
#pragma once

#include <iosfwd>
#include <string>

namespace mlp {

// Writes the report to out. Throws Error(kCheckpoint) when the file does not verify.
void inspect_checkpoint(const std::string& path, std::ostream& out);

}  // namespace mlp
