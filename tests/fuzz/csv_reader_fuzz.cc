// Fuzzes the CSV reader; the first byte picks the options (header, target columns, task).
#include <cstdint>

#include "core/csv_reader.h"
#include "core/errors.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  mlp::CsvOptions options;
  options.header = data[0] & 1;
  options.targets = 1 + (data[0] >> 1 & 3);
  options.classify = options.targets == 1 && !(data[0] & 8);
  const std::string path = mlp::fuzz::as_file(data + 1, size - 1);
  try {
    mlp::read_csv(path, options);
  } catch (const mlp::Error& e) {
    mlp::fuzz::check_error_line(e.what());
  }
  return 0;
}
