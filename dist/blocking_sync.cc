// Blocking gradient sum: after backward, the ranks agree whether every gradient is finite, then
// one allreduce sums the whole flat buffer.
#include "dist/agreement.h"
#include "dist/finite.h"
#include "dist/gradient_sync.h"

namespace mlp {
namespace {

class BlockingSync : public GradientSync {
 public:
  BlockingSync(Communicator& comm, float* grads, size_t size) : GradientSync(comm, grads, size) {}

  bool finish(bool loss_finite) override {
    locally_finite_ = loss_finite && all_finite(grads_, size_);
    // Agreeing first spares the sum when the step is abandoned anyway.
    if (any_rank(comm_, !locally_finite_)) return false;
    comm_.allreduce_sum(grads_, size_);
    return true;
  }
};

}  // namespace

std::unique_ptr<GradientSync> make_blocking_sync(Communicator& comm, float* grads,
                                                 const std::vector<ParamBlock>& layout,
                                                 size_t /*min_bucket_elements*/) {
  return std::make_unique<BlockingSync>(comm, grads, layout_size(layout));
}

}  // namespace mlp
