// Fuzzes the TensorBoard event file reader: framing, Event parsing, the version event.
#include <cstdint>
#include <stdexcept>

#include "core/tensorboard_writer.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string file = mlp::fuzz::file_of_records(data, size, true);
  const std::string path =
      mlp::fuzz::as_file(reinterpret_cast<const uint8_t*>(file.data()), file.size());
  try {
    mlp::read_tensorboard_scalars(path);
  } catch (const std::runtime_error& e) {
    mlp::fuzz::check_error_line(e.what());
  }
  return 0;
}
