// The exact mode's sum over ranks (--exact-blocks). Each rank holds the gradients of its blocks
// already summed in int64 fixed point (core/block_pass.h); integer collectives add them over the
// ranks, exactly, so the sum has the same bits at every rank count and in any reduction order, and
// each rank turns its own slice back into floats while it is in cache. It keeps each tensor's
// exponent from step to step (the scale of the fixed point, core/fixed_point.h) and runs the one
// small agreement a step needs, as the float syncs do: the exponents the blocks' values reached,
// and the blocks' loss sums and correct counts, which every rank then adds in block order. When
// every rank runs on this host, the sums live in memory every rank maps, and each rank adds its
// slice straight from the others' sums: no messages, and the same sums, being exact.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/param_store.h"
#include "dist/communicator.h"

namespace mlp {

// One batch block's loss sum (unscaled) and correct count.
struct BlockScalars {
  double loss = 0;
  int64_t correct = 0;
};

class ExactSum {
 public:
  // layout: the parameter tensors of the flat gradient; blocks: N. owned: the part of the flat
  // buffer this rank updates (the float gradient sync's owned()); split: whether the ranks own
  // disjoint slices (splits_update()), which then tile the buffer in rank order. Collective: the
  // ranks exchange their slices once. Keeps a reference to comm.
  ExactSum(Communicator& comm, const std::vector<ParamBlock>& layout, int blocks, FlatRange owned,
           bool split);
  ExactSum(const ExactSum&) = delete;
  ExactSum& operator=(const ExactSum&) = delete;

  // A step's backward (BlockPass::backward) reads shifts() (one per tensor, from the exponents)
  // and writes sums() (the layout's length) and largest() (one per tensor).
  const int* shifts() const { return shifts_.data(); }
  int64_t* sums() { return sums_; }
  uint32_t* largest() { return largest_.data(); }

  enum class Outcome {
    kSum,        // sum() may run
    kRecompute,  // a tensor outgrew its scale (or had none yet): backward again at the new
                 // shifts(), then agree again
    kNonFinite,  // a loss or gradient value was not finite, or a sum could exceed a float
  };
  // Once per backward, on every rank. mine: the scalars of this rank's blocks, first_block.. in
  // order; losses_finite: whether this rank's losses were. Fills *all with every block's scalars
  // (N of them) and sets the exponents to those the blocks reached (unless kNonFinite): the
  // shifts follow at once for a recompute, after sum() otherwise. Allocates nothing after the
  // first call. Collective.
  Outcome agree(const std::vector<BlockScalars>& mine, int first_block, bool losses_finite,
                std::vector<BlockScalars>* all);
  // Whether this rank's own losses and gradients were finite in the last agree().
  bool locally_finite() const { return locally_finite_; }

  // After kSum: sums over ranks, and grads[owned] receives this rank's slice as floats (the rest
  // of grads is left as it was); then the shifts of the next step apply. Collective.
  void sum(float* grads);

  // Each tensor's exponent field for the next step (kNoExponent before the first). A checkpoint
  // keeps them, so that a resumed run converts with the scales it would have had.
  const std::vector<int>& exponents() const { return exponents_; }
  // Throws std::invalid_argument unless one value per tensor, each kNoExponent or 0..254.
  void set_exponents(const std::vector<int>& exponents);

 private:
  void refresh_shifts();
  // grads_[begin, end) from the sums of sources_ added, each tensor at its shift.
  void convert(size_t begin, size_t end);

  Communicator& comm_;
  std::vector<ParamBlock> layout_;
  int blocks_;
  FlatRange owned_;
  bool split_;
  std::vector<size_t> counts_;  // every rank's slice when split
  std::vector<int> exponents_, shifts_;
  std::vector<uint32_t> largest_;
  // On cache lines, so that the weight-gradient kernel streams its sums (fixed_weight_gradient.h):
  // in host_ when the ranks share a host, else in own_sums_.
  std::unique_ptr<HostSharedFloats> host_;
  std::vector<int64_t, Eigen::aligned_allocator<int64_t>> own_sums_;
  int64_t* sums_ = nullptr;
  size_t size_ = 0;
  // The sums convert() adds: this rank's, or on the host every rank's; at_ is scratch for their
  // addresses at one tensor.
  std::vector<const int64_t*> sources_, at_;
  std::vector<int64_t> agreement_;  // largest per tensor, then loss bits and correct per block
  bool locally_finite_ = true;
  float* grads_ = nullptr;                              // of the sum() in progress
  const std::function<void(size_t, size_t)> on_final_;  // convert, made once
};

}  // namespace mlp
