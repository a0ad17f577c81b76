// Shards tile a batch in rank order, sizes differing by at most one, for any rank count; in the
// exact mode the ranks' shards tile it too, each made of whole blocks that are the same at every
// rank count.
#include "dist/shard.h"

#include <gtest/gtest.h>

namespace mlp {
namespace {

TEST(Shard, TilesEveryCountForEveryRankCount) {
  for (int64_t count = 0; count <= 37; ++count) {
    for (int size = 1; size <= 8; ++size) {
      int64_t next = 0, smallest = count, largest = 0;
      for (int rank = 0; rank < size; ++rank) {
        const Shard s = shard_of(count, rank, size);
        ASSERT_EQ(s.begin, next) << count << " over " << size;
        next = s.end;
        smallest = std::min(smallest, s.size());
        largest = std::max(largest, s.size());
      }
      EXPECT_EQ(next, count);
      EXPECT_LE(largest - smallest, 1);
    }
  }
}

TEST(Shard, ExtraSamplesGoToTheFirstRanks) {
  EXPECT_EQ(shard_of(10, 0, 3).size(), 4);
  EXPECT_EQ(shard_of(10, 1, 3).size(), 3);
  EXPECT_EQ(shard_of(10, 2, 3).size(), 3);
  EXPECT_EQ(shard_of(2, 3, 4).size(), 0);
}

TEST(Shard, ExactModeShardsAreWholeFixedBlocksForEveryRankCountUpToTheBlocks) {
  for (int64_t count = 0; count <= 40; ++count) {
    for (int blocks = 1; blocks <= 7; ++blocks) {
      for (int size = 1; size <= blocks; ++size) {
        int64_t next = 0;
        int next_block = 0;
        for (int rank = 0; rank < size; ++rank) {
          const Shard range = blocks_of(blocks, rank, size);
          ASSERT_EQ(range.begin, next_block);
          ASSERT_GE(range.size(), 1);
          next_block = static_cast<int>(range.end);
          const Shard samples = step_shard(count, blocks, rank, size);
          ASSERT_EQ(samples.begin, next) << count << " in " << blocks << " over " << size;
          // The rank's samples are its blocks', each block as the batch cut alone makes it.
          int64_t covered = samples.begin;
          for (int64_t k = range.begin; k < range.end; ++k) {
            const Shard block = shard_of(count, static_cast<int>(k), blocks);
            ASSERT_EQ(block.begin, covered);
            covered = block.end;
          }
          ASSERT_EQ(covered, samples.end);
          next = samples.end;
        }
        EXPECT_EQ(next, count);
        EXPECT_EQ(next_block, blocks);
      }
    }
  }
  EXPECT_EQ(step_shard(10, 0, 1, 3).size(), shard_of(10, 1, 3).size());
}

}  // namespace
}  // namespace mlp
