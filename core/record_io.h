// TFRecord framing: uint64 length (little-endian), masked CRC32C of the length bytes, payload,
// masked CRC32C of the payload. Used for checkpoints and TensorBoard event files alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mlp {

// CRC-32C (Castagnoli), continuing from `crc` (0 to start).
uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);

// TFRecord's mask: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
uint32_t mask_crc(uint32_t crc);

// Appends one framed record holding `payload` to `out`.
void append_record(std::string_view payload, std::string* out);

// Reads the record starting at `*offset` of `bytes` and advances `*offset` past it. Refuses
// payloads over max_payload before allocating. Throws std::runtime_error with the byte offset
// and the reason ("truncated", "length CRC mismatch", "payload CRC mismatch", "too large").
std::string read_record(std::string_view bytes, size_t* offset, uint64_t max_payload);

}  // namespace mlp
