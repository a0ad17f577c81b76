// CRC32C by table (slicing by one byte: checkpoints are read once, speed is not the point) and
// the TFRecord frame.
#include "core/record_io.h"

#include <array>
#include <cstring>
#include <stdexcept>

namespace mlp {
namespace {

std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    table[i] = c;
  }
  return table;
}

void put_u64(uint64_t v, char* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_u32(uint32_t v, char* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint64_t get_u64(const char* in) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}
uint32_t get_u32(const char* in) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

[[noreturn]] void fail(size_t offset, const std::string& why) {
  throw std::runtime_error("record at byte " + std::to_string(offset) + ": " + why);
}

}  // namespace

uint32_t crc32c(const void* data, size_t n, uint32_t crc) {
  static const std::array<uint32_t, 256> table = make_table();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint32_t mask_crc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

void append_record(std::string_view payload, std::string* out) {
  char header[12];
  put_u64(payload.size(), header);
  put_u32(mask_crc(crc32c(header, 8)), header + 8);
  char footer[4];
  put_u32(mask_crc(crc32c(payload.data(), payload.size())), footer);
  out->append(header, 12);
  out->append(payload.data(), payload.size());
  out->append(footer, 4);
}

std::string read_record(std::string_view bytes, size_t* offset, uint64_t max_payload) {
  const size_t start = *offset;
  if (bytes.size() - start < 12)
    fail(start, "truncated header (" + std::to_string(bytes.size() - start) + " of 12 bytes)");
  const char* header = bytes.data() + start;
  if (get_u32(header + 8) != mask_crc(crc32c(header, 8))) fail(start, "length CRC mismatch");
  const uint64_t length = get_u64(header);
  if (length > max_payload)
    fail(start, "length " + std::to_string(length) + " exceeds the limit of " +
                    std::to_string(max_payload) + " bytes");
  if (bytes.size() - start - 12 < length + 4)
    fail(start, "truncated (" + std::to_string(bytes.size() - start) +
                    " bytes left, the record needs " + std::to_string(length + 16) + ")");
  const char* payload = header + 12;
  if (get_u32(payload + length) != mask_crc(crc32c(payload, length)))
    fail(start, "payload CRC mismatch");
  *offset = start + 12 + length + 4;
  return std::string(payload, length);
}

}  // namespace mlp
