// Setting a run up the same way on every rank: the data loaded and proven identical across
// ranks, the model initialized identically everywhere, and the run's length from the config.
// Collective where marked; a failure on one rank stops every rank together.
#pragma once

#include <cstdint>
#include <memory>

#include "core/batch_plan.h"
#include "core/model.h"
#include "dist/communicator.h"
#include "launch/train/data_loading.h"
#include "proto/config.pb.h"

namespace mlp {

// What the config asks of the machine and the rank count, before any work. Collective: every rank
// throws the same AgreedError, for rank 0 to report, when bf16 products are asked of a CPU without
// bf16 instructions, or when the exact mode, which computes whole blocks, at least one per rank,
// has more ranks than config.exact_blocks().
void check_run_can_start(const pb::TrainConfig& config, Communicator& comm);

// Loads the data on every rank (resolving the model's input and output sizes into config),
// then checks that ranks hold the same resolved config and training data. Returns the training
// data's fingerprint. Collective.
uint64_t load_agreed_data(Communicator& comm, pb::TrainConfig* config, TrainingData* data);

// The model initialized from config's seed, rank 0's parameters broadcast and their hash
// checked on every rank. Collective.
std::unique_ptr<Model<float>> build_agreed_model(Communicator& comm, const pb::TrainConfig& config);

// The global step the run stops at (max_steps, or no limit).
int64_t step_limit(const pb::TrainConfig& config);
// The run length the learning-rate schedule spans.
int64_t planned_steps(const pb::TrainConfig& config, const BatchPlan& plan);

}  // namespace mlp
