// The training step; see train_step.h. Its order is the contract the bitwise tests hold it to:
// the same operations in the same order on every rank, at every rank count, resumed or not.
#include "launch/train/train_step.h"

#include <cmath>

#include "launch/train/exact_step.h"
#include "launch/train/phase_clock.h"

namespace mlp {

namespace {

// With the sharded sync and every rank on this host: the store's buffers moved into memory every
// rank maps (values first, the gradients from the next 64-byte boundary), described in *where.
std::unique_ptr<HostSharedFloats> place_on_host(const pb::TrainConfig& config,
                                                ParamStore<float>& store, Communicator& comm,
                                                HostBuffers* where) {
  if (config.grad_sync() != pb::SHARDED) return nullptr;
  const size_t grads_at = (store.size() + 15) / 16 * 16;
  std::unique_ptr<HostSharedFloats> memory = comm.share_on_host(grads_at + store.size());
  if (memory == nullptr) return nullptr;
  store.place(memory->mine(), memory->mine() + grads_at);
  *where = HostBuffers{memory.get(), 0, grads_at};
  return memory;
}

}  // namespace

TrainStep::TrainStep(const pb::TrainConfig& config, Model<float>& model, Communicator& comm)
    : model_(model),
      comm_(comm),
      seed_(config.seed()),
      max_norm_(config.model().max_norm() > 0
                    ? std::make_unique<MaxNorm>(model.store().layout(), config.model().max_norm())
                    : nullptr),
      loss_(make_loss<float>(config.model().loss())),
      optimizer_(make_optimizer(config.optimizer(), model.store().layout())),
      host_memory_(place_on_host(config, model.store(), comm, &host_)),
      sync_(make_gradient_sync(
          config.grad_sync(), comm, model.store().grads(), model.store().layout(),
          static_cast<size_t>(config.grad_bucket_kb()) * 1024 / sizeof(float), &host_)),
      on_ready_([this](size_t begin, size_t end) { sync_->on_ready(begin, end); }) {
  if (config.exact_blocks() > 0)
    exact_ = std::make_unique<ExactStep>(config.exact_blocks(), config.seed(), model, comm, *loss_,
                                         sync_->owned(), sync_->splits_update());
}

TrainStep::~TrainStep() = default;

std::vector<int> TrainStep::exact_exponents() const {
  return exact_ ? exact_->exponents() : std::vector<int>{};
}

void TrainStep::set_exact_exponents(const std::vector<int>& exponents) {
  if (exact_ && !exponents.empty()) exact_->set_exponents(exponents);
}

int64_t TrainStep::exact_recomputes() const { return exact_ ? exact_->recomputes() : 0; }

StepResult TrainStep::run(const StepShard& shard, float learning_rate, StepTimes* times) {
  PhaseClock clock(times);
  ParamStore<float>& store = model_.store_for_step();
  comm_.set_activity({"gradient sync", shard.global_step});
  const StepResult result = exact_ ? exact_->run(shard, clock) : sum_gradients(shard, clock);
  if (!result.finite) return result;
  const FlatRange owned = sync_->owned();
  // Under bf16 the update writes the bf16 copy of the weights it updates, unless max-norm may
  // rescale them afterwards: then the copy is written after the rescale.
  optimizer_->step(store.values(), store.grads(), learning_rate, owned,
                   max_norm_ == nullptr ? model_.weights_bf16() : nullptr);
  if (max_norm_ != nullptr) {
    // A unit's weights lie in every rank's slice: its norm needs every rank's piece sums.
    max_norm_->sum_pieces(store.values(), owned);
    if (sync_->splits_update())
      comm_.allreduce_sum(max_norm_->piece_sums(), max_norm_->piece_sum_count());
    max_norm_->rescale(store.values(), owned);
    model_.refresh_weights_bf16(owned);
  }
  clock.lap(&StepTimes::optimizer_ms);
  sync_->share_owned(store.values());
  // The other ranks' slices arrive in float; each rank converts them itself (the same bits as
  // their owners' copies) rather than receiving them again in bf16.
  if (sync_->splits_update()) {
    model_.refresh_weights_bf16({0, owned.begin});
    model_.refresh_weights_bf16({owned.end, store.size()});
  }
  clock.lap(&StepTimes::share_ms);
  return result;
}

StepResult TrainStep::sum_gradients(const StepShard& shard, PhaseClock& clock) {
  ParamStore<float>& store = model_.store_for_step();
  StepResult result;
  result.sums.count = static_cast<double>(shard.count);
  // Backward overwrites the gradients; a rank without samples this step contributes zeros.
  if (shard.count == 0) store.zero_grads();
  sync_->begin_step();
  if (shard.count > 0) {
    const ForwardContext context{true, seed_, shard.global_step, shard.ids};
    const Matrix<float>& outputs = model_.forward(*shard.x, context);  // (O, n)
    clock.lap(&StepTimes::forward_ms);
    // Scaled by the GLOBAL batch: the rank sum is the mean gradient whatever the rank count.
    result.sums.loss = loss_->evaluate(outputs, shard.targets,
                                       1.0f / static_cast<float>(shard.global_batch), &doutputs_);
    result.sums.correct = static_cast<double>(loss_->count_correct(outputs, shard.targets));
    clock.lap(&StepTimes::loss_ms);
    model_.backward(*shard.x, doutputs_, on_ready_);
    clock.lap(&StepTimes::backward_ms);
  }
  result.finite = sync_->finish(std::isfinite(result.sums.loss));
  result.locally_finite = sync_->locally_finite();
  clock.lap(&StepTimes::sync_ms);
  return result;
}

}  // namespace mlp
