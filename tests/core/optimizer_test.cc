// Optimizers: three steps of each update rule against values derived by hand, weight decay
// applied to weights and not to biases, the first Adam step's size on a buffer whose length is
// no multiple of the vector width, and the state each rule keeps.
#include "core/optimizer.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "core/rng.h"

namespace mlp {
namespace {

// Two weights then one bias, all starting at 1.
const std::vector<ParamBlock> kLayout = {{"w", 0, 2, 1, {/*decayed=*/true}},
                                         {"b", 2, 1, 1, {/*decayed=*/false}}};

pb::OptimizerConfig config(pb::OptimizerKind kind, float weight_decay = 0) {
  pb::OptimizerConfig cfg;
  cfg.set_kind(kind);
  cfg.set_lr(0.1f);
  cfg.set_momentum(0.9f);
  cfg.set_weight_decay(weight_decay);
  return cfg;
}

// Applies the gradients 0.5, -1, 2 (the same to every parameter) and returns the parameters
// after each step.
std::vector<std::vector<float>> three_steps(const pb::OptimizerConfig& cfg) {
  auto optimizer = make_optimizer(cfg, kLayout);
  std::vector<float> params(3, 1.0f);
  std::vector<std::vector<float>> history;
  for (const float g : {0.5f, -1.0f, 2.0f}) {
    const std::vector<float> grads(3, g);
    optimizer->step(params.data(), grads.data(), cfg.lr());
    history.push_back(params);
  }
  EXPECT_EQ(optimizer->step_count(), 3);
  return history;
}

void expect_every_param_follows(const std::vector<std::vector<float>>& history,
                                const std::vector<double>& expected) {
  for (size_t s = 0; s < expected.size(); ++s) {
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_NEAR(history[s][i], expected[s], 1e-6) << "step " << s + 1 << ", param " << i;
    }
  }
}

TEST(Optimizer, Sgd) {
  // w -= 0.1 g: 1 - 0.05, + 0.1, - 0.2.
  expect_every_param_follows(three_steps(config(pb::SGD)), {0.95, 1.05, 0.85});
}

TEST(Optimizer, Momentum) {
  // v: 0.5, 0.45 - 1 = -0.55, -0.495 + 2 = 1.505; w -= 0.1 v.
  expect_every_param_follows(three_steps(config(pb::MOMENTUM)), {0.95, 1.005, 0.8545});
}

TEST(Optimizer, Nesterov) {
  pb::OptimizerConfig cfg = config(pb::MOMENTUM);
  cfg.set_nesterov(true);
  // Same v as plain momentum; w -= 0.1 (g + 0.9 v): 0.1 * 0.95, 0.1 * -1.495, 0.1 * 3.3545.
  expect_every_param_follows(three_steps(cfg), {0.905, 1.0545, 0.71905});
}

TEST(Optimizer, Adam) {
  // beta1 0.9, beta2 0.999, eps 1e-8.
  // t=1: m 0.05, v 0.00025; m^ 0.5, v^ 0.25: w = 1 - 0.1 * 0.5 / (0.5 + 1e-8).
  // t=2: m -0.055, v 0.00124975; m^ -0.055 / 0.19, v^ 0.00124975 / 0.001999.
  // t=3: m 0.1505, v 0.0052485; m^ 0.1505 / 0.271, v^ 0.0052485 / 0.002997001.
  expect_every_param_follows(three_steps(config(pb::ADAM)),
                             {0.900000002, 0.93661035424, 0.89464479272});
}

TEST(Optimizer, WeightDecayAppliesToWeightsOnly) {
  const auto history = three_steps(config(pb::SGD, 0.1f));
  // Weights: g + 0.1 w = 0.6, -0.906, 2.10306, so w = 0.94, 1.0306, 0.820294. The bias does
  // plain SGD.
  const std::vector<double> weights = {0.94, 1.0306, 0.820294};
  const std::vector<double> bias = {0.95, 1.05, 0.85};
  for (size_t s = 0; s < 3; ++s) {
    EXPECT_NEAR(history[s][0], weights[s], 1e-6);
    EXPECT_NEAR(history[s][1], weights[s], 1e-6);
    EXPECT_NEAR(history[s][2], bias[s], 1e-6);
  }
}

TEST(Optimizer, WithZeroGradientOnlyDecayMovesWeightsAndBiasesStay) {
  // One step from 1 with decay 0.1: SGD and momentum step by 0.1 * 0.1; Adam's first step has
  // size lr whatever the gradient's magnitude.
  const std::vector<std::pair<pb::OptimizerKind, double>> cases = {
      {pb::SGD, 0.99}, {pb::MOMENTUM, 0.99}, {pb::ADAM, 0.9}};
  for (const auto& [kind, weight] : cases) {
    auto optimizer = make_optimizer(config(kind, 0.1f), kLayout);
    std::vector<float> params(3, 1.0f);
    const std::vector<float> grads(3, 0.0f);
    optimizer->step(params.data(), grads.data(), 0.1f);
    EXPECT_NEAR(params[0], weight, 1e-6) << pb::OptimizerKind_Name(kind);
    EXPECT_NEAR(params[1], weight, 1e-6) << pb::OptimizerKind_Name(kind);
    EXPECT_EQ(params[2], 1.0f) << pb::OptimizerKind_Name(kind);
  }
}

TEST(Optimizer, FirstAdamStepMovesEveryParameterByTheLearningRate) {
  // 37 is no multiple of any SIMD width, so the vector loop's remainder is exercised too.
  const int n = 37;
  const std::vector<ParamBlock> layout = {{"w", 0, n, 1, {/*decayed=*/true}}};
  auto optimizer = make_optimizer(config(pb::ADAM), layout);
  std::vector<float> params(n), grads(n);
  for (int i = 0; i < n; ++i) {
    params[i] = random_uniform(1, RngStream::kSplit, i);
    grads[i] = random_uniform(2, RngStream::kSplit, i) - 0.5f;
  }
  const std::vector<float> before = params;
  optimizer->step(params.data(), grads.data(), 0.1f);
  for (int i = 0; i < n; ++i) {
    EXPECT_NEAR(before[i] - params[i], grads[i] > 0 ? 0.1 : -0.1, 1e-6) << "param " << i;
  }
}

TEST(Optimizer, StateSlotsMatchTheRule) {
  EXPECT_TRUE(make_optimizer(config(pb::SGD), kLayout)->slots().empty());
  const auto momentum = make_optimizer(config(pb::MOMENTUM), kLayout);
  EXPECT_EQ(momentum->slot_names(), std::vector<std::string>{"velocity"});
  ASSERT_EQ(momentum->slots().size(), 1u);
  EXPECT_EQ(momentum->slots()[0], std::vector<float>(3, 0.0f));
  const auto adam = make_optimizer(config(pb::ADAM), kLayout);
  EXPECT_EQ(adam->slot_names(), (std::vector<std::string>{"m", "v"}));
  ASSERT_EQ(adam->slots().size(), 2u);
  EXPECT_EQ(adam->slots()[1].size(), 3u);
}

TEST(Optimizer, AdamResumesFromItsStepCountAndSlots) {
  // A restored optimizer (state and step count from a checkpoint) continues exactly where the
  // original would have.
  auto original = make_optimizer(config(pb::ADAM), kLayout);
  std::vector<float> params(3, 1.0f);
  const std::vector<float> grads = {0.5f, -1.0f, 2.0f};
  original->step(params.data(), grads.data(), 0.1f);
  auto restored = make_optimizer(config(pb::ADAM), kLayout);
  restored->slots() = original->slots();
  restored->set_step_count(original->step_count());
  std::vector<float> resumed = params;
  original->step(params.data(), grads.data(), 0.1f);
  restored->step(resumed.data(), grads.data(), 0.1f);
  EXPECT_EQ(params, resumed);
}

TEST(Optimizer, EveryConfigValueHasARuleAndOthersAreRefused) {
  const google::protobuf::EnumDescriptor* kinds = pb::OptimizerKind_descriptor();
  for (int i = 0; i < kinds->value_count(); ++i) {
    const auto kind = static_cast<pb::OptimizerKind>(kinds->value(i)->number());
    EXPECT_NE(make_optimizer(config(kind), kLayout), nullptr) << kinds->value(i)->name();
  }
  try {
    make_optimizer(config(static_cast<pb::OptimizerKind>(99)), kLayout);
    FAIL() << "no error for an unknown kind";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "--optimizer: no optimizer is built for 99");
  }
}

}  // namespace
}  // namespace mlp
