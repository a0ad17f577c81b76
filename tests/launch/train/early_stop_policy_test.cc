// Early stopping in a run: the rule's state lives in the RunState, the best epoch's parameters
// are kept only when restore_best is on, and put back only when the run went past that epoch.
#include "launch/train/early_stop_policy.h"

#include <gtest/gtest.h>

#include <vector>

namespace mlp {
namespace {

pb::EarlyStoppingConfig es_config(int patience, bool restore_best) {
  pb::EarlyStoppingConfig c;
  c.set_patience(patience);
  c.set_restore_best(restore_best);
  c.set_metric(pb::VAL_LOSS);
  return c;
}

struct Fixture {
  ParamStore<float> store;
  RunState state;
  Fixture() {
    store.add("w", 2, 1, ParamRoles{});
    store.allocate();
  }
  // Epoch e (from 1) with its validation loss; parameters set to e.
  bool epoch(EarlyStopPolicy& p, double val_loss) {
    const int e = static_cast<int>(state.history.size()) + 1;
    std::fill(store.values(), store.values() + store.size(), static_cast<float>(e));
    pb::EpochMetrics m;
    m.set_epoch(e);
    m.set_val_loss(val_loss);
    state.history.push_back(m);
    return p.after_epoch(m, store, &state);
  }
};

TEST(EarlyStopPolicy, StopsAfterPatienceAndRestoresTheBestEpochsWeights) {
  EarlyStopPolicy p(es_config(2, true));
  Fixture f;
  EXPECT_FALSE(f.epoch(p, 1.0));
  EXPECT_FALSE(f.epoch(p, 0.5));  // best
  EXPECT_FALSE(f.epoch(p, 0.7));
  EXPECT_TRUE(f.epoch(p, 0.6));
  EXPECT_EQ(f.state.early_stopping.best_epoch, 2);
  EXPECT_EQ(f.state.early_stopping.wait, 2);
  EXPECT_EQ(f.state.best_params, std::vector<float>(2, 2.0f));
  EXPECT_TRUE(p.restore_best(f.state, &f.store));
  EXPECT_EQ(f.store.values()[0], 2.0f);
  EXPECT_STREQ(p.metric_name(), "val_loss");
  EXPECT_EQ(p.patience(), 2);
}

TEST(EarlyStopPolicy, TheLastEpochBeingBestNeedsNoRestore) {
  EarlyStopPolicy p(es_config(2, true));
  Fixture f;
  f.epoch(p, 1.0);
  f.epoch(p, 0.5);
  EXPECT_FALSE(p.restore_best(f.state, &f.store));
  EXPECT_EQ(f.store.values()[0], 2.0f);
}

TEST(EarlyStopPolicy, WithoutRestoreBestOrPatienceNoWeightsAreKept) {
  for (const auto& config : {es_config(2, false), es_config(0, true)}) {
    EarlyStopPolicy p(config);
    Fixture f;
    f.epoch(p, 0.5);
    f.epoch(p, 0.9);
    EXPECT_EQ(f.state.early_stopping.best_epoch, 1);  // tracked all the same
    EXPECT_TRUE(f.state.best_params.empty());
    EXPECT_FALSE(p.restore_best(f.state, &f.store));
  }
}

TEST(EarlyStopPolicy, ContinuesFromTheStateOfAResumedRun) {
  EarlyStopPolicy p(es_config(2, true));
  Fixture f;
  f.state.history.resize(3);
  f.state.early_stopping = {0.5, 2, 1};  // epoch 3 did not improve
  EXPECT_TRUE(f.epoch(p, 0.8));
  EXPECT_EQ(f.state.early_stopping.wait, 2);
}

// An epoch record without the watched metric is no improvement (an absent loss is not a loss
// of 0).
TEST(EarlyStopPolicy, AnEpochWithoutTheMetricDoesNotImprove) {
  EarlyStopPolicy p(es_config(2, true));
  Fixture f;
  f.epoch(p, 1.0);
  pb::EpochMetrics m;
  m.set_epoch(2);
  f.state.history.push_back(m);
  EXPECT_FALSE(p.after_epoch(m, f.store, &f.state));
  EXPECT_EQ(f.state.early_stopping.best_epoch, 1);
  EXPECT_EQ(f.state.early_stopping.wait, 1);
}

}  // namespace
}  // namespace mlp
