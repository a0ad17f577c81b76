// Sharded gradient sum: after backward, one reduce-scatter, in place, leaves the sum of each
// rank's own slice of the flat buffer there, and the ranks agree whether every sum is finite
// (the adds check the values they read, so the step makes no pass of its own for it). On one
// host, with the buffers in memory every rank maps (HostBuffers), a rank reads the others'
// gradients and parameters directly instead: one pass each way, no messages, the same bits.
// The caller updates that slice of the parameters and shares it (allgather). Slices are cut on the
// grid of max-norm's pieces, a multiple of the optimizer's chunk grid, so each rank's update is
// bitwise that of the whole buffer, and so are the norms max-norm sums piece by piece.
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/max_norm.h"
#include "core/optimizer.h"
#include "dist/agreement.h"
#include "dist/finite.h"
#include "dist/gradient_sync.h"

namespace mlp {
namespace {

constexpr size_t kSliceGrid = kMaxNormPiece;
static_assert(kSliceGrid % kOptimizerGrid == 0, "slices must be whole optimizer chunks");

// Rank r's slice: nearly equal parts of `size`, each boundary a multiple of the grid.
std::vector<size_t> slice_counts(size_t size, int ranks) {
  const size_t cells = (size + kSliceGrid - 1) / kSliceGrid;
  std::vector<size_t> counts;
  size_t begin = 0;
  for (int r = 1; r <= ranks; ++r) {
    const size_t end = std::min(size, cells * static_cast<size_t>(r) / static_cast<size_t>(ranks) *
                                          kSliceGrid);
    counts.push_back(end - begin);
    begin = end;
  }
  return counts;
}

class ShardedSync : public GradientSync {
 public:
  ShardedSync(Communicator& comm, float* grads, size_t size, const HostBuffers* host)
      : GradientSync(comm, grads, size), counts_(slice_counts(size, comm.size())) {
    for (int r = 0; r < comm.rank(); ++r) owned_.begin += counts_[static_cast<size_t>(r)];
    owned_.end = owned_.begin + counts_[static_cast<size_t>(comm.rank())];
    if (host != nullptr && host->memory != nullptr) {
      host_ = *host;
      partial_.resize(kHostPiece);
    }
  }

  // A non-finite value of any rank makes the sum it enters non-finite, so the sums' check finds
  // every one. Only then, on the way to the run's end, are the ranks whose own loss or gradient
  // was non-finite named; when none was, the sum overflowed and the ranks holding those sums
  // are named.
  bool finish(bool loss_finite) override {
    const Communicator::SumCheck check =
        host_.memory != nullptr ? sum_on_host() : comm_.reduce_scatter_sum(grads_, counts_);
    locally_finite_ = loss_finite && check.sums_finite;
    if (!any_rank(comm_, !locally_finite_)) return true;
    bool own_finite = loss_finite && check.own_finite;
    for (const FlatRange& unread : unread_ranges(check))
      own_finite = own_finite && all_finite(grads_ + unread.begin, unread.size());
    locally_finite_ = any_rank(comm_, !own_finite) ? own_finite : check.sums_finite;
    return false;
  }

  FlatRange owned() const override { return owned_; }
  bool splits_update() const override { return comm_.size() > 1; }

  void share_owned(float* data) override {
    if (host_.memory == nullptr || data != host_.memory->mine() + host_.values_at) {
      comm_.allgather_in_place(data, counts_);
      return;
    }
    // Every rank has updated its slice; each copies the others' from their memory.
    host_.memory->fence();
    size_t begin = 0;
    for (int r = 0; r < comm_.size(); ++r) {
      const size_t count = counts_[static_cast<size_t>(r)];
      if (r != comm_.rank())
        std::memcpy(data + begin, host_.memory->of(r) + host_.values_at + begin,
                    count * sizeof(float));
      begin += count;
    }
  }

 private:
  static constexpr size_t kHostPiece = 16384;  // values: 64 KB, in L2 while summed

  const float* peer_grads(int rank) const {
    return host_.memory->of((rank % comm_.size() + comm_.size()) % comm_.size()) + host_.grads_at;
  }

  // The sum of this rank's slice from the ranks' gradients in their memory, in the order the ring
  // adds them (ranks rank + 1, rank + 2, ..., this rank last), so the bits are the ring's. The
  // fence before makes every rank's gradient final; the agreement after it in finish() keeps
  // every rank from writing its gradients again before the others have read them.
  Communicator::SumCheck sum_on_host() {
    host_.memory->fence();
    const int me = comm_.rank(), n = comm_.size();
    uint32_t largest_sum = 0, largest_own = 0;
    for (size_t begin = owned_.begin; begin < owned_.end; begin += kHostPiece) {
      const size_t count = std::min(kHostPiece, owned_.end - begin);
      const float* partial = peer_grads(me + 1) + begin;
      if (n > 2) {
        float* sum = partial_.data();
        std::memcpy(sum, partial, count * sizeof(float));
        for (int k = 2; k < n; ++k) {
          const float* next = peer_grads(me + k) + begin;
          for (size_t i = 0; i < count; ++i) sum[i] = sum[i] + next[i];
        }
        partial = sum;
      }
      float* own = grads_ + begin;
      for (size_t i = 0; i < count; ++i) {
        largest_own = std::max(largest_own, exponent_bits(own[i]));
        own[i] = partial[i] + own[i];
        largest_sum = std::max(largest_sum, exponent_bits(own[i]));
      }
    }
    return {exponents_finite(largest_sum), exponents_finite(largest_own)};
  }

  // This rank's own values that its sum did not read: on one host all but its slice, else the
  // range the ring sent on unread.
  std::vector<FlatRange> unread_ranges(const Communicator::SumCheck& check) const {
    if (host_.memory != nullptr) return {FlatRange{0, owned_.begin}, FlatRange{owned_.end, size_}};
    return {FlatRange{check.unread_begin, check.unread_end}};
  }

  std::vector<size_t> counts_;  // of every rank's slice, in rank order
  FlatRange owned_;
  HostBuffers host_;            // memory null: the ring's messages
  std::vector<float> partial_;  // with more than two ranks, one piece of a partial sum
};

}  // namespace

std::unique_ptr<GradientSync> make_sharded_sync(Communicator& comm, float* grads,
                                                const std::vector<ParamBlock>& layout,
                                                const HostBuffers* host) {
  return std::make_unique<ShardedSync>(comm, grads, layout_size(layout), host);
}

}  // namespace mlp
