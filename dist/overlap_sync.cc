// Overlapped gradient sum: buckets (contiguous ranges, last layer first) are each started with a
// non-blocking allreduce as soon as backward has filled them, so the sum of late layers overlaps
// the backward of early ones.
#include "dist/agreement.h"
#include "dist/finite.h"
#include "dist/gradient_sync.h"

namespace mlp {
namespace {

class OverlapSync : public GradientSync {
 public:
  OverlapSync(Communicator& comm, float* grads, const std::vector<ParamBlock>& layout,
              size_t min_bucket_elements)
      : GradientSync(comm, grads, layout_size(layout)),
        buckets_(gradient_buckets(layout, min_bucket_elements)) {}

  void begin_step() override {
    GradientSync::begin_step();
    next_bucket_ = 0;
  }

  // Buckets backward did not report (a rank with no samples in this batch) are started here,
  // in the same order as on the other ranks.
  bool finish(bool loss_finite) override {
    while (next_bucket_ < buckets_.size()) start_bucket(buckets_[next_bucket_++]);
    comm_.wait_all();
    locally_finite_ = locally_finite_ && loss_finite;
    return !any_rank(comm_, !locally_finite_);
  }

 protected:
  void ready_from(size_t from) override {
    while (next_bucket_ < buckets_.size() && buckets_[next_bucket_].begin >= from)
      start_bucket(buckets_[next_bucket_++]);
    // The backward of the next layer makes no MPI calls, so started sums move only now.
    comm_.test_all();
  }

 private:
  // Each bucket is checked for non-finite values before any other rank's numbers are mixed in.
  void start_bucket(const GradientBucket& bucket) {
    const size_t n = bucket.end - bucket.begin;
    locally_finite_ = locally_finite_ && all_finite(grads_ + bucket.begin, n);
    comm_.start_allreduce_sum(grads_ + bucket.begin, n);
  }

  std::vector<GradientBucket> buckets_;
  size_t next_bucket_ = 0;  // buckets_[next_bucket_..] have not been started this step
};

}  // namespace

std::unique_ptr<GradientSync> make_overlap_sync(Communicator& comm, float* grads,
                                                const std::vector<ParamBlock>& layout,
                                                size_t min_bucket_elements) {
  return std::make_unique<OverlapSync>(comm, grads, layout, min_bucket_elements);
}

}  // namespace mlp
