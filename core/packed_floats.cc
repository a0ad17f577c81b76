// Packed float32 bytes; see packed_floats.h.
#include "core/packed_floats.h"

#include <cstring>

#include "core/errors.h"

namespace mlp {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "packed floats assume a little-endian host");

std::string pack_floats(const float* data, size_t n) {
  return std::string(reinterpret_cast<const char*>(data), n * sizeof(float));
}

void unpack_floats(const std::string& bytes, float* out, size_t n, const std::string& what) {
  if (bytes.size() != n * sizeof(float))
    throw Error(ExitCode::kCheckpoint, what + " holds " +
                                           std::to_string(bytes.size() / sizeof(float)) +
                                           " floats, expected " + std::to_string(n));
  // memcpy from an empty string's data() to a null out is undefined even for zero bytes.
  if (!bytes.empty()) std::memcpy(out, bytes.data(), bytes.size());
}

}  // namespace mlp
