// The training step under mpirun in every gradient sync, with dropout and max-norm: after its first
// step it allocates nothing, the collectives included, also on a rank without samples in the batch,
// and in the exact mode.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "dist/shard.h"
#include "launch/train/train_step.h"
#include "tests/core/gradient_check.h"
#include "tests/support/allocation_count.h"
#include "tests/support/mpi_test_env.h"

namespace mlp {
namespace {

TEST(TrainStepMpi, AllocatesNothingAfterItsFirstStepInEverySync) {
  Communicator& comm = test_world();
  constexpr int kInputs = 20, kOutputs = 4;
  // Rank 1 has no samples, so a step's zero gradients are covered too (at 2 ranks and more).
  const int64_t count = comm.rank() == 1 ? 0 : 6;
  const Matrix<float> x = test_matrix(kInputs, 6, 3 + comm.rank()).cast<float>();  // (I, N)
  const std::vector<int32_t> labels = {0, 3, 1, 2, 2, 0};
  std::vector<int64_t> ids(6);
  for (int64_t i = 0; i < 6; ++i) ids[i] = comm.rank() * 6 + i;
  for (const pb::GradSync mode : {pb::BLOCKING, pb::OVERLAP, pb::SHARDED}) {
    pb::TrainConfig config;
    config.mutable_model()->set_hidden("16,8");
    config.mutable_model()->set_inputs(kInputs);
    config.mutable_model()->set_outputs(kOutputs);
    config.mutable_model()->set_dropout(0.2f);
    config.mutable_model()->set_max_norm(1.0f);  // with its allreduce of norms when sharded
    config.set_grad_sync(mode);
    config.set_grad_bucket_kb(1);  // several buckets for the overlap sync
    Model<float> model(config.model());
    model.initialize(config.seed());
    TrainStep step(config, model, comm);
    const Targets<float> targets{labels.data(), nullptr};
    StepShard shard{&x, targets, ids.data(), count, 6 * comm.size(), 0};
    ASSERT_TRUE(step.run(shard, 0.01f).finite);
    const int64_t before = test::allocation_count();
    for (shard.global_step = 1; shard.global_step <= 3; ++shard.global_step) step.run(shard, 0.01f);
    EXPECT_EQ(test::allocation_count() - before, 0) << pb::GradSync_Name(mode);
  }
}

TEST(TrainStepMpi, TheExactModeAllocatesNothingAfterItsFirstStep) {
  Communicator& comm = test_world();
  constexpr int kInputs = 20, kOutputs = 4, kBatch = 26, kBlocks = 4;
  const Shard mine = step_shard(kBatch, kBlocks, comm.rank(), comm.size());
  const Matrix<float> x = test_matrix(kInputs, static_cast<int>(mine.size()), 3).cast<float>();
  std::vector<int32_t> labels(static_cast<size_t>(mine.size()));
  std::vector<int64_t> ids(labels.size());
  for (size_t i = 0; i < ids.size(); ++i)
    ids[i] = mine.begin + static_cast<int64_t>(i), labels[i] = static_cast<int32_t>(ids[i] % 4);
  for (const pb::GradSync mode : {pb::BLOCKING, pb::SHARDED}) {
    pb::TrainConfig config;
    config.mutable_model()->set_hidden("16,8");
    config.mutable_model()->set_inputs(kInputs);
    config.mutable_model()->set_outputs(kOutputs);
    config.mutable_model()->set_dropout(0.2f);
    config.set_grad_sync(mode);
    config.set_exact_blocks(kBlocks);
    Model<float> model(config.model());
    model.initialize(config.seed());
    TrainStep step(config, model, comm);
    StepShard shard{&x, {labels.data(), nullptr}, ids.data(), mine.size(), kBatch, 0};
    ASSERT_TRUE(step.run(shard, 0.01f).finite);
    const int64_t before = test::allocation_count();
    for (shard.global_step = 1; shard.global_step <= 3; ++shard.global_step) step.run(shard, 0.01f);
    EXPECT_EQ(test::allocation_count() - before, 0) << pb::GradSync_Name(mode);
  }
}

}  // namespace
}  // namespace mlp
