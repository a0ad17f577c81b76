// Fuzzes the TFRecord framing reader over a stream of records.
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "core/record_io.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  size_t offset = 0;
  try {
    while (offset < bytes.size()) {
      const size_t before = offset;
      mlp::read_record(bytes, &offset, 1 << 20);
      if (offset <= before || offset > bytes.size()) std::abort();
    }
  } catch (const std::runtime_error& e) {
    mlp::fuzz::check_error_line(e.what());
  }
  return 0;
}
