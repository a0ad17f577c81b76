// CRC32C, by the SSE4.2 instruction where the CPU has it (every rank checks the whole data cache
// at start-up: a byte table manages about 0.1-0.5 GB/s, the instruction over 10), else by table;
// and the TFRecord frame.
#include "core/record_io.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#include <algorithm>
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

#if defined(__x86_64__)
// The instruction folds in the same reflected Castagnoli polynomial as the table, 8 bytes a step.
__attribute__((target("sse4.2"))) uint32_t crc32c_sse42(const unsigned char* p, size_t n,
                                                         uint32_t crc) {
  uint64_t c = crc;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = _mm_crc32_u64(c, word);
  }
  auto c32 = static_cast<uint32_t>(c);
  for (; n > 0; --n) c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}

bool has_sse42() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
#endif

}  // namespace

uint32_t crc32c(const void* data, size_t n, uint32_t crc) {
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
#if defined(__x86_64__)
  if (has_sse42()) return ~crc32c_sse42(p, n, crc);
#endif
  static const std::array<uint32_t, 256> table = make_table();
  for (size_t i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint32_t mask_crc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

std::string record_header(uint64_t length) {
  char header[12];
  put_u64(length, header);
  put_u32(mask_crc(crc32c(header, 8)), header + 8);
  return std::string(header, 12);
}

std::string record_footer(uint32_t payload_crc) {
  char footer[4];
  put_u32(mask_crc(payload_crc), footer);
  return std::string(footer, 4);
}

void append_record(std::string_view payload, std::string* out) {
  out->append(record_header(payload.size()));
  out->append(payload.data(), payload.size());
  out->append(record_footer(crc32c(payload.data(), payload.size())));
}

namespace {

// Checks the 12-byte header of the record at byte `start` (`available` bytes from there on,
// header included) and returns its payload length.
uint64_t checked_length(const char* header, uint64_t available, size_t start, uint64_t max_payload) {
  if (available < 12)
    fail(start, "truncated header (" + std::to_string(available) + " of 12 bytes)");
  if (get_u32(header + 8) != mask_crc(crc32c(header, 8))) fail(start, "length CRC mismatch");
  const uint64_t length = get_u64(header);
  if (length > max_payload)
    fail(start, "length " + std::to_string(length) + " exceeds the limit of " +
                    std::to_string(max_payload) + " bytes");
  if (available - 12 < length + 4)
    fail(start, "truncated (" + std::to_string(available) + " bytes left, the record needs " +
                    std::to_string(length + 16) + ")");
  return length;
}

void check_footer(const char* footer, uint32_t payload_crc, size_t start) {
  if (get_u32(footer) != mask_crc(payload_crc)) fail(start, "payload CRC mismatch");
}

}  // namespace

std::string_view read_record_view(std::string_view bytes, size_t* offset, uint64_t max_payload) {
  const size_t start = *offset;
  const char* header = bytes.data() + start;
  const uint64_t length = checked_length(header, bytes.size() - start, start, max_payload);
  const char* payload = header + 12;
  check_footer(payload + length, crc32c(payload, length), start);
  *offset = start + 12 + length + 4;
  return std::string_view(payload, length);
}

uint64_t check_record_stream(const std::function<size_t(char*, size_t)>& read, uint64_t size,
                             uint64_t max_payload) {
  char header[12];
  const size_t got = read(header, 12);
  const uint64_t length = checked_length(header, got < 12 ? got : size, 0, max_payload);
  std::vector<char> buffer(std::min<uint64_t>(length, uint64_t{1} << 20));
  uint32_t crc = 0;
  for (uint64_t done = 0; done < length;) {
    const size_t got = read(buffer.data(), std::min<uint64_t>(buffer.size(), length - done));
    if (got == 0) fail(0, "truncated (the file shrank while it was read)");
    crc = crc32c(buffer.data(), got, crc);
    done += got;
  }
  char footer[4];
  if (read(footer, 4) < 4) fail(0, "truncated (the file shrank while it was read)");
  check_footer(footer, crc, 0);
  return 12 + length + 4;
}

std::string read_record(std::string_view bytes, size_t* offset, uint64_t max_payload) {
  return std::string(read_record_view(bytes, offset, max_payload));
}

}  // namespace mlp
