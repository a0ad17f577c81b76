// Fuzzes the text-format config as `trainer --config FILE` reads it: parse, defaults, checks.
#include <cstdint>

#include "core/errors.h"
#include "launch/train/trainer_options.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = mlp::fuzz::as_file(data, size);
  const char* argv[] = {"trainer", "--config", path.c_str()};
  try {
    mlp::parse_trainer_args(3, argv);
  } catch (const mlp::Error& e) {
    mlp::fuzz::check_error_line(e.what());
  }
  return 0;
}
