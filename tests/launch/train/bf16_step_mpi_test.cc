// The bf16 copy of the weights under mpirun: after every training step, on every rank, each
// entry is the bf16 rounding of its float32 parameter, whichever gradient sync ran (under the
// sharded one each rank writes its own slice's copy in the update and converts the others'), with
// max-norm rescaling after the update or not. Skipped where bf16 products do not run.
#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "core/bf16.h"
#include "dist/shard.h"
#include "launch/train/train_step.h"
#include "tests/core/gradient_check.h"
#include "tests/support/mpi_test_env.h"

namespace mlp {
namespace {

constexpr int kInputs = 64, kOutputs = 10, kBatch = 12;

// About 167,000 parameters: the sharded sync's slices cut the weight blocks between ranks.
pb::TrainConfig bf16_config(pb::GradSync sync, float max_norm) {
  pb::TrainConfig config;
  config.mutable_model()->set_hidden("512,256");
  config.mutable_model()->set_inputs(kInputs);
  config.mutable_model()->set_outputs(kOutputs);
  config.mutable_model()->set_max_norm(max_norm);
  config.mutable_optimizer()->set_lr(0.01f);
  config.set_grad_sync(sync);
  config.set_precision(pb::BF16);
  config.set_seed(23);
  return config;
}

// Entries whose copy is not the rounding of the parameter; read through the const store, which
// marks nothing stale.
size_t stale_entries(Model<float>& model) {
  const ParamStore<float>& store = std::as_const(model).store();
  const Bf16* copy = model.weights_bf16();
  size_t stale = 0;
  for (size_t i = 0; i < store.size(); ++i)
    stale += Eigen::numext::bit_cast<uint16_t>(copy[i]) != bf16_bits(store.values()[i]);
  return stale;
}

TEST(Bf16StepMpi, TheWeightsCopyIsTheirRoundingAfterEveryStepInEverySync) {
  if (!bf16_products_run()) GTEST_SKIP() << "no bf16 products on this CPU or build";
  Communicator& comm = test_world();
  const Matrix<float> all_x = test_matrix(kInputs, kBatch, 31, -1, 1).cast<float>();  // (I, N)
  const Shard mine = shard_of(kBatch, comm.rank(), comm.size());
  const Matrix<float> x = all_x.middleCols(mine.begin, mine.size());  // (I, n)
  std::vector<int32_t> labels;
  std::vector<int64_t> ids;
  for (int64_t j = mine.begin; j < mine.end; ++j) {
    labels.push_back(static_cast<int32_t>(j % kOutputs));
    ids.push_back(j);
  }
  for (const pb::GradSync sync : {pb::BLOCKING, pb::OVERLAP, pb::SHARDED}) {
    for (const float max_norm : {0.0f, 0.5f}) {
      const pb::TrainConfig config = bf16_config(sync, max_norm);
      Model<float> model(config.model(), {GemmBackend::kOnednn, Precision::kBf16});
      model.initialize(config.seed());
      TrainStep step(config, model, comm);
      for (int64_t s = 0; s < 3; ++s) {
        const StepShard shard{&x, Targets<float>{labels.data(), nullptr}, ids.data(), x.cols(),
                              kBatch, s};
        ASSERT_TRUE(step.run(shard, 0.01f).finite);
        EXPECT_EQ(stale_entries(model), 0u)
            << "sync " << sync << ", max-norm " << max_norm << ", step " << s << ", rank "
            << comm.rank() << " of " << comm.size();
      }
    }
  }
}

}  // namespace
}  // namespace mlp
