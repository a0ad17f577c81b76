// The project's hashes, stable across processes and builds (unlike std::hash), so values can be
// compared across ranks and stored in files: FNV-1a over bytes for configs and parameter
// buffers, a word-at-a-time hasher for whole datasets, and SplitMix64's finalizer, which ends
// the latter and is also the mixing step of the counter-based RNG (rng.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace mlp {

constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

inline uint64_t fnv1a(const void* data, size_t n) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  uint64_t h = kFnvOffsetBasis;
  for (size_t i = 0; i < n; ++i) h = (h ^ bytes[i]) * kFnvPrime;
  return h;
}

// SplitMix64's finalizer: every input bit influences every output bit.
inline uint64_t splitmix64_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Word-at-a-time hashing: the full Fashion-MNIST training set is 188 MB of floats, and a
// byte-wise hash would add a noticeable pause to every start-up. Checkpoints store the values
// (the data fingerprint), so the algorithm must not change.
class WordHasher {
 public:
  void add_word(uint64_t w) {
    h_ = (h_ ^ w) * kFnvPrime;
    h_ ^= h_ >> 32;
  }

  void add_bytes(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      add_word(w);
    }
    uint64_t tail = 0;
    if (i < n) std::memcpy(&tail, p + i, n - i);
    // The length goes in too, so zero padding of the tail cannot collide with real zeros.
    add_word(tail);
    add_word(n);
  }

  // The finalizer spreads the last words' influence over all 64 bits.
  uint64_t value() const { return splitmix64_mix(h_); }

 private:
  uint64_t h_ = kFnvOffsetBasis;
};

}  // namespace mlp
