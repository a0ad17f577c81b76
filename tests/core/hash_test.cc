// Hashes: published test vectors of FNV-1a and SplitMix64, and a pinned value of the word
// hasher, whose results checkpoints store (the data fingerprint), so a change shows here first.
#include "core/hash.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace mlp {
namespace {

TEST(Hash, Fnv1aMatchesThePublishedVectors) {
  EXPECT_EQ(fnv1a("", 0), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a("a", 1), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a("foobar", 6), 0x85944171f73967e8ULL);
}

TEST(Hash, SplitMixFinalizerGivesTheGeneratorsFirstOutputs) {
  // SplitMix64 seeded with 0 returns mix(k * golden ratio) for k = 1, 2.
  EXPECT_EQ(splitmix64_mix(0x9e3779b97f4a7c15ULL), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(splitmix64_mix(0x3c6ef372fe94f82aULL), 0x6e789e6aa1b965f4ULL);
}

TEST(Hash, WordHasherValueIsPinnedAndSeesTheLength) {
  const float values[3] = {1.0f, -2.5f, 0.0f};
  WordHasher h;
  h.add_word(3);
  h.add_bytes(values, sizeof values);
  EXPECT_EQ(h.value(), 0xad12435521aadcabULL);  // worked out independently of this code
  // A trailing zero float is not the same as none: the length is hashed too.
  WordHasher shorter;
  shorter.add_word(3);
  shorter.add_bytes(values, 2 * sizeof(float));
  EXPECT_NE(shorter.value(), h.value());
}

}  // namespace
}  // namespace mlp
