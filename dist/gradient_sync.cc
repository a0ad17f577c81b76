// Blocking and bucketed-overlap gradient sums; see gradient_sync.h.
#include "dist/gradient_sync.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "dist/agreement.h"

namespace mlp {
namespace {

// A float is infinite or NaN exactly when its exponent bits are all ones. The maximum of the
// masked exponents vectorizes to one pass at memory speed; it took the check of the 7.5 MB
// gradient of bench_dist.sh's model from 1.1 ms to 0.7 ms per step, against Eigen's allFinite.
bool all_finite(const float* data, size_t n) {
  constexpr uint32_t kExponent = 0x7f800000u;
  uint32_t largest = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, data + i, sizeof bits);
    largest = std::max(largest, bits & kExponent);
  }
  return largest != kExponent;
}

}  // namespace

GradientSync::GradientSync(Communicator& comm, float* grads, const std::vector<ParamBlock>& layout,
                           Mode mode, size_t min_bucket_elements)
    : comm_(comm), grads_(grads), mode_(mode) {
  size_ = 0;
  for (const ParamBlock& block : layout) size_ = std::max(size_, block.offset + block.size());
  Bucket open{size_, size_};
  for (auto block = layout.rbegin(); block != layout.rend(); ++block) {
    open.begin = block->offset;
    if (open.end - open.begin >= min_bucket_elements) {
      buckets_.push_back(open);
      open = Bucket{open.begin, open.begin};
    }
  }
  if (open.end > open.begin) buckets_.push_back(open);
}

void GradientSync::begin_step() {
  next_bucket_ = 0;
  ready_from_ = size_;
  locally_finite_ = true;
}

void GradientSync::on_ready(size_t begin, size_t end) {
  if (end != ready_from_ || begin > end)
    throw std::logic_error("GradientSync::on_ready: ranges must be contiguous and descending");
  ready_from_ = begin;
  if (mode_ != Mode::kOverlap) return;
  while (next_bucket_ < buckets_.size() && buckets_[next_bucket_].begin >= ready_from_)
    start_bucket(buckets_[next_bucket_++]);
  // The backward of the next layer makes no MPI calls, so started sums move only now.
  comm_.test_all();
}

void GradientSync::start_bucket(const Bucket& bucket) {
  const size_t n = bucket.end - bucket.begin;
  locally_finite_ = locally_finite_ && all_finite(grads_ + bucket.begin, n);
  comm_.start_allreduce_sum(grads_ + bucket.begin, n);
}

bool GradientSync::finish(bool loss_finite) {
  if (mode_ == Mode::kBlocking) {
    locally_finite_ = loss_finite && all_finite(grads_, size_);
    // Agreeing first spares the sum when the step is abandoned anyway.
    if (any_rank(comm_, !locally_finite_)) return false;
    comm_.allreduce_sum(grads_, size_);
    return true;
  }
  while (next_bucket_ < buckets_.size()) start_bucket(buckets_[next_bucket_++]);
  comm_.wait_all();
  locally_finite_ = locally_finite_ && loss_finite;
  return !any_rank(comm_, !locally_finite_);
}

}  // namespace mlp
