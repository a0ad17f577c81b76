// Run set-up across ranks; see run_setup.h.
#include "launch/train/run_setup.h"

#include <algorithm>
#include <limits>
#include <string>

#include "core/bf16.h"
#include "core/config_fields.h"
#include "core/hash.h"
#include "dist/agreement.h"

namespace mlp {

void check_run_can_start(const pb::TrainConfig& config, Communicator& comm) {
  if (config.precision() == pb::BF16)
    run_on_all_or_fail_together(comm, [] { require_bf16_cpu("--precision bf16"); });
  const int blocks = config.exact_blocks();
  if (blocks == 0 || comm.size() <= blocks) return;
  throw AgreedError(ExitCode::kUsage,
                    "--exact-blocks " + std::to_string(blocks) + ": " +
                        std::to_string(comm.size()) +
                        " ranks cannot each compute whole blocks of the batch; run at most " +
                        std::to_string(blocks) + " ranks or raise --exact-blocks");
}

uint64_t load_agreed_data(Communicator& comm, pb::TrainConfig* config, TrainingData* data) {
  // Set-up failures (bad data on one node, say) stop every rank together with one message.
  run_on_all_or_fail_together(comm, [&] { *data = load_training_data(config); });
  const uint64_t data_fingerprint = fingerprint(data->train);
  check_same_on_all_ranks(comm, "the resolved config", message_hash(*config));
  check_same_on_all_ranks(comm, "the training data", data_fingerprint);
  return data_fingerprint;
}

std::unique_ptr<Model<float>> build_agreed_model(Communicator& comm,
                                                 const pb::TrainConfig& config) {
  auto model = std::make_unique<Model<float>>(config.model());
  // Same seed gives the same initialization everywhere; the broadcast and hash check make a
  // rank that differs (another build, another library) an error rather than a silent fork.
  model->initialize(config.seed());
  ParamStore<float>& store = model->store();
  comm.set_activity({"broadcasting initial parameters"});
  comm.broadcast(store.values(), store.size() * sizeof(float), 0);
  check_same_on_all_ranks(comm, "the initial parameters",
                          fnv1a(store.values(), store.size() * sizeof(float)));
  return model;
}

int64_t step_limit(const pb::TrainConfig& config) {
  return config.max_steps() > 0 ? config.max_steps() : std::numeric_limits<int64_t>::max();
}

int64_t planned_steps(const pb::TrainConfig& config, const BatchPlan& plan) {
  return std::min<int64_t>(step_limit(config), plan.steps_per_epoch() * config.epochs());
}

}  // namespace mlp
