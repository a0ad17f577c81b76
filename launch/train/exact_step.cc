// The exact mode's forward, backward and sum; see exact_step.h.
#include "launch/train/exact_step.h"

#include <cmath>
#include <stdexcept>

#include "dist/shard.h"

namespace mlp {

ExactStep::ExactStep(int blocks, uint64_t seed, Model<float>& model, Communicator& comm,
                     const Loss<float>& loss, FlatRange owned, bool split)
    : blocks_(blocks),
      seed_(seed),
      model_(model),
      comm_(comm),
      loss_(loss),
      pass_(model),
      sum_(comm, model.store().layout(), blocks, owned, split) {}

StepResult ExactStep::run(const StepShard& shard, PhaseClock& clock) {
  const Shard mine = blocks_of(blocks_, comm_.rank(), comm_.size());
  sizes_.clear();
  int64_t columns = 0;
  for (int64_t k = mine.begin; k < mine.end; ++k) {
    sizes_.push_back(shard_of(shard.global_batch, static_cast<int>(k), blocks_).size());
    columns += sizes_.back();
  }
  if (columns != shard.count)
    throw std::logic_error("ExactStep: the shard is not this rank's blocks of the batch");
  const ForwardContext context{true, seed_, shard.global_step, shard.ids};
  static const Matrix<float> kNoColumns;
  pass_.forward(shard.count > 0 ? *shard.x : kNoColumns, sizes_, context);
  clock.lap(&StepTimes::forward_ms);

  // Each block's loss from its own outputs: scaled by the GLOBAL batch, as in every mode.
  const float scale = 1.0f / static_cast<float>(shard.global_batch);
  mine_.resize(sizes_.size());
  target_values_.resize(sizes_.size());
  bool losses_finite = true;
  int64_t first = 0;
  for (size_t b = 0; b < sizes_.size(); ++b) {
    Targets<float> targets;
    if (shard.targets.labels != nullptr) targets.labels = shard.targets.labels + first;
    if (shard.targets.values != nullptr) {
      target_values_[b] = shard.targets.values->middleCols(first, sizes_[b]);
      targets.values = &target_values_[b];
    }
    const Matrix<float>& outputs = pass_.outputs(b);  // (O, n_b)
    mine_[b].loss = loss_.evaluate(outputs, targets, scale, &pass_.doutputs(b));
    mine_[b].correct = loss_.count_correct(outputs, targets);
    losses_finite = losses_finite && std::isfinite(mine_[b].loss);
    first += sizes_[b];
  }
  clock.lap(&StepTimes::loss_ms);

  ExactSum::Outcome outcome;
  do {
    pass_.backward(sum_.shifts(), sum_.sums(), sum_.largest());
    clock.lap(&StepTimes::backward_ms);
    outcome = sum_.agree(mine_, static_cast<int>(mine.begin), losses_finite, &all_);
    if (outcome == ExactSum::Outcome::kRecompute) ++recomputes_;
  } while (outcome == ExactSum::Outcome::kRecompute);

  StepResult result;
  result.locally_finite = sum_.locally_finite();
  result.finite = outcome == ExactSum::Outcome::kSum;
  if (result.finite) sum_.sum(model_.store().grads());
  clock.lap(&StepTimes::sync_ms);
  if (comm_.rank() == 0) {
    // In block order from +0, whatever the rank count.
    for (const BlockScalars& s : all_) {
      result.sums.loss += s.loss;
      result.sums.correct += static_cast<double>(s.correct);
    }
    result.sums.count = static_cast<double>(shard.global_batch);
  }
  return result;
}

}  // namespace mlp
