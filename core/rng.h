// Counter-based randomness: every random number is a pure function of (seed, stream, counters),
// so nothing random carries state. Results do not depend on call order, on the number of ranks,
// or on where a run was resumed.
#pragma once

#include <cstdint>
#include <vector>

namespace mlp {

// Independent purposes draw from distinct streams so their numbers never collide. These are
// core's; a purpose of another layer casts a number of its own from 0x100 up (the sweep's
// random axes use 0x5357, in launch/sweep/plan.cc).
enum class RngStream : uint64_t {
  kInit = 1,         // weight initialization: (layer, element)
  kPermutation = 2,  // epoch order: (epoch)
  kSplit = 3,        // validation split
  kDropout = 4,      // dropout masks: (step, sample, layer * 2^32 + unit)
};

// 64 uniformly distributed bits from the counters (SplitMix64-style finalizers, chained).
uint64_t random_bits(uint64_t seed, RngStream stream, uint64_t a, uint64_t b = 0, uint64_t c = 0);

// random_bits in two parts, for a caller that draws many numbers differing only in c (dropout:
// the units of one sample's column): the state after mixing seed, stream, a and b, and the word
// whose mix is the number, which grows by kRngCounterStep with each step of c:
//   random_bits(seed, stream, a, b, c) ==
//       splitmix64_mix(random_last_word(random_state(seed, stream, a, b), c))
constexpr uint64_t kRngCounterStep = 0x9e3779b97f4a7c15ULL;  // 2^64 / golden ratio
uint64_t random_state(uint64_t seed, RngStream stream, uint64_t a, uint64_t b);
inline uint64_t random_last_word(uint64_t state, uint64_t c) {
  return state + c * kRngCounterStep + 3;
}

// Uniform in [0, 1), 24 bits of resolution (exactly representable as float).
float random_uniform(uint64_t seed, RngStream stream, uint64_t a, uint64_t b = 0, uint64_t c = 0);

// Standard normal (Box-Muller on two derived uniforms).
double random_normal(uint64_t seed, RngStream stream, uint64_t a, uint64_t b = 0, uint64_t c = 0);

// A permutation of 0..n-1 determined by (seed, stream, key): Fisher-Yates driven by
// random_bits(seed, stream, key, i), with unbiased bounded draws.
std::vector<int64_t> random_permutation(int64_t n, uint64_t seed, RngStream stream, uint64_t key);

}  // namespace mlp
