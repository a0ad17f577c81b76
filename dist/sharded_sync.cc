// Sharded gradient sum: after backward, one reduce-scatter, in place, leaves the sum of each
// rank's own slice of the flat buffer there, and the ranks agree whether every sum is finite
// (the adds check the values they read, so the step makes no pass of its own for it).
// The caller updates that slice of the parameters and shares it (allgather). Slices are cut on the
// grid of max-norm's pieces, a multiple of the optimizer's chunk grid, so each rank's update is
// bitwise that of the whole buffer, and so are the norms max-norm sums piece by piece.
#include <algorithm>
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
  ShardedSync(Communicator& comm, float* grads, size_t size)
      : GradientSync(comm, grads, size), counts_(slice_counts(size, comm.size())) {
    for (int r = 0; r < comm.rank(); ++r) owned_.begin += counts_[static_cast<size_t>(r)];
    owned_.end = owned_.begin + counts_[static_cast<size_t>(comm.rank())];
  }

  // A non-finite value of any rank makes the sum it enters non-finite, so the sums' check finds
  // every one. Only then, on the way to the run's end, are the ranks whose own loss or gradient
  // was non-finite named; when none was, the sum overflowed and the ranks holding those sums
  // are named.
  bool finish(bool loss_finite) override {
    const Communicator::SumCheck check = comm_.reduce_scatter_sum(grads_, counts_);
    locally_finite_ = loss_finite && check.sums_finite;
    if (!any_rank(comm_, !locally_finite_)) return true;
    const bool own_finite =
        loss_finite && check.own_finite &&
        all_finite(grads_ + check.unread_begin, check.unread_end - check.unread_begin);
    locally_finite_ = any_rank(comm_, !own_finite) ? own_finite : check.sums_finite;
    return false;
  }

  FlatRange owned() const override { return owned_; }
  bool splits_update() const override { return comm_.size() > 1; }
  void share_owned(float* data) override { comm_.allgather_in_place(data, counts_); }

 private:
  std::vector<size_t> counts_;  // of every rank's slice, in rank order
  FlatRange owned_;
};

}  // namespace

std::unique_ptr<GradientSync> make_sharded_sync(Communicator& comm, float* grads,
                                                const std::vector<ParamBlock>& layout,
                                                size_t /*min_bucket_elements*/) {
  return std::make_unique<ShardedSync>(comm, grads, layout_size(layout));
}

}  // namespace mlp
