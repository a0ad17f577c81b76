// The exact mode's part of a training step (--exact-blocks N), up to the summed gradient: this
// rank's blocks of the global batch through the per-block forward, loss and backward
// (core/block_pass.h), and the exact sum over ranks (dist/exact_sum.h). TrainStep runs it in place
// of its forward, backward and float gradient sync, then updates, constrains and shares the
// parameters as in every mode; the optimizer and max-norm already give the same bits at every
// rank count, so the whole step does.
#pragma once

#include <cstdint>
#include <vector>

#include "core/block_pass.h"
#include "core/loss.h"
#include "core/model.h"
#include "dist/communicator.h"
#include "dist/exact_sum.h"
#include "launch/train/phase_clock.h"
#include "launch/train/train_step.h"

namespace mlp {

class ExactStep {
 public:
  // blocks: N; owned and split: the float gradient sync's owned() and splits_update(), whose
  // slices the sum fills. Keeps references to model, comm and loss. Collective.
  ExactStep(int blocks, uint64_t seed, Model<float>& model, Communicator& comm,
            const Loss<float>& loss, FlatRange owned, bool split);

  // Forward, loss, backward and sum of one step: shard holds this rank's blocks of the global
  // batch (dist/shard.h's step_shard). Afterwards the model's grads[owned] hold the sum over all
  // blocks, unless the step was not finite (result.finite false on every rank). result.sums are
  // the totals over all blocks, added in block order, on rank 0 and zeros on the other ranks, so
  // that a sum over ranks gives the totals exactly. Recomputes the backward, on every rank, when
  // a tensor's gradient outgrew its scale. Collective.
  StepResult run(const StepShard& shard, PhaseClock& clock);

  // The fixed point's exponents, which a checkpoint keeps (ExactSum::exponents).
  const std::vector<int>& exponents() const { return sum_.exponents(); }
  void set_exponents(const std::vector<int>& exponents) { sum_.set_exponents(exponents); }
  // Backwards computed again because a tensor outgrew its scale, since construction.
  int64_t recomputes() const { return recomputes_; }

 private:
  const int blocks_;
  const uint64_t seed_;
  Model<float>& model_;
  Communicator& comm_;
  const Loss<float>& loss_;
  BlockPass pass_;
  ExactSum sum_;
  std::vector<int64_t> sizes_;                // of this rank's blocks this step
  std::vector<Matrix<float>> target_values_;  // per block, (K, n_b), for regression targets
  std::vector<BlockScalars> mine_, all_;
  int64_t recomputes_ = 0;
};

}  // namespace mlp
