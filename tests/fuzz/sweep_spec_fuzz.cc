// Fuzzes the sweep spec as `sweep plan` reads it: parse, then the full expansion into trials.
#include <cstdint>

#include "core/errors.h"
#include "launch/sweep/plan.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = mlp::fuzz::as_file(data, size);
  try {
    mlp::expand_sweep(mlp::read_sweep_spec(path));
  } catch (const mlp::Error& e) {
    mlp::fuzz::check_error_line(e.what());
  }
  return 0;
}
