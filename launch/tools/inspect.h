// `trainer inspect FILE [--weights DIR]`: verifies a checkpoint (frame, CRCs, parse, format
// version) or a model file (every field) and prints what it holds: for a checkpoint its version,
// position, world size, provenance, config and a parameter summary; for a model file its layers,
// standardization, names, the run's metrics (pb::RunMetrics) and provenance. --weights writes
// each parameter block as a CSV matrix.
#pragma once

#include <iosfwd>
#include <string>

namespace mlp {

// Writes the report to out. Throws Error(kCheckpoint) when the file does not verify.
void inspect_checkpoint(const std::string& path, std::ostream& out);

// Writes the report of a model file (see model_file.h) to out.
void inspect_model(const std::string& path, std::ostream& out);

// Writes DIR/<block>.csv (rows x cols, e.g. dense0.weight.csv: one row per unit, one column per
// input) for every parameter block of a model file or checkpoint, creating DIR.
void write_weight_csvs(const std::string& path, const std::string& dir);

}  // namespace mlp
