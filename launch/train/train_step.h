// One training step of one rank, written once: the trainer runs it, and so do the benchmarks
// (experiments/bench_step.cc alone, experiments/bench_dist.cc under mpirun), so that what they
// measure is what trains. On the rank's shard of a global batch: forward, loss, backward with the
// gradient sum starting as layers finish, the sum over ranks, the optimizer's update of the range
// this rank owns, the max-norm constraint there (its norms combined over ranks), and sharing it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/loss.h"
#include "core/max_norm.h"
#include "core/model.h"
#include "core/optimizer.h"
#include "dist/communicator.h"
#include "dist/gradient_sync.h"
#include "launch/train/evaluation.h"
#include "proto/config.pb.h"

namespace mlp {

class PhaseClock;

// This rank's part of the global batch of one step, already gathered.
struct StepShard {
  const Matrix<float>* x = nullptr;  // (I, n); not read when n is 0
  Targets<float> targets;            // of the n columns
  const int64_t* ids = nullptr;      // (n) global sample index of each column, keys dropout
  int64_t count = 0;                 // n, 0 when the rank has no sample this step
  int64_t global_batch = 0;          // B over all ranks: each loss is scaled by 1/B
  int64_t global_step = 0;           // keys dropout; names the step in the watchdog's message
};

// Milliseconds of the phases of one step, for the benchmarks; they add up to the whole step.
struct StepTimes {
  double forward_ms = 0;    // with the step's start (the sync's set-up)
  double loss_ms = 0;       // loss, its gradient and the correct count
  double backward_ms = 0;   // with the sync's work started as layers finish
  double sync_ms = 0;       // the sum's part exposed after backward (GradientSync::finish)
  double optimizer_ms = 0;  // the update of the owned range, and max-norm there
  double share_ms = 0;      // sharing the updated range with the other ranks
};

struct StepResult {
  Sums sums;  // this rank's loss (the unscaled sum), correct count and sample count
  // False on every rank when some rank's loss or gradient was non-finite; then nothing was
  // updated, and locally_finite says whether this rank's own were finite.
  bool finite = true;
  bool locally_finite = true;
};

class ExactStep;

class TrainStep {
 public:
  // The loss, optimizer and gradient sync that `config` names (model.loss, optimizer,
  // grad_sync, grad_bucket_kb), over `model`'s parameters; the dropout seed and max-norm
  // constraint from config too. Keeps references to model and comm. Collective. Under the
  // sharded sync with every rank on one host it moves the model's parameters and gradients into
  // memory the ranks share and keeps it: the model is then used only while the step lives.
  // With config.exact_blocks() > 0, the exact mode's forward, backward and sum (exact_step.h)
  // replace the float ones.
  TrainStep(const pb::TrainConfig& config, Model<float>& model, Communicator& comm);
  ~TrainStep();
  TrainStep(const TrainStep&) = delete;
  TrainStep& operator=(const TrainStep&) = delete;

  // One step at `learning_rate`. Reads the shard; OVERWRITES the model's gradients, updates its
  // parameters and the optimizer state (unless the step is not finite). Fills *times when
  // given. Collective: every rank calls it for the same step, with or without samples.
  StepResult run(const StepShard& shard, float learning_rate, StepTimes* times = nullptr);

  const Loss<float>& loss() const { return *loss_; }
  Optimizer& optimizer() { return *optimizer_; }
  GradientSync& sync() { return *sync_; }
  // The max-norm constraint of the config, null when off.
  const MaxNorm* max_norm() const { return max_norm_.get(); }
  // The exact mode's fixed-point exponents (ExactSum::exponents), which a checkpoint keeps;
  // empty when the mode is off. Setting an empty list changes nothing.
  std::vector<int> exact_exponents() const;
  void set_exact_exponents(const std::vector<int>& exponents);
  // Backwards the exact mode computed again because a tensor outgrew its scale; 0 when off.
  int64_t exact_recomputes() const;

 private:
  // The float forward, loss, backward and gradient sync of every mode but the exact one.
  StepResult sum_gradients(const StepShard& shard, PhaseClock& clock);

  Model<float>& model_;
  Communicator& comm_;
  const uint64_t seed_;
  std::unique_ptr<MaxNorm> max_norm_;  // null: off
  std::unique_ptr<Loss<float>> loss_;
  std::unique_ptr<Optimizer> optimizer_;
  // Under the sharded sync with every rank on one host, the memory the model's parameters and
  // gradients are placed in, which the other ranks read; it outlives every use of the model.
  HostBuffers host_;
  std::unique_ptr<HostSharedFloats> host_memory_;
  std::unique_ptr<GradientSync> sync_;
  const std::function<void(size_t, size_t)> on_ready_;  // the sync's, made once
  Matrix<float> doutputs_;                              // (O, n)
  std::unique_ptr<ExactStep> exact_;                    // null unless exact_blocks > 0
};

}  // namespace mlp
