// Sharded gradient sum: after backward, the ranks agree whether every gradient is finite; then
// one reduce-scatter, in place, leaves the sum of each rank's own slice of the flat buffer there.
// The caller updates that slice of the parameters and shares it (allgather). Slices are cut on the
// grid of max-norm's pieces, a multiple of the optimizer's chunk grid, so each rank's update is
// bitwise that of the whole buffer, and so are the norms max-norm sums piece by piece.
#include <algorithm>
#include <vector>

#include "core/max_norm.h"
#include "core/optimizer.h"
#include "dist/agreement.h"
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

  bool finish(bool loss_finite) override {
    locally_finite_ = loss_finite && all_finite(grads_, size_);
    // Agreeing first spares the sum when the step is abandoned anyway.
    if (any_rank(comm_, !locally_finite_)) return false;
    comm_.reduce_scatter_sum(grads_, counts_);
    return true;
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
