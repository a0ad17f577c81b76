// RunState <-> Checkpoint: a state survives the round trip field for field, a checkpoint written
// by the trainer before RunState existed still loads into the same state, and every field that
// disagrees with the run or with another field is refused with one clear message before
// anything is copied.
#include "launch/train/run_state.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <tuple>

#include "core/checkpoint_file.h"
#include "core/config_fields.h"
#include "core/errors.h"
#include "core/model.h"
#include "core/packed_floats.h"

namespace mlp {
namespace {

// A 4-3-3 classifier with Adam, 40 training samples in batches of 8 (5 steps an epoch).
struct SmallRun {
  pb::TrainConfig config;
  std::unique_ptr<Model<float>> model;
  std::unique_ptr<Optimizer> optimizer;
  BatchPlan plan;

  explicit SmallRun(const pb::TrainConfig& c, int64_t samples = 40)
      : config(c), plan(samples, c.batch_size(), c.seed()) {
    model = std::make_unique<Model<float>>(config.model());
    model->initialize(config.seed());
    optimizer = make_optimizer(config.optimizer(), model->store().layout());
  }
  RunIdentity identity() const { return {config, plan, 0xfeed, 2, "trainer --test"}; }
  ParamStore<float>& store() { return model->store(); }
};

pb::TrainConfig small_config() {
  pb::TrainConfig c;
  fill_defaults(&c);
  c.mutable_model()->set_hidden("3");
  c.mutable_model()->set_inputs(4);
  c.mutable_model()->set_outputs(3);
  c.mutable_optimizer()->set_kind(pb::ADAM);
  c.set_batch_size(8);
  return c;
}

// Epoch `epoch` of a classifier without a validation accuracy.
pb::EpochMetrics row(int epoch) {
  pb::EpochMetrics m;
  m.set_epoch(epoch);
  m.set_train_loss(1.0 / epoch);
  m.set_train_acc(0.5);
  m.set_val_loss(1.1 / epoch);
  m.set_samples_per_second(1000);
  m.set_epoch_seconds(0.5);
  m.set_learning_rate(0.01);
  return m;
}

// Mid-epoch 2 (epoch index 1, step 3), with a best epoch and its parameters.
RunState mid_run_state(const ParamStore<float>& store) {
  RunState s;
  s.epoch = 1;
  s.step_in_epoch = 3;
  s.global_step = 8;
  s.samples_consumed = 40 + 24;
  s.partial.set_loss(2.5);
  s.partial.set_correct(11);
  s.partial.set_count(24);
  s.partial.set_seconds(0.25);
  s.history = {row(1)};
  s.early_stopping = {1.1, 1, 0};
  s.best_params.assign(store.values(), store.values() + store.size());
  s.best_params[0] += 1;
  s.elapsed_seconds = 12.5;
  s.last_learning_rate = 0.0075;
  return s;
}

class RunStateTest : public ::testing::Test {
 protected:
  RunStateTest() : saved_(small_config()), loaded_(small_config()) {
    for (auto& slot : saved_.optimizer->slots())
      for (size_t i = 0; i < slot.size(); ++i) slot[i] = 0.001f * static_cast<float>(i);
    saved_.optimizer->set_step_count(8);
    saved_.store().values()[2] = 0.25f;
    checkpoint_ = to_checkpoint(mid_run_state(saved_.store()), saved_.store(), *saved_.optimizer,
                                saved_.identity());
  }

  RunState load(const pb::Checkpoint& c) {
    return from_checkpoint(c, loaded_.identity(), "ckpt.pb", &loaded_.store(),
                           loaded_.optimizer.get());
  }

  // A copy of the good checkpoint changed by `edit` is refused with exactly this reason, and
  // the model it was to be loaded into is untouched.
  void expect_refused(const std::function<void(pb::Checkpoint*)>& edit, const std::string& why) {
    pb::Checkpoint c = checkpoint_;
    edit(&c);
    const std::vector<float> before(loaded_.store().values(),
                                    loaded_.store().values() + loaded_.store().size());
    try {
      load(c);
      ADD_FAILURE() << "accepted; expected: " << why;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kCheckpoint);
      EXPECT_EQ(std::string(e.what()), "ckpt.pb: cannot resume: " + why);
    }
    EXPECT_TRUE(std::equal(before.begin(), before.end(), loaded_.store().values()));
  }

