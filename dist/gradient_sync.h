// Summing the flat gradient buffer over ranks after backward: one blocking allreduce, or
// buckets (contiguous ranges, last layer first) started with a non-blocking allreduce as soon as
// backward has filled them, so the sum of late layers overlaps the backward of early ones.
// Blocking is the default: in experiments/bench_dist.sh (2 ranks, 784-1024-1024-10) overlap cut
// the exposed sync from 5.5 to 1.3 ms but lengthened backward by more (Open MPI advances a
// non-blocking collective only inside MPI calls, so its work lands in the next on_ready's
// MPI_Testall or in the final wait), and its steps were no faster.
#pragma once

#include <cstddef>
#include <vector>

#include "core/param_store.h"
#include "dist/communicator.h"

namespace mlp {

class GradientSync {
 public:
  enum class Mode { kBlocking, kOverlap };
  struct Bucket {
    size_t begin = 0, end = 0;
  };

  // grads: the flat gradient buffer of `layout`'s total length, kept by the caller. Overlap
  // buckets are unions of consecutive layout blocks, formed from the last block backwards until
  // at least min_bucket_elements (the first blocks may form a smaller last bucket). The buckets
  // depend only on the layout, so every rank issues the same collectives in the same order.
  GradientSync(Communicator& comm, float* grads, const std::vector<ParamBlock>& layout, Mode mode,
               size_t min_bucket_elements);

  // Call once per step before backward (after the gradients are zeroed).
  void begin_step();

  // Model::backward's on_ready: [begin, end) of the buffer holds its final local gradient.
  // Ranges must arrive in descending order and be contiguous (each ends where the previous began).
  // Overlap mode checks each completed bucket for non-finite values (before any other rank's
  // numbers are mixed in), starts its allreduce, then lets started ones progress.
  void on_ready(size_t begin, size_t end);

  // Completes the step's sum: afterwards grads holds the sum over ranks, unless some rank saw a
  // non-finite value, in which case it returns false on every rank and grads is unspecified.
  // loss_finite: this rank's loss was finite. Buckets backward did not report (a rank with no
  // samples in this batch) are started here, in the same order as on the other ranks. Collective.
  bool finish(bool loss_finite);

  // Whether this rank's own loss and gradient were finite in the last finish().
  bool locally_finite() const { return locally_finite_; }
  // In the order they are started: the last bucket covers the highest offsets.
  const std::vector<Bucket>& buckets() const { return buckets_; }

 private:
  void start_bucket(const Bucket& bucket);

  Communicator& comm_;
  float* grads_;
  size_t size_;
  Mode mode_;
  std::vector<Bucket> buckets_;
  size_t next_bucket_ = 0;  // buckets_[next_bucket_..] have not been started this step
  size_t ready_from_ = 0;   // [ready_from_, size_) is final this step
  bool locally_finite_ = true;
};

}  // namespace mlp
