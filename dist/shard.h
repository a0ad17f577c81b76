// The contiguous slice of a global batch (or of an evaluation set) that one rank computes.
// Sizes differ by at most one, the first (count % size) ranks taking the extra sample, so the
// slices of ranks 0..size-1 tile [0, count) in order with nothing padded or repeated.
#pragma once

#include <cstdint>

namespace mlp {

struct Shard {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
};

inline Shard shard_of(int64_t count, int rank, int size) {
  const int64_t base = count / size;
  const int64_t extra = count % size;
  const int64_t begin = rank * base + (rank < extra ? rank : extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

}  // namespace mlp
