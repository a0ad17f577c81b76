// Max-norm in the training step under mpirun with the sharded sync, where each rank rescales only
// its slice from norms combined over ranks: the constrained weights equal a double-precision
// reference within 1e-6, every rank holds the same bits, at one and two ranks they are the bits
// of the blocking sync (at more ranks the two syncs sum gradients in other orders), and from the
// same parameters every rank count computes the norms and the result of one process, bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "dist/shard.h"
#include "launch/train/train_step.h"
#include "tests/core/gradient_check.h"
#include "tests/launch/replica_checks.h"
#include "tests/support/mpi_test_env.h"

namespace mlp {
namespace {

constexpr int kInputs = 64, kOutputs = 10, kBatch = 12;

// About 167,000 parameters, so that the sharded sync's slices (whole pieces of max-norm's grid)
// cut the second weight block between ranks; a bound every row of He initialization exceeds.
pb::TrainConfig max_norm_config(float bound) {
  pb::TrainConfig config;
  config.mutable_model()->set_hidden("512,256");
  config.mutable_model()->set_inputs(kInputs);
  config.mutable_model()->set_outputs(kOutputs);
  config.mutable_model()->set_max_norm(bound);
  config.mutable_optimizer()->set_lr(0.01f);
  config.set_grad_sync(pb::SHARDED);
  config.set_seed(17);
  return config;
}

// A model, its step on comm, and this rank's shard of a fixed global batch.
struct StepRun {
  StepRun(const pb::TrainConfig& config, Communicator& comm)
      : model(config.model()), step(config, model, comm) {
    model.initialize(config.seed());
    const Shard mine = shard_of(kBatch, comm.rank(), comm.size());
    x = all_x.middleCols(mine.begin, mine.size());
    for (int64_t j = mine.begin; j < mine.end; ++j) {
      labels.push_back(static_cast<int32_t>(j % kOutputs));
      ids.push_back(j);
    }
  }
  void run(int64_t global_step, float lr = 0.01f) {
    const StepShard shard{
        &x, Targets<float>{labels.data(), nullptr}, ids.data(), x.cols(), kBatch, global_step};
    ASSERT_TRUE(step.run(shard, lr).finite);
  }
  std::vector<float> params() const {
    return {model.store().values(), model.store().values() + model.store().size()};
  }

  Matrix<float> all_x = test_matrix(kInputs, kBatch, 31, -1, 1).cast<float>();  // (I, N)
  Model<float> model;
  TrainStep step;
  Matrix<float> x;  // (I, n)
  std::vector<int32_t> labels;
  std::vector<int64_t> ids;
};

TEST(MaxNormMpi, ShardedStepsEqualADoublePrecisionReference) {
  Communicator& comm = test_world();
  const float bound = 0.5f;
  StepRun constrained(max_norm_config(bound), comm);
  StepRun unconstrained(max_norm_config(0), comm);
  ASSERT_TRUE(constrained.step.sync().splits_update() == (comm.size() > 1));
  for (int64_t s = 0; s < 3; ++s) {
    // The unconstrained twin starts each step where the constrained one is, so after the step it
    // holds the update max-norm was applied to.
    std::copy(constrained.model.store().values(),
              constrained.model.store().values() + constrained.model.store().size(),
              unconstrained.model.store().values());
    unconstrained.step.optimizer().slots() = constrained.step.optimizer().slots();
    unconstrained.step.optimizer().set_step_count(constrained.step.optimizer().step_count());
    constrained.run(s);
    unconstrained.run(s);
    const ParamStore<float>& got = constrained.model.store();
    const ParamStore<float>& updated = unconstrained.model.store();
    int bound_rows = 0;
    for (size_t b = 0; b < got.layout().size(); ++b) {
      const auto w = updated.param(static_cast<int>(b)).cast<double>();  // (O, I)
      const auto result = got.param(static_cast<int>(b));
      for (Eigen::Index o = 0; o < w.rows(); ++o) {
        const double norm = w.row(o).norm();
        const bool binds = got.layout()[b].roles.max_normed && norm > bound;
        bound_rows += binds;
        for (Eigen::Index i = 0; i < w.cols(); ++i) {
          const double expected = binds ? w(o, i) * bound / norm : w(o, i);
          ASSERT_LE(std::abs(result(o, i) - expected), 1e-6 * std::abs(expected))
              << got.layout()[b].name << " (" << o << ", " << i << ") at step " << s;
        }
      }
    }
    // All rows of the initialization are over the bound; later, those the update lengthened.
    if (s == 0) {
      EXPECT_EQ(bound_rows, 512 + 256 + kOutputs);
    }
    EXPECT_GT(bound_rows, 100) << "step " << s;
    expect_bit_identical_on_all_ranks(constrained.params());
  }
}

TEST(MaxNormMpi, ShardedStepsAreBitwiseBlockingOnesAtTwoRanks) {
  Communicator& comm = test_world();
  pb::TrainConfig config = max_norm_config(0.5f);
  StepRun sharded(config, comm);
  config.set_grad_sync(pb::BLOCKING);
  StepRun blocking(config, comm);
  ASSERT_FALSE(blocking.step.sync().splits_update());
  for (int64_t s = 0; s < 3; ++s) {
    sharded.run(s);
    blocking.run(s);
  }
  if (comm.size() <= 2) {
    EXPECT_EQ(sharded.params(), blocking.params());
  } else {
    EXPECT_LE(relative_difference(sharded.params(), blocking.params()), 1e-6);
  }
  expect_bit_identical_on_all_ranks(sharded.params());
}

// A zero learning rate leaves the parameters where they are whatever the gradient sum, so every
// rank count applies max-norm to the same values: the norms, summed in double from each rank's
// pieces, must be one process's bit for bit (a float result would hide most differences of their
// rounding).
TEST(MaxNormMpi, NormsAreBitwiseOneProcessesAtEveryRankCount) {
  const pb::TrainConfig config = max_norm_config(0.5f);
  StepRun ranks(config, test_world());
  std::unique_ptr<Communicator> local = make_local_communicator();
  StepRun alone(config, *local);
  ranks.run(0, 0.0f);
  alone.run(0, 0.0f);
  const std::vector<ParamBlock>& layout = ranks.model.store().layout();
  for (size_t b = 0; b < layout.size(); ++b) {
    if (!layout[b].roles.max_normed) continue;
    std::vector<double> sharded(static_cast<size_t>(layout[b].rows));
    std::vector<double> whole(sharded.size());
    ranks.step.max_norm()->squared_norms(b, sharded.data());
    alone.step.max_norm()->squared_norms(b, whole.data());
    EXPECT_EQ(sharded, whole) << layout[b].name;
  }
  EXPECT_EQ(ranks.params(), alone.params());
}

}  // namespace
}  // namespace mlp
