// The training step alone, on the local communicator: it changes the parameters and the
// optimizer state bitwise as the sequence it stands for written out by hand, a rank without
// samples contributes zero gradients, a non-finite loss or gradient is reported without an
// update, timing the phases changes nothing, and no step after the first allocates; bf16 steps,
// which keep the weights' bf16 copy current themselves, are bitwise the sequence by hand too.
#include "launch/train/train_step.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "core/bf16.h"
#include "core/max_norm.h"
#include "tests/core/gradient_check.h"
#include "tests/core/model_configs.h"
#include "tests/support/allocation_count.h"

namespace mlp {
namespace {

constexpr int kInputs = 6, kOutputs = 3, kBatch = 5;

// Dropout and max-norm on, so that the seed, the step, the sample ids and the constraint all
// take part; a max-norm small enough to bind.
pb::TrainConfig step_config() {
  pb::TrainConfig config;
  *config.mutable_model() =
      model_config("7,4", pb::TANH, pb::SOFTMAX_CROSS_ENTROPY, kInputs, kOutputs);
  config.mutable_model()->set_dropout(0.25f);
  config.mutable_model()->set_input_dropout(0.1f);
  config.mutable_model()->set_max_norm(0.9f);
  config.set_seed(11);
  return config;
}

// A model with the config's weights, and a batch for it.
struct Fixture {
  pb::TrainConfig config = step_config();
  std::unique_ptr<Communicator> comm = make_local_communicator();
  Model<float> model{config.model()};
  Matrix<float> x = test_matrix(kInputs, kBatch, 21, -2, 2).cast<float>();  // (I, N)
  std::vector<int32_t> labels = {2, 0, 1, 1, 2};
  std::vector<int64_t> ids = {40, 3, 17, 8, 29};
  Fixture() { model.initialize(config.seed()); }
  StepShard shard(int64_t global_step) {
    return {&x, Targets<float>{labels.data(), nullptr}, ids.data(), kBatch, kBatch, global_step};
  }
};

std::vector<float> params_of(const Model<float>& model) {
  return {model.store().values(), model.store().values() + model.store().size()};
}

TEST(TrainStep, ChangesParametersBitwiseAsTheSequenceByHand) {
  Fixture stepped, by_hand;
  TrainStep step(stepped.config, stepped.model, *stepped.comm);
  const auto loss = make_loss<float>(by_hand.config.model().loss());
  const auto optimizer = make_optimizer(by_hand.config.optimizer(), by_hand.model.store().layout());
  ParamStore<float>& store = by_hand.model.store();
  Matrix<float> doutputs;  // (O, N)
  for (int64_t s = 0; s < 3; ++s) {
    const float lr = 0.05f / static_cast<float>(s + 1);
    const StepResult result = step.run(stepped.shard(s), lr);

    const ForwardContext ctx{true, by_hand.config.seed(), s, by_hand.ids.data()};
    const Matrix<float>& outputs = by_hand.model.forward(by_hand.x, ctx);
    const Targets<float> targets{by_hand.labels.data(), nullptr};
    const double sum = loss->evaluate(outputs, targets, 1.0f / kBatch, &doutputs);
    const double correct = static_cast<double>(loss->count_correct(outputs, targets));
    by_hand.model.backward(by_hand.x, doutputs);
    optimizer->step(store.values(), store.grads(), lr);
    apply_max_norm(store, by_hand.config.model().max_norm());

    ASSERT_TRUE(result.finite);
    EXPECT_TRUE(result.locally_finite);
    EXPECT_EQ(result.sums.loss, sum) << "step " << s;
    EXPECT_EQ(result.sums.correct, correct);
    EXPECT_EQ(result.sums.count, kBatch);
    ASSERT_EQ(params_of(stepped.model), params_of(by_hand.model)) << "step " << s;
  }
  EXPECT_EQ(step.optimizer().slots(), optimizer->slots());
  EXPECT_EQ(step.optimizer().step_count(), 3);
}

// A rank whose shard of the global batch is empty still takes part, with zero gradients.
TEST(TrainStep, ARankWithoutSamplesContributesZeroGradients) {
  Fixture f;
  TrainStep step(f.config, f.model, *f.comm);
  ASSERT_TRUE(step.run(f.shard(0), 0.01f).finite);
  StepShard empty = f.shard(1);
  empty.count = 0;
  const StepResult result = step.run(empty, 0.01f);
  EXPECT_TRUE(result.finite);
  EXPECT_EQ(result.sums.count, 0);
  EXPECT_EQ(result.sums.loss, 0);
  const ParamStore<float>& store = f.model.store();
  EXPECT_EQ(ConstVectorMap<float>(store.grads(), store.size()).cwiseAbs().maxCoeff(), 0.0f);
}

TEST(TrainStep, NonFiniteLossIsReportedAndNothingIsUpdated) {
  Fixture f;
  TrainStep step(f.config, f.model, *f.comm);
  f.x(2, 3) = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> before = params_of(f.model);
  const StepResult result = step.run(f.shard(0), 0.01f);
  EXPECT_FALSE(result.finite);
  EXPECT_FALSE(result.locally_finite);
  EXPECT_TRUE(std::isnan(result.sums.loss));
  EXPECT_EQ(params_of(f.model), before);
  EXPECT_EQ(step.optimizer().step_count(), 0);
}

// An infinite input saturates tanh, so the loss stays finite, but the weight gradient of the
// first layer is not.
TEST(TrainStep, NonFiniteGradientWithAFiniteLossIsReported) {
  Fixture f;
  TrainStep step(f.config, f.model, *f.comm);
  f.x(2, 3) = std::numeric_limits<float>::infinity();
  const std::vector<float> before = params_of(f.model);
  const StepResult result = step.run(f.shard(0), 0.01f);
  EXPECT_TRUE(std::isfinite(result.sums.loss));
  EXPECT_FALSE(result.finite);
  EXPECT_FALSE(result.locally_finite);
  EXPECT_EQ(params_of(f.model), before);
}

TEST(TrainStep, TimingThePhasesChangesNothing) {
  Fixture timed, untimed;
  TrainStep timed_step(timed.config, timed.model, *timed.comm);
  TrainStep untimed_step(untimed.config, untimed.model, *untimed.comm);
  for (int64_t s = 0; s < 2; ++s) {
    StepTimes times;
    times.forward_ms = -1;  // overwritten, not added to
    const StepResult a = timed_step.run(timed.shard(s), 0.02f, &times);
    const StepResult b = untimed_step.run(untimed.shard(s), 0.02f);
    EXPECT_EQ(a.sums.loss, b.sums.loss);
    for (const double ms : {times.forward_ms, times.loss_ms, times.backward_ms, times.sync_ms,
                            times.optimizer_ms, times.share_ms})
      EXPECT_GE(ms, 0.0);
  }
  EXPECT_EQ(params_of(timed.model), params_of(untimed.model));
}

// What model.h promises: the first step sizes the buffers, and no step after it allocates.
TEST(TrainStep, AllocatesNothingAfterItsFirstStep) {
  Fixture f;
  TrainStep step(f.config, f.model, *f.comm);
  StepTimes times;
  ASSERT_TRUE(step.run(f.shard(0), 0.01f).finite);
  const int64_t before = test::allocation_count();
  for (int64_t s = 1; s <= 3; ++s) step.run(f.shard(s), 0.01f, s == 3 ? &times : nullptr);
  EXPECT_EQ(test::allocation_count() - before, 0);
}

// The step updates the bf16 copy of the weights in its passes; the sequence by hand writes the
// parameters through the store, so every forward converts them whole. Both read the same bits.
TEST(TrainStep, Bf16StepsAreBitwiseTheSequenceByHand) {
  if (!bf16_products_run()) GTEST_SKIP() << "no bf16 products on this CPU or build";
  const ProductSettings bf16{GemmBackend::kOnednn, Precision::kBf16};
  Fixture stepped, by_hand;
  stepped.config.set_precision(pb::BF16);
  stepped.model.set_products(bf16);
  by_hand.model.set_products(bf16);
  TrainStep step(stepped.config, stepped.model, *stepped.comm);
  const auto loss = make_loss<float>(by_hand.config.model().loss());
  const auto optimizer = make_optimizer(by_hand.config.optimizer(), by_hand.model.store().layout());
  Matrix<float> doutputs;  // (O, N)
  for (int64_t s = 0; s < 3; ++s) {
    const StepResult result = step.run(stepped.shard(s), 0.05f);
    const ForwardContext ctx{true, by_hand.config.seed(), s, by_hand.ids.data()};
    const Matrix<float>& outputs = by_hand.model.forward(by_hand.x, ctx);
    const double sum =
        loss->evaluate(outputs, Targets<float>{by_hand.labels.data(), nullptr}, 1.0f / kBatch,
                       &doutputs);
    by_hand.model.backward(by_hand.x, doutputs);
    ParamStore<float>& store = by_hand.model.store();
    optimizer->step(store.values(), store.grads(), 0.05f);
    apply_max_norm(store, by_hand.config.model().max_norm());
    ASSERT_TRUE(result.finite);
    EXPECT_EQ(result.sums.loss, sum) << "step " << s;
    EXPECT_EQ(params_of(stepped.model), params_of(by_hand.model)) << "step " << s;
  }
}

}  // namespace
}  // namespace mlp