  SmallRun saved_, loaded_;
  pb::Checkpoint checkpoint_;
};

TEST_F(RunStateTest, RoundTripKeepsEveryField) {
  const RunState s = load(checkpoint_);
  const RunState expected = mid_run_state(saved_.store());
  EXPECT_EQ(s.epoch, expected.epoch);
  EXPECT_EQ(s.step_in_epoch, expected.step_in_epoch);
  EXPECT_EQ(s.global_step, expected.global_step);
  EXPECT_EQ(s.samples_consumed, expected.samples_consumed);
  EXPECT_EQ(s.partial.SerializeAsString(), expected.partial.SerializeAsString());
  ASSERT_EQ(s.history.size(), 1u);
  EXPECT_EQ(s.history[0].SerializeAsString(), expected.history[0].SerializeAsString());
  EXPECT_FALSE(s.history[0].has_val_acc());
  EXPECT_EQ(s.early_stopping.best_epoch, 1);
  EXPECT_EQ(s.early_stopping.best_value, 1.1);
  EXPECT_EQ(s.best_params, expected.best_params);
  EXPECT_EQ(s.elapsed_seconds, 12.5);
  EXPECT_EQ(s.last_learning_rate, static_cast<float>(0.0075));
  EXPECT_TRUE(std::equal(saved_.store().values(), saved_.store().values() + saved_.store().size(),
                         loaded_.store().values()));
  EXPECT_EQ(loaded_.optimizer->slots(), saved_.optimizer->slots());
  EXPECT_EQ(loaded_.optimizer->step_count(), 8);
  // And back: the same message, field for field.
  const pb::Checkpoint again =
      to_checkpoint(s, loaded_.store(), *loaded_.optimizer, loaded_.identity());
  pb::Checkpoint a = checkpoint_, b = again;
  a.clear_provenance();
  b.clear_provenance();
  EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString());
  EXPECT_EQ(checkpoint_.provenance().command_line(), "trainer --test");
  EXPECT_EQ(checkpoint_.provenance().data_fingerprint(), 0xfeedu);
  EXPECT_EQ(checkpoint_.world_size(), 2);
}

// The file is written with the float vectors streamed from memory; it reads as the message.
TEST_F(RunStateTest, WrittenFileReadsAsTheCheckpointMessage) {
  const std::string path = testing::TempDir() + "/run_state_written.pb";
  write_run_checkpoint(path, mid_run_state(saved_.store()), saved_.store(), *saved_.optimizer,
                       saved_.identity());
  pb::Checkpoint read = read_checkpoint(path), expected = checkpoint_;
  EXPECT_EQ(read.params().size(), saved_.store().size() * sizeof(float));
  EXPECT_EQ(read.optimizer().slots_size(), 2);
  EXPECT_EQ(read.early_stopping().best_params().size(), saved_.store().size() * sizeof(float));
  read.clear_provenance();
  expected.clear_provenance();
  EXPECT_EQ(read.SerializeAsString(), expected.SerializeAsString());
}

TEST_F(RunStateTest, TheLearningRateSavedIsTheLastStepsNotTheConfigured) {
  EXPECT_EQ(checkpoint_.learning_rate(), static_cast<float>(0.0075));
  EXPECT_NE(checkpoint_.learning_rate(), saved_.config.optimizer().lr());
}

TEST_F(RunStateTest, ConfigAndDataMustMatch) {
  expect_refused([](pb::Checkpoint* c) { c->mutable_config()->mutable_model()->set_hidden("4"); },
                 "model.hidden is 4 in the checkpoint but 3 now");
  expect_refused([](pb::Checkpoint* c) { c->mutable_config()->set_batch_size(16); },
                 "batch_size is 16 in the checkpoint but 8 now");
  // A value that would break the line is quoted with its control characters escaped.
  expect_refused(
      [](pb::Checkpoint* c) { c->mutable_config()->mutable_model()->set_hidden("6\n5"); },
      "model.hidden is \"6\\n5\" in the checkpoint but 3 now");
  expect_refused([](pb::Checkpoint* c) { c->mutable_provenance()->set_data_fingerprint(1); },
                 "the training data differs from the checkpoint's (another file, limit, split or "
                 "standardization)");
}

