// Shards tile a batch in rank order, sizes differing by at most one, for any rank count.
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

}  // namespace
}  // namespace mlp
