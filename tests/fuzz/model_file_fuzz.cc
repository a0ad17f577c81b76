// Fuzzes the model file reader as `trainer evaluate` and `trainer predict` use it: frame, CRC,
// parse, every field checked (or a checkpoint's model taken), then the network built from it.
#include <cstdint>

#include "core/errors.h"
#include "core/model_file.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string file = mlp::fuzz::file_of_records(data, size, false);
  const std::string path =
      mlp::fuzz::as_file(reinterpret_cast<const uint8_t*>(file.data()), file.size());
  try {
    mlp::load_trained_model(path).build();
  } catch (const mlp::Error& e) {
    mlp::fuzz::check_error_line(e.what());
  }
  return 0;
}