TEST_F(RunStateTest, LayoutAndVectorsMustFitTheModel) {
  expect_refused([](pb::Checkpoint* c) { c->mutable_layout()->RemoveLast(); },
                 "the checkpoint has 3 parameter blocks, the model 4");
  expect_refused([](pb::Checkpoint* c) { c->mutable_layout(1)->set_rows(5); },
                 "parameter block 1 is dense0.bias (5x1 at 12) in the checkpoint but dense0.bias "
                 "(3x1 at 12) in the model");
  expect_refused([](pb::Checkpoint* c) { c->mutable_layout(2)->set_name("dense1\nweight"); },
                 "parameter block 2 is \"dense1\\nweight\" (3x3 at 15) in the checkpoint but "
                 "dense1.weight (3x3 at 15) in the model");
  expect_refused(
      [](pb::Checkpoint* c) { c->mutable_layout(0)->set_decayed(false); },
      "parameter block 0 (dense0.weight) has other weight-decay or max-norm roles in the "
      "checkpoint than in the model");
  expect_refused([](pb::Checkpoint* c) { c->mutable_params()->resize(8); },
                 "the parameter vector has 2 values, the model 27");
  expect_refused(
      [](pb::Checkpoint* c) {
        const float inf = std::numeric_limits<float>::infinity();
        c->mutable_params()->replace(4, 4, pack_floats(&inf, 1));
      },
      "the parameter vector holds a non-finite value at 1");
}

TEST_F(RunStateTest, OptimizerSlotsMustMatchTheirNamesAndLength) {
  expect_refused([](pb::Checkpoint* c) { c->mutable_optimizer()->set_kind(pb::MOMENTUM); },
                 "the optimizer state is of momentum, the config's optimizer adam");
  expect_refused([](pb::Checkpoint* c) { c->mutable_optimizer()->mutable_slots()->RemoveLast(); },
                 "the optimizer has 1 state vectors and 2 names, expected 2");
  expect_refused([](pb::Checkpoint* c) { c->mutable_optimizer()->set_slot_names(1, "w"); },
                 "optimizer state w is not v");
  expect_refused([](pb::Checkpoint* c) { c->mutable_optimizer()->mutable_slots(0)->resize(4); },
                 "optimizer state m has 1 values, the model 27");
  expect_refused([](pb::Checkpoint* c) { c->mutable_optimizer()->set_step_count(-1); },
                 "negative optimizer step count -1");
}

TEST_F(RunStateTest, PositionMustBeOneTheBatchPlanReaches) {
  expect_refused([](pb::Checkpoint* c) { c->set_step_in_epoch(6); },
                 "position epoch 1, step 6, global step 8 is outside an epoch of 5 steps");
  expect_refused([](pb::Checkpoint* c) { c->set_global_step(9); },
                 "global step 9 is not epoch 1 times 5 steps plus 3");
  expect_refused([](pb::Checkpoint* c) { c->set_samples_consumed(63); },
                 "samples consumed 63 should be 64");
  expect_refused(
      [](pb::Checkpoint* c) {
        c->set_epoch(std::numeric_limits<int32_t>::max());
        c->set_global_step(std::numeric_limits<int64_t>::max());
      },
      "global step 9223372036854775807 is not epoch 2147483647 times 5 steps plus 3");
  expect_refused([](pb::Checkpoint* c) { c->add_history()->set_epoch(2); },
                 "the history has 2 epochs, the position 1");
  expect_refused([](pb::Checkpoint* c) { c->mutable_history(0)->set_epoch(3); },
                 "history row 0 is of epoch 3");
  expect_refused([](pb::Checkpoint* c) { c->mutable_partial_epoch()->set_loss(std::nan("")); },
                 "the interrupted epoch's sums is not finite");
  expect_refused([](pb::Checkpoint* c) { c->set_elapsed_seconds(-1); },
                 "elapsed seconds -1.000000 is not a duration");
  expect_refused([](pb::Checkpoint* c) { c->set_world_size(0); }, "world size 0 is not positive");
}

