// Packed floats: exact round trip (NaN bits included) and the refusal of a wrong byte count.
#include "core/packed_floats.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/errors.h"

namespace mlp {
namespace {

TEST(PackedFloats, RoundTripBitForBit) {
  const std::vector<float> values = {1.5f, -0.0f, std::numeric_limits<float>::denorm_min(),
                                     std::numeric_limits<float>::quiet_NaN()};
  const std::string bytes = pack_floats(values.data(), values.size());
  EXPECT_EQ(bytes.size(), 16u);
  EXPECT_EQ(bytes.substr(0, 4), std::string("\x00\x00\xc0\x3f", 4));  // little-endian 1.5
  std::vector<float> back(values.size());
  unpack_floats(bytes, back.data(), back.size(), "values");
  EXPECT_EQ(std::memcmp(back.data(), values.data(), bytes.size()), 0);
}

TEST(PackedFloats, AWrongByteCountNamesWhatAndBothCounts) {
  const float two[2] = {1, 2};
  float out[3];
  try {
    unpack_floats(pack_floats(two, 2), out, 3, "optimizer state m");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kCheckpoint);
    EXPECT_EQ(std::string(e.what()), "optimizer state m holds 2 floats, expected 3");
  }
}

// memcpy with a null pointer is undefined even for zero bytes (UndefinedBehaviorSanitizer
// flags it); an empty vector's data() may be null, as for a checkpoint with no parameters.
TEST(PackedFloats, EmptyVectorNeedsNoBuffer) {
  std::vector<float> none;
  unpack_floats(pack_floats(none.data(), 0), none.data(), 0, "nothing");
  unpack_floats(std::string(), nullptr, 0, "nothing");
}

}  // namespace
}  // namespace mlp
