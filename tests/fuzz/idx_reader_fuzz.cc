// Fuzzes the IDX reader: raw and gzip input through read_maybe_gzip, then parse_idx.
#include <cstdint>

#include "core/errors.h"
#include "core/idx_reader.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = mlp::fuzz::as_file(data, size);
  try {
    // A small cap keeps gzip bombs cheap; the cap's own check is part of what is fuzzed.
    const std::vector<uint8_t> bytes = mlp::read_maybe_gzip(path, 1 << 24);
    mlp::parse_idx(bytes, path);
  } catch (const mlp::Error& e) {
    mlp::fuzz::check_error_line(e.what());
  }
  return 0;
}