// Earlier versions wrote NaN for a metric that did not apply, and every output showed a
// non-finite number as not applying: such numbers of the history read as absent.
TEST_F(RunStateTest, NonFiniteHistoryNumbersReadAsAbsent) {
  pb::Checkpoint c = checkpoint_;
  c.mutable_history(0)->set_val_acc(std::nan(""));
  c.mutable_history(0)->set_samples_per_second(std::numeric_limits<double>::infinity());
  const RunState s = load(c);
  ASSERT_EQ(s.history.size(), 1u);
  EXPECT_FALSE(s.history[0].has_val_acc());
  EXPECT_FALSE(s.history[0].has_samples_per_second());
  pb::EpochMetrics expected = row(1);
  expected.clear_samples_per_second();
  EXPECT_EQ(s.history[0].SerializeAsString(), expected.SerializeAsString());
}

// The exact mode's exponents come back as saved, one per parameter block, and must fit: a block
// count of their own, values -1 or 0..254, none when the mode is off; another block count is
// another run.
TEST(RunStateExact, ExponentsRoundTripAndAreChecked) {
  pb::TrainConfig config = small_config();
  config.set_exact_blocks(4);
  SmallRun saved(config), loaded(config);
  RunState state = mid_run_state(saved.store());
  state.exact_exponents = {120, -1, 254, 0};
  const pb::Checkpoint good =
      to_checkpoint(state, saved.store(), *saved.optimizer, saved.identity());
  const auto load = [&](const pb::Checkpoint& c, const pb::TrainConfig& run) {
    const SmallRun into(run);
    return from_checkpoint(c, {run, into.plan, 0xfeed, 3, ""}, "ckpt.pb", &loaded.store(),
                           loaded.optimizer.get());
  };
  EXPECT_EQ(load(good, config).exact_exponents, state.exact_exponents);
  const auto refusal = [&](const std::function<void(pb::Checkpoint*)>& edit,
                           const pb::TrainConfig& run) -> std::string {
    pb::Checkpoint c = good;
    edit(&c);
    try {
      load(c, run);
    } catch (const Error& e) {
      return e.what();
    }
    return "accepted";
  };
  const auto unchanged = [](pb::Checkpoint*) {};
  EXPECT_EQ(refusal([](pb::Checkpoint* c) { c->mutable_exact_exponents()->RemoveLast(); }, config),
            "ckpt.pb: cannot resume: the exact sums have 3 exponents, the model 4 parameter "
            "blocks");
  EXPECT_EQ(refusal([](pb::Checkpoint* c) { c->set_exact_exponents(2, 255); }, config),
            "ckpt.pb: cannot resume: exact-sum exponent 2 is 255, not -1 or 0..254");
  EXPECT_EQ(refusal([](pb::Checkpoint* c) { c->set_world_size(5); }, config),
            "ckpt.pb: cannot resume: world size 5 is above the exact mode's 4 blocks");
  pb::TrainConfig other = config;
  other.set_exact_blocks(8);
  EXPECT_EQ(refusal(unchanged, other),
            "ckpt.pb: cannot resume: exact_blocks is 4 in the checkpoint but 8 now");
  pb::TrainConfig off = config;
  off.set_exact_blocks(0);
  EXPECT_EQ(refusal([](pb::Checkpoint* c) { c->mutable_config()->set_exact_blocks(0); }, off),
            "ckpt.pb: cannot resume: exact-sum exponents are saved but the exact mode is off");
}

