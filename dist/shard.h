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

// The exact mode (--exact-blocks N): a batch of `count` samples is cut into `blocks` fixed
// blocks, block k being shard_of(count, k, blocks) whatever the rank count, and rank r computes
// the whole blocks shard_of(blocks, r, size) (size <= blocks, so each rank has at least one).
// The blocks of `rank`, as a range of block indices.
inline Shard blocks_of(int blocks, int rank, int size) { return shard_of(blocks, rank, size); }

// The samples of a range of blocks: contiguous, since the blocks are.
inline Shard samples_of_blocks(int64_t count, int blocks, Shard range) {
  if (range.size() == 0) return {0, 0};
  return {shard_of(count, static_cast<int>(range.begin), blocks).begin,
          shard_of(count, static_cast<int>(range.end - 1), blocks).end};
}

// The samples rank `rank` computes of a batch of `count`: shard_of's, or with exact_blocks > 0
// those of its blocks.
inline Shard step_shard(int64_t count, int exact_blocks, int rank, int size) {
  if (exact_blocks == 0) return shard_of(count, rank, size);
  return samples_of_blocks(count, exact_blocks, blocks_of(exact_blocks, rank, size));
}

}  // namespace mlp
