// Fuzzes checkpoint reading as `trainer inspect` does it: size, frame, CRC, parse, then the
// report, which reads every field.
#include <cstdint>
#include <sstream>

#include "core/errors.h"
#include "launch/tools/inspect.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string file = mlp::fuzz::file_of_records(data, size, false);
  const std::string path =
      mlp::fuzz::as_file(reinterpret_cast<const uint8_t*>(file.data()), file.size());
  try {
    std::ostringstream report;
    mlp::inspect_checkpoint(path, report);
  } catch (const mlp::Error& e) {
    mlp::fuzz::check_error_line(e.what());
  }
  return 0;
}
