// The exact sum under mpirun: ranks holding different runs of blocks get, in their slices (or
// everywhere without slices), bitwise the floats one process gets from all the blocks; the
// integer collectives are exact on values near their limits; the agreement hands every rank every
// block's scalars bit for bit, asks for a recompute when a tensor outgrows its scale, and stops
// on a non-finite value that one rank saw, naming only that rank.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "core/fixed_point.h"
#include "dist/exact_sum.h"
#include "dist/shard.h"
#include "tests/support/mpi_test_env.h"

namespace mlp {
namespace {

constexpr int kBlocks = 6;

std::vector<ParamBlock> small_layout() {
  const int shapes[][2] = {{300, 451}, {300, 1}, {7, 300}, {7, 1}};
  std::vector<ParamBlock> layout;
  size_t offset = 0;
  for (const auto& shape : shapes) {
    layout.push_back({"block", offset, shape[0], shape[1], {}});
    offset += layout.back().size();
  }
  return layout;
}

// Block b's gradient value i: magnitudes over many binades, both signs, cancelling between blocks.
float block_value(int b, size_t i) {
  const double s = std::sin(0.37 * static_cast<double>(i) + 1.3 * b);
  return static_cast<float>(s * std::ldexp(1.0, static_cast<int>(i % 23) - 12));
}

// This rank's slice: the sharded sync's kind of split, nearly equal parts in rank order.
FlatRange slice_of(size_t size) {
  const Shard s = shard_of(static_cast<int64_t>(size), test_world().rank(), test_world().size());
  return {static_cast<size_t>(s.begin), static_cast<size_t>(s.end)};
}

// Fills the sums with this rank's blocks of the step, as the block pass does.
void add_my_blocks(ExactSum& sum, const std::vector<ParamBlock>& layout, Shard mine) {
  for (size_t t = 0; t < layout.size(); ++t) {
    std::vector<float> values(layout[t].size());
    sum.largest()[t] = 0;
    for (int64_t b = mine.begin; b < mine.end; ++b) {
      for (size_t i = 0; i < values.size(); ++i)
        values[i] = block_value(static_cast<int>(b), layout[t].offset + i);
      sum.largest()[t] =
          std::max(sum.largest()[t], add_fixed(values.data(), values.size(), sum.shifts()[t],
                                               b == mine.begin, sum.sums() + layout[t].offset));
    }
  }
}

std::vector<float> summed_over_ranks(bool split) {
  const std::vector<ParamBlock> layout = small_layout();
  const size_t size = layout_size(layout);
  const FlatRange owned = split ? slice_of(size) : FlatRange{0, size};
  ExactSum sum(test_world(), layout, kBlocks, owned, split);
  const Shard mine = blocks_of(kBlocks, test_world().rank(), test_world().size());
  std::vector<BlockScalars> all;
  // The first backward has no exponents yet: it is recomputed at those it reached.
  add_my_blocks(sum, layout, mine);
  EXPECT_EQ(sum.agree({}, 0, true, &all), ExactSum::Outcome::kRecompute);
  add_my_blocks(sum, layout, mine);
  EXPECT_EQ(sum.agree({}, 0, true, &all), ExactSum::Outcome::kSum);
  std::vector<float> grads(size, std::nanf(""));
  sum.sum(grads.data());
  // Every rank's slice, gathered for the comparison.
  if (split) {
    std::vector<size_t> counts;
    for (int r = 0; r < test_world().size(); ++r) {
      const Shard s = shard_of(static_cast<int64_t>(size), r, test_world().size());
      counts.push_back(static_cast<size_t>(s.size()));
    }
    test_world().allgather_in_place(grads.data(), counts);
  }
  return grads;
}

// One process adding every block itself.
std::vector<float> summed_alone() {
  const std::vector<ParamBlock> layout = small_layout();
  const size_t size = layout_size(layout);
  std::unique_ptr<Communicator> alone = make_local_communicator();
  ExactSum sum(*alone, layout, kBlocks, {0, size}, false);
  std::vector<BlockScalars> all;
  add_my_blocks(sum, layout, {0, kBlocks});
  sum.agree({}, 0, true, &all);
  add_my_blocks(sum, layout, {0, kBlocks});
  EXPECT_EQ(sum.agree({}, 0, true, &all), ExactSum::Outcome::kSum);
  std::vector<float> grads(size);
  sum.sum(grads.data());
  return grads;
}

}  // namespace

TEST(ExactSumMpi, AnyRankCountGivesTheBitsOfOneProcess) {
  const std::vector<float> alone = summed_alone();
  for (bool split : {true, false}) {
    const std::vector<float> ranks = summed_over_ranks(split);
    size_t differ = 0;
    for (size_t i = 0; i < alone.size(); ++i)
      differ += std::memcmp(&ranks[i], &alone[i], sizeof(float)) != 0;
    EXPECT_EQ(differ, 0u) << (split ? "sliced" : "whole");
  }
}

TEST(ExactSumMpi, IntegerCollectivesAreExactNearTheirLimits) {
  const int size = test_world().size(), rank = test_world().rank();
  // Each rank adds up to 2^62 / size of either sign: the sum stays exact.
  const int64_t big = (int64_t{1} << 62) / size;
  std::vector<int64_t> data = {big, -big, rank == 0 ? 1 : 0, rank % 2 ? -big : big};
  std::vector<int64_t> expected = {big * size, -big * size, 1, 0};
  for (int r = 0; r < size; ++r) expected[3] += r % 2 ? -big : big;
  test_world().allreduce_sum(data.data(), data.size());
  EXPECT_EQ(data, expected);
}

TEST(ExactSumMpi, AgreementGivesEveryBlocksScalarsBitForBit) {
  const std::vector<ParamBlock> layout = small_layout();
  const size_t size = layout_size(layout);
  ExactSum sum(test_world(), layout, kBlocks, {0, size}, false);
  const Shard mine = blocks_of(kBlocks, test_world().rank(), test_world().size());
  const double values[kBlocks] = {-0.0, 1e-310, -3.5, 1e300, 0.1, 7};
  std::vector<BlockScalars> scalars;
  for (int64_t b = mine.begin; b < mine.end; ++b) scalars.push_back({values[b], -b * 1000});
  std::fill(sum.largest(), sum.largest() + layout.size(), 100u);
  std::vector<BlockScalars> all;
  sum.agree(scalars, static_cast<int>(mine.begin), true, &all);
  ASSERT_EQ(all.size(), static_cast<size_t>(kBlocks));
  for (int b = 0; b < kBlocks; ++b) {
    EXPECT_EQ(std::memcmp(&all[b].loss, &values[b], sizeof(double)), 0) << b;
    EXPECT_EQ(all[b].correct, -b * 1000);
  }
}

TEST(ExactSumMpi, GrowthBeyondTheHeadroomAsksEveryRankToRecompute) {
  const std::vector<ParamBlock> layout = small_layout();
  ExactSum sum(test_world(), layout, kBlocks, {0, layout_size(layout)}, false);
  std::vector<BlockScalars> all;
  std::fill(sum.largest(), sum.largest() + layout.size(), 120u);
  sum.agree({}, 0, true, &all);  // the first one recomputes to learn the exponents
  std::fill(sum.largest(), sum.largest() + layout.size(), 120u);
  // One rank's one tensor grows past the headroom: everyone recomputes, at its exponent.
  if (test_world().rank() == test_world().size() - 1)
    sum.largest()[2] = 121 + static_cast<uint32_t>(kFixedHeadroomBits);
  EXPECT_EQ(sum.agree({}, 0, true, &all), ExactSum::Outcome::kRecompute);
  EXPECT_EQ(sum.exponents()[2], 121 + kFixedHeadroomBits);
  EXPECT_EQ(sum.exponents()[0], 120);
}

TEST(ExactSumMpi, ANonFiniteValueOnOneRankStopsEveryRankAndNamesOnlyIt) {
  const std::vector<ParamBlock> layout = small_layout();
  ExactSum sum(test_world(), layout, kBlocks, {0, layout_size(layout)}, false);
  std::vector<BlockScalars> all;
  const bool culprit = test_world().rank() == test_world().size() - 1;
  std::fill(sum.largest(), sum.largest() + layout.size(), 100u);
  if (culprit) sum.largest()[1] = kNonFiniteExponent;
  EXPECT_EQ(sum.agree({}, 0, true, &all), ExactSum::Outcome::kNonFinite);
  EXPECT_EQ(sum.locally_finite(), !culprit);
  // A non-finite loss of one block does the same.
  const Shard mine = blocks_of(kBlocks, test_world().rank(), test_world().size());
  std::vector<BlockScalars> scalars(static_cast<size_t>(mine.size()));
  if (culprit) scalars.back().loss = std::numeric_limits<double>::infinity();
  std::fill(sum.largest(), sum.largest() + layout.size(), 100u);
  EXPECT_EQ(sum.agree(scalars, static_cast<int>(mine.begin), !culprit, &all),
            ExactSum::Outcome::kNonFinite);
  EXPECT_EQ(sum.locally_finite(), !culprit);
}

}  // namespace mlp
