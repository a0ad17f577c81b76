// TFRecord framing: uint64 length (little-endian), masked CRC32C of the length bytes, payload,
// masked CRC32C of the payload. Used for checkpoints and TensorBoard event files alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
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

// The 12 bytes before a payload of `length` bytes, and the 4 after a payload whose crc32c is
// `payload_crc`: for writers that stream the payload.
std::string record_header(uint64_t length);
std::string record_footer(uint32_t payload_crc);

// Reads the record starting at `*offset` of `bytes` and advances `*offset` past it. Refuses
// payloads over max_payload before allocating. Throws std::runtime_error with the byte offset
// and the reason ("truncated", "length CRC mismatch", "payload CRC mismatch", "too large").
std::string read_record(std::string_view bytes, size_t* offset, uint64_t max_payload);
// The same checks; returns the payload as a view into `bytes` instead of a copy.
std::string_view read_record_view(std::string_view bytes, size_t* offset, uint64_t max_payload);

// The same checks on the record at the start of a source of `size` bytes read piece by piece
// (`read(buffer, n)` fills up to n bytes, returns how many, 0 at the end), so a large record is
// checked without holding it. Returns the bytes the record takes.
uint64_t check_record_stream(const std::function<size_t(char*, size_t)>& read, uint64_t size,
                             uint64_t max_payload);

}  // namespace mlp
