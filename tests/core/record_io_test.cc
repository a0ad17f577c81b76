// TFRecord framing: the CRC32C reference value, round trips, and every corruption refused with
// the byte offset and reason.
#include "core/record_io.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace mlp {
namespace {

std::string error_of(const std::string& bytes, uint64_t max_payload = 1 << 20) {
  size_t offset = 0;
  try {
    read_record(bytes, &offset, max_payload);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(RecordIo, Crc32cMatchesTheCastagnoliCheckValue) {
  EXPECT_EQ(crc32c("123456789", 9), 0xe3069283u);
  EXPECT_EQ(crc32c("", 0), 0u);
  // Continuing a CRC equals computing it in one go.
  EXPECT_EQ(crc32c("6789", 4, crc32c("12345", 5)), 0xe3069283u);
}

TEST(RecordIo, RecordsRoundTripInSequence) {
  std::string bytes;
  append_record("first", &bytes);
  append_record("", &bytes);
  append_record(std::string(1000, 'x'), &bytes);
  size_t offset = 0;
  EXPECT_EQ(read_record(bytes, &offset, 4096), "first");
  EXPECT_EQ(read_record(bytes, &offset, 4096), "");
  EXPECT_EQ(read_record(bytes, &offset, 4096), std::string(1000, 'x'));
  EXPECT_EQ(offset, bytes.size());
}

TEST(RecordIo, EveryBitFlipAndTruncationIsRefused) {
  std::string good;
  append_record("payload of a record", &good);
  for (size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; bit += 3) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      EXPECT_NE(error_of(bad), "no error") << "byte " << i << " bit " << bit;
    }
  }
  for (size_t n = 0; n < good.size(); ++n) EXPECT_NE(error_of(good.substr(0, n)), "no error") << n;
}

TEST(RecordIo, ErrorsNameTheReason) {
  std::string good;
  append_record("abc", &good);
  EXPECT_EQ(error_of(good.substr(0, 5)), "record at byte 0: truncated header (5 of 12 bytes)");
  std::string flipped_length = good;
  flipped_length[0] ^= 1;
  EXPECT_EQ(error_of(flipped_length), "record at byte 0: length CRC mismatch");
  std::string flipped_payload = good;
  flipped_payload[13] ^= 1;
  EXPECT_EQ(error_of(flipped_payload), "record at byte 0: payload CRC mismatch");
  EXPECT_EQ(error_of(good, 2), "record at byte 0: length 3 exceeds the limit of 2 bytes");
  EXPECT_EQ(error_of(good.substr(0, 17)),
            "record at byte 0: truncated (17 bytes left, the record needs 19)");
}

}  // namespace
}  // namespace mlp
