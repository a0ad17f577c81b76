// Float vectors as bytes inside protobuf messages: packed little-endian float32, so a
// checkpoint's parameters and optimizer state are copied in and out without per-value work.
#pragma once

#include <cstddef>
#include <string>

namespace mlp {

// The n floats at data as 4 * n bytes.
std::string pack_floats(const float* data, size_t n);
// Unpacks into out (n floats); throws Error(kCheckpoint) "<what> holds K floats, expected n"
// when the byte count is not 4 * n.
void unpack_floats(const std::string& bytes, float* out, size_t n, const std::string& what);

}  // namespace mlp
