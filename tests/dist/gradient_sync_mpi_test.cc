// Sums over ranks under mpirun: allreduce, reduce-scatter and allgather of integer-valued floats
// are exact, the reduce-scatter reports the non-finite values its adds read, and GradientSync
// gives the same sums in every mode (sharded: each rank's slice), also when a rank has no
// samples and reports no ranges, and agrees on a non-finite gradient seen by one rank only or
// on a sum that overflows; on one host, the sharded sync through shared memory gives the ring's
// bits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "core/max_norm.h"
#include "core/optimizer.h"
#include "dist/gradient_sync.h"
#include "tests/support/mpi_test_env.h"

namespace mlp {
namespace {

// Integers below 2^24 are exact floats, so their sums are exact in any order.
float integer_value(int rank, size_t i) { return static_cast<float>((i * 7 + rank * 13) % 1000); }

float expected_sum(int size, size_t i) {
  float sum = 0;
  for (int r = 0; r < size; ++r) sum += integer_value(r, i);
  return sum;
}

std::vector<float> filled(int rank, size_t n) {
  std::vector<float> data(n);
  for (size_t i = 0; i < n; ++i) data[i] = integer_value(rank, i);
  return data;
}

void expect_exact_sums(const std::vector<float>& data, int size) {
  size_t wrong = 0;
  for (size_t i = 0; i < data.size(); ++i) wrong += data[i] != expected_sum(size, i);
  EXPECT_EQ(wrong, 0u) << "of " << data.size();
}

// Three dense layers' weight and bias blocks, as a model lays them out: about 265,000 values, so
// that the sharded sync's slices (whole pieces of 65,536 values) give each of four ranks a part.
std::vector<ParamBlock> three_layer_layout() {
  const int shapes[][2] = {{256, 1000}, {256, 1}, {32, 256}, {32, 1}, {10, 32}, {10, 1}};
  std::vector<ParamBlock> layout;
  size_t offset = 0;
  for (const auto& shape : shapes) {
    layout.push_back({"block", offset, shape[0], shape[1], {}});
    offset += layout.back().size();
  }
  return layout;
}

// Reports the layers' ranges as Model::backward does: weight and bias of a layer together,
// last layer first.
void report_layers(GradientSync& sync, const std::vector<ParamBlock>& layout) {
  for (size_t b = layout.size(); b >= 2; b -= 2)
    sync.on_ready(layout[b - 2].offset, layout[b - 1].offset + layout[b - 1].size());
}

TEST(AllreduceMpi, IntegerValuedFloatsSumExactly) {
  Communicator& comm = test_world();
  for (size_t n : {size_t{1}, size_t{1000}, size_t{1} << 21}) {
    std::vector<float> data = filled(comm.rank(), n);
    comm.allreduce_sum(data.data(), n);
    expect_exact_sums(data, comm.size());
  }
}

TEST(AllreduceMpi, NonBlockingSumsInPiecesAreExact) {
  Communicator& comm = test_world();
  const size_t n = 3 * 100000 + 17;
  std::vector<float> data = filled(comm.rank(), n);
  const size_t pieces[] = {0, 17, 100017, n};
  for (int p = 2; p >= 0; --p)
    comm.start_allreduce_sum(data.data() + pieces[p], pieces[p + 1] - pieces[p]);
  comm.test_all();
  comm.wait_all();
  EXPECT_TRUE(comm.test_all());
  expect_exact_sums(data, comm.size());
}

TEST(AllreduceMpi, ReduceScatterAndAllgatherInPlaceAreExact) {
  Communicator& comm = test_world();
  // Uneven slices, one of them empty when there is more than one rank, the others longer than
  // the pieces a slice is sent in.
  std::vector<size_t> counts;
  size_t n = 0;
  for (int r = 0; r < comm.size(); ++r) {
    counts.push_back(r == 1 ? 0 : 70000 + 7 * static_cast<size_t>(r));
    n += counts.back();
  }
  size_t begin = 0;
  for (int r = 0; r < comm.rank(); ++r) begin += counts[static_cast<size_t>(r)];
  const size_t mine = counts[static_cast<size_t>(comm.rank())];
  std::vector<float> data = filled(comm.rank(), n);
  comm.reduce_scatter_sum(data.data(), counts);
  size_t wrong = 0;
  for (size_t i = begin; i < begin + mine; ++i) wrong += data[i] != expected_sum(comm.size(), i);
  EXPECT_EQ(wrong, 0u);

  // Each rank holds only its own slice; afterwards every rank holds every slice.
  std::vector<float> shared(n, -1.0f);
  std::copy(data.begin() + static_cast<std::ptrdiff_t>(begin),
            data.begin() + static_cast<std::ptrdiff_t>(begin + mine),
            shared.begin() + static_cast<std::ptrdiff_t>(begin));
  comm.allgather_in_place(shared.data(), counts);
  expect_exact_sums(shared, comm.size());
}

// Each rank in turn puts a NaN at each end of each slice: the rank holding that slice sees a
// non-finite sum, and the rank that put it there a non-finite own value, unless the value went
// to another rank unread, which the check then names as its unread range.
TEST(AllreduceMpi, ReduceScatterReportsNonFiniteValuesItReads) {
  Communicator& comm = test_world();
  const std::vector<size_t> counts(static_cast<size_t>(comm.size()), 70001);
  const size_t n = counts[0] * counts.size();
  for (int culprit = 0; culprit < comm.size(); ++culprit) {
    for (size_t where : {size_t{0}, n / 2, n - 1}) {
      std::vector<float> data = filled(comm.rank(), n);
      if (comm.rank() == culprit) data[where] = std::numeric_limits<float>::quiet_NaN();
      const Communicator::SumCheck check = comm.reduce_scatter_sum(data.data(), counts);
      const int holder = static_cast<int>(where / counts[0]);
      const bool unread = comm.size() > 1 && check.unread_begin <= where && where < check.unread_end;
      SCOPED_TRACE("culprit " + std::to_string(culprit) + " at " + std::to_string(where));
      if (comm.rank() == holder) {
        EXPECT_FALSE(check.sums_finite);
      }
      EXPECT_EQ(check.own_finite, comm.rank() != culprit || unread);
      if (comm.size() == 1) {
        EXPECT_EQ(check.unread_end, 0u);
      }
    }
  }
}

TEST(GradientSyncMpi, EveryModeGivesTheSameExactSums) {
  Communicator& comm = test_world();
  const std::vector<ParamBlock> layout = three_layer_layout();
  const size_t n = layout_size(layout);
  size_t owned_total = 0;
  for (pb::GradSync kind : {pb::BLOCKING, pb::OVERLAP, pb::SHARDED}) {
    SCOPED_TRACE(pb::GradSync_Name(kind));
    std::vector<float> grads = filled(comm.rank(), n);
    const auto sync = make_gradient_sync(kind, comm, grads.data(), layout, 1000);
    sync->begin_step();
    report_layers(*sync, layout);
    EXPECT_TRUE(sync->finish(true));
    EXPECT_TRUE(sync->locally_finite());
    const FlatRange owned = sync->owned();
    ASSERT_LE(owned.end, n);
    // The summed gradient of the owned range, copied where a parameter update would go, then
    // shared: every rank ends with the whole sum.
    std::vector<float> sums(n, -1.0f);
    std::copy(grads.begin() + static_cast<std::ptrdiff_t>(owned.begin),
              grads.begin() + static_cast<std::ptrdiff_t>(owned.end),
              sums.begin() + static_cast<std::ptrdiff_t>(owned.begin));
    sync->share_owned(sums.data());
    expect_exact_sums(sums, comm.size());
    EXPECT_EQ(sync->splits_update(), kind == pb::SHARDED && comm.size() > 1);
    if (kind == pb::SHARDED) {
      EXPECT_EQ(owned.begin % kMaxNormPiece, 0u);
      EXPECT_EQ(owned.begin % kOptimizerGrid, 0u);
      owned_total = owned.size();
    } else {
      EXPECT_EQ(owned.begin, 0u);
      EXPECT_EQ(owned.end, n);
    }
  }
  // The slices cover the buffer exactly once.
  double covered = static_cast<double>(owned_total);
  comm.allreduce_sum(&covered, 1);
  EXPECT_EQ(covered, static_cast<double>(n));
}

TEST(GradientSyncMpi, ARankWithoutSamplesStillMatchesTheBuckets) {
  Communicator& comm = test_world();
  const std::vector<ParamBlock> layout = three_layer_layout();
  std::vector<float> grads = filled(comm.rank(), layout_size(layout));
  const auto sync = make_gradient_sync(pb::OVERLAP, comm, grads.data(), layout, 1000);
  // Steps where the last rank gets no sample: its buckets are all started by finish().
  for (int step = 0; step < 3; ++step) {
    const std::vector<float> fresh = filled(comm.rank(), grads.size());
    std::copy(fresh.begin(), fresh.end(), grads.begin());  // in place: sync holds grads.data()
    sync->begin_step();
    if (comm.rank() + 1 < comm.size()) report_layers(*sync, layout);
    EXPECT_TRUE(sync->finish(true));
    expect_exact_sums(grads, comm.size());
  }
}

TEST(GradientSyncMpi, ANonFiniteGradientOnOneRankStopsEveryRank) {
  Communicator& comm = test_world();
  const std::vector<ParamBlock> layout = three_layer_layout();
  const int bad_rank = comm.size() - 1;
  for (pb::GradSync kind : {pb::BLOCKING, pb::OVERLAP, pb::SHARDED}) {
    std::vector<float> grads = filled(comm.rank(), layout_size(layout));
    if (comm.rank() == bad_rank)
      grads[layout[2].offset + 5] = std::numeric_limits<float>::quiet_NaN();
    const auto sync = make_gradient_sync(kind, comm, grads.data(), layout, 1000);
    sync->begin_step();
    report_layers(*sync, layout);
    EXPECT_FALSE(sync->finish(true));
    EXPECT_EQ(sync->locally_finite(), comm.rank() != bad_rank);
  }
}

TEST(GradientSyncMpi, ANonFiniteLossOnOneRankStopsEveryRank) {
  Communicator& comm = test_world();
  const std::vector<ParamBlock> layout = three_layer_layout();
  std::vector<float> grads = filled(comm.rank(), layout_size(layout));
  const auto sync = make_gradient_sync(pb::OVERLAP, comm, grads.data(), layout, 1000);
  sync->begin_step();
  report_layers(*sync, layout);
  EXPECT_FALSE(sync->finish(comm.rank() != 0));
  EXPECT_EQ(sync->locally_finite(), comm.rank() != 0);
}

// Finite gradients whose sum overflows: no rank's own values were non-finite, so the ranks that
// formed the overflowed sums are the ones named: the last rank, which holds it, and those the
// ring passed it through, never rank 0, whose value starts that slice's ring unsummed.
TEST(GradientSyncMpi, AnOverflowingSumStopsEveryRankAndNamesItsHolder) {
  Communicator& comm = test_world();
  if (comm.size() == 1) GTEST_SKIP() << "one rank's sum is its own values";
  const std::vector<ParamBlock> layout = three_layer_layout();
  std::vector<float> grads = filled(comm.rank(), layout_size(layout));
  const size_t at = layout_size(layout) - 1;  // in the last rank's slice
  grads[at] = 3e38f;
  const auto sync = make_gradient_sync(pb::SHARDED, comm, grads.data(), layout, 1000);
  sync->begin_step();
  report_layers(*sync, layout);
  EXPECT_FALSE(sync->finish(true));
  if (comm.rank() == 0) {
    EXPECT_TRUE(sync->locally_finite());
  }
  if (comm.rank() == comm.size() - 1) {
    EXPECT_FALSE(sync->locally_finite());
  }
}

// Values of every sign and scale, whose float sums depend on their order.
float rounded_value(int rank, size_t i) {
  const uint32_t h = static_cast<uint32_t>((i + 1) * 2654435761u) ^ static_cast<uint32_t>(rank * 40503);
  return (static_cast<float>(h % 20001) - 10000.0f) * std::ldexp(1.0f, static_cast<int>(h % 23) - 30);
}

// The sharded sync on one host reads the other ranks' memory (HostBuffers) in place of the
// ring's messages: the same sums bit for bit, the same shared parameters, and the same stop on a
// non-finite value of one rank. A world across hosts (or of one rank) gets no shared memory.
TEST(GradientSyncMpi, OneHostsSharedMemoryGivesTheRingsBits) {
  Communicator& comm = test_world();
  const std::vector<ParamBlock> layout = three_layer_layout();
  const size_t n = layout_size(layout), grads_at = (n + 15) / 16 * 16;
  const std::unique_ptr<HostSharedFloats> memory = comm.share_on_host(grads_at + n);
  if (comm.size() == 1) {
    EXPECT_EQ(memory, nullptr);
    return;
  }
  ASSERT_NE(memory, nullptr) << "the ranks of this test run on one host";
  ASSERT_EQ(reinterpret_cast<uintptr_t>(memory->mine()) % 64, 0u);
  const HostBuffers host{memory.get(), 0, grads_at};
  float* values = memory->mine();
  float* grads = memory->mine() + grads_at;
  for (const int bad_rank : {-1, comm.size() - 1}) {
    std::vector<float> ring(n);
    for (size_t i = 0; i < n; ++i) ring[i] = grads[i] = rounded_value(comm.rank(), i);
    if (comm.rank() == bad_rank) grads[n - 3] = ring[n - 3] = std::numeric_limits<float>::infinity();
    const auto by_ring = make_gradient_sync(pb::SHARDED, comm, ring.data(), layout, 1000);
    const auto on_host = make_gradient_sync(pb::SHARDED, comm, grads, layout, 1000, &host);
    SCOPED_TRACE("non-finite on rank " + std::to_string(bad_rank));
    for (GradientSync* sync : {by_ring.get(), on_host.get()}) {
      sync->begin_step();
      report_layers(*sync, layout);
      EXPECT_EQ(sync->finish(true), bad_rank < 0);
      EXPECT_EQ(sync->locally_finite(), comm.rank() != bad_rank);
    }
    if (bad_rank >= 0) continue;
    const FlatRange owned = on_host->owned();
    ASSERT_EQ(owned.begin, by_ring->owned().begin);
    ASSERT_EQ(owned.end, by_ring->owned().end);
    size_t differ = 0;
    for (size_t i = owned.begin; i < owned.end; ++i)
      differ += std::memcmp(&grads[i], &ring[i], sizeof(float)) != 0;
    EXPECT_EQ(differ, 0u) << "of " << owned.size() << " sums";

    // Each rank writes its slice of the parameters; sharing gives every rank all of them.
    std::vector<uint64_t> ends(static_cast<size_t>(comm.size()));
    const uint64_t my_end = owned.end;
    comm.allgather(&my_end, sizeof my_end, ends.data());
    for (size_t i = 0; i < n; ++i)
      values[i] = owned.begin <= i && i < owned.end ? integer_value(comm.rank(), i) : -1.0f;
    on_host->share_owned(values);
    size_t wrong = 0;
    for (size_t i = 0; i < n; ++i) {
      int holder = 0;
      while (i >= ends[static_cast<size_t>(holder)]) ++holder;
      wrong += values[i] != integer_value(holder, i);
    }
    EXPECT_EQ(wrong, 0u);
  }
}

}  // namespace
}  // namespace mlp
