// Fuzzes the sweep spec as `sweep plan` reads it: parse, then the full expansion into trials,
// with the checks of successive halving, and the rungs of a halving block that passed them.
#include <cstdint>

#include "core/errors.h"
#include "launch/sweep/halving.h"
#include "launch/sweep/plan.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = mlp::fuzz::as_file(data, size);
  try {
    const mlp::pb::SweepSpec spec = mlp::read_sweep_spec(path);
    const std::vector<mlp::PlannedTrial> trials = mlp::expand_sweep(spec);
    if (spec.has_successive_halving())
      mlp::rung_epochs(trials.front().config.epochs(), spec.successive_halving().min_epochs(),
                       spec.successive_halving().reduction_factor());
  } catch (const mlp::Error& e) {
    mlp::fuzz::check_error_line(e.what());
  }
  return 0;
}
