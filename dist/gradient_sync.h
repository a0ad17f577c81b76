// Summing the flat gradient buffer over ranks after backward. Each algorithm is a GradientSync
// in a file of its own (blocking_sync.cc, overlap_sync.cc, sharded_sync.cc), made by
// make_gradient_sync from the config's grad_sync value; adding one is that file, its maker's
// declaration and a case in make_gradient_sync (gradient_sync.cc).
// Sharded sums each rank's slice only (reduce-scatter); each rank updates its slice of the
// parameters and optimizer state, and the updated parameters are shared (allgather): the same
// traffic as one allreduce, while the optimizer's pass over memory is split between the ranks.
// Sharded is the default: in experiments/results/bench_dist_xeon_f6m167.txt (2 ranks,
// 784-1024-1024-10) it halved the optimizer's time (2.62 to 1.30 ms a step) and its steps were
// the fastest. Overlap cut the exposed sync from 2.79 to 0.65 ms but lengthened backward by more
// (6.06 to 10.29 ms: Open MPI advances a non-blocking collective only inside MPI calls, so its
// work lands in the next on_ready's MPI_Testall or in the final wait), and its steps were slower
// than blocking ones.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "core/param_store.h"
#include "dist/communicator.h"
#include "proto/config.pb.h"

namespace mlp {

// A contiguous range of the flat gradient buffer summed as one piece.
using GradientBucket = FlatRange;

// Unions of consecutive layout blocks, formed from the last block backwards until each holds
// at least min_elements (the first blocks may form a smaller last bucket), in the order backward
// completes them. They depend only on the layout, so every rank cuts the same buckets.
std::vector<GradientBucket> gradient_buckets(const std::vector<ParamBlock>& layout,
                                             size_t min_elements);

class GradientSync {
 public:
  virtual ~GradientSync() = default;

  // Call once per step before backward (which overwrites the gradients, so none need zeroing).
  virtual void begin_step();

  // Model::backward's on_ready: [begin, end) of the buffer holds its final local gradient.
  // Ranges must arrive in descending order and be contiguous (each ends where the previous
  // began); throws std::logic_error otherwise.
  void on_ready(size_t begin, size_t end);

  // Completes the step's sum: afterwards grads[owned()] holds the sum over ranks (the rest of
  // grads is unspecified when sharded), unless some rank saw a non-finite value, in which case
  // it returns false on every rank and the sum is unspecified.
  // loss_finite: this rank's loss was finite. Collective: every rank calls it once per step.
  virtual bool finish(bool loss_finite) = 0;

  // The part of the flat buffers this rank updates after finish(): all of it, except when sharded.
  virtual FlatRange owned() const { return FlatRange{0, size_}; }
  // Whether ranks update different parts (owned() differs between ranks), so that a sum over the
  // updated values (max-norm's) must be combined across ranks. The same on every rank.
  virtual bool splits_update() const { return false; }
  // Once every rank has updated owned() of data (a buffer of the layout's length: parameters or
  // an optimizer state vector), every rank holds all of it. Collective; nothing to do unless
  // sharded.
  virtual void share_owned(float* data) { (void)data; }

  // Whether this rank's own loss and gradient were finite in the last finish().
  bool locally_finite() const { return locally_finite_; }

 protected:
  // grads: the flat gradient buffer of `size` floats, kept by the caller.
  GradientSync(Communicator& comm, float* grads, size_t size);
  // Called by on_ready once [from, size) is final this step.
  virtual void ready_from(size_t from) { (void)from; }

  Communicator& comm_;
  float* grads_;
  size_t size_;
  bool locally_finite_ = true;

 private:
  size_t ready_from_ = 0;  // [ready_from_, size_) is final this step
};

// Where the ranks of one host keep their flat buffers, readable by all of them: rank r's
// parameter values at memory->of(r) + values_at and its gradients at memory->of(r) + grads_at.
// The sharded sync then sums and shares by reading the other ranks' memory, one pass each, in
// place of the ring's messages (which copy each value twice), with the same bits.
struct HostBuffers {
  HostSharedFloats* memory = nullptr;
  size_t values_at = 0, grads_at = 0;
};

// The synchronization the config names, over `layout`'s gradients at grads (the layout's total
// length). min_bucket_elements: the smallest bucket of algorithms that cut buckets. host, when
// given, holds grads and the parameter values (the sharded sync uses it; the others ignore it).
// Throws UsageError naming the value when no algorithm is built for it.
std::unique_ptr<GradientSync> make_gradient_sync(pb::GradSync kind, Communicator& comm,
                                                 float* grads,
                                                 const std::vector<ParamBlock>& layout,
                                                 size_t min_bucket_elements,
                                                 const HostBuffers* host = nullptr);

}  // namespace mlp