TEST_F(RunStateTest, EarlyStoppingStateMustFitTheHistory) {
  expect_refused([](pb::Checkpoint* c) { c->mutable_early_stopping()->set_best_epoch(2); },
                 "the best epoch 2 is not in the history of 1 epochs");
  expect_refused([](pb::Checkpoint* c) { c->mutable_early_stopping()->set_wait(2); },
                 "the early-stopping wait 2 is longer than the history");
  expect_refused(
      [](pb::Checkpoint* c) {
        c->mutable_early_stopping()->set_best_value(std::numeric_limits<double>::infinity());
      },
      "the best validation value is not finite");
  expect_refused([](pb::Checkpoint* c) { c->mutable_early_stopping()->set_best_epoch(0); },
                 "best parameters are saved but no best epoch");
  expect_refused(
      [](pb::Checkpoint* c) { c->mutable_early_stopping()->mutable_best_params()->resize(12); },
      "the best epoch's parameter vector has 3 values, the model 27");
}

// Written by the trainer as it was before RunState (one rank, Adam, 4-3-3, patience 5 with the
// best weights kept, a checkpoint every 3 steps of a 4-step epoch): global step 6 is mid-epoch 2.
TEST(RunStateFormat, ACheckpointOfTheEarlierTrainerLoadsAndRoundTrips) {
  const pb::Checkpoint old = read_checkpoint(MLP_LAUNCH_FIXTURES "/old_checkpoint_step6.pb");
  SmallRun run(old.config(), 32);
  const RunIdentity identity{run.config, run.plan, old.provenance().data_fingerprint(), 1, ""};
  const RunState s = from_checkpoint(old, identity, "old", &run.store(), run.optimizer.get());
  EXPECT_EQ(s.epoch, 1);
  EXPECT_EQ(s.step_in_epoch, 2);
  EXPECT_EQ(s.global_step, 6);
  EXPECT_EQ(s.samples_consumed, 48);
  ASSERT_EQ(s.history.size(), 1u);
  EXPECT_EQ(s.early_stopping.best_epoch, 1);
  EXPECT_EQ(s.best_params.size(), run.store().size());
  EXPECT_EQ(run.optimizer->step_count(), 6);
  pb::Checkpoint again = to_checkpoint(s, run.store(), *run.optimizer, identity);
  pb::Checkpoint expected = old;
  // The layout's roles come from the model now (the earlier is_bias is not carried over).
  ASSERT_EQ(again.layout_size(), expected.layout_size());
  for (int i = 0; i < again.layout_size(); ++i) {
    const pb::ParamBlockInfo &a = again.layout(i), &e = expected.layout(i);
    EXPECT_EQ(a.name(), e.name());
    EXPECT_EQ(std::make_tuple(a.offset(), a.rows(), a.cols()),
              std::make_tuple(e.offset(), e.rows(), e.cols()));
  }
  for (pb::Checkpoint* c : {&again, &expected}) {
    c->clear_provenance();
    c->clear_layout();
  }
  EXPECT_EQ(again.SerializeAsString(), expected.SerializeAsString());
}

// A regression without a validation set, written by the trainer before the epoch-metrics
// record (3-step checkpoints of 5-step epochs): its history holds NaN for the accuracies and the
// validation metrics, which load as absent.
TEST(RunStateFormat, NaNOfAnEarlierTrainersHistoryIsAbsent) {
  const pb::Checkpoint old =
      read_checkpoint(MLP_LAUNCH_FIXTURES "/old_checkpoint_regression_step6.pb");
  ASSERT_EQ(old.history_size(), 1);
  EXPECT_TRUE(std::isnan(old.history(0).train_acc()));
  EXPECT_TRUE(std::isnan(old.history(0).val_loss()));
  SmallRun run(old.config(), 40);
  const RunIdentity identity{run.config, run.plan, old.provenance().data_fingerprint(), 1, ""};
  const RunState s = from_checkpoint(old, identity, "old", &run.store(), run.optimizer.get());
  ASSERT_EQ(s.history.size(), 1u);
  const pb::EpochMetrics& m = s.history[0];
  EXPECT_EQ(m.epoch(), 1);
  EXPECT_EQ(m.train_loss(), old.history(0).train_loss());
  EXPECT_FALSE(m.has_train_acc() || m.has_val_loss() || m.has_val_acc());
  EXPECT_TRUE(m.has_samples_per_second() && m.has_epoch_seconds() && m.has_learning_rate());
}

}  // namespace
}  // namespace mlp
