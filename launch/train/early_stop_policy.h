// Early stopping in a run: feeds each epoch's validation metric to the rule
// (core/early_stopping.h), keeps the best epoch's parameters in the RunState when restore_best is
// on, and puts them back at the end. Metrics are reduced over ranks first, so every rank takes the
// same decision.
#pragma once

#include <string>

#include "core/early_stopping.h"
#include "core/param_store.h"
#include "launch/train/run_state.h"
#include "proto/config.pb.h"

namespace mlp {

class EarlyStopPolicy {
 public:
  explicit EarlyStopPolicy(const pb::EarlyStoppingConfig& config);

  // After epoch m was evaluated on a validation set (an absent metric counts as NaN, never an
  // improvement): updates state->early_stopping, copies the parameters into state->best_params
  // when the epoch is the new best (and the best weights are kept). Returns true when the run
  // should stop after this epoch.
  bool after_epoch(const pb::EpochMetrics& m, const ParamStore<float>& store, RunState* state);

  // At the end of the run: when the best epoch's weights are kept and the run went past that
  // epoch, copies them into the store and returns true.
  bool restore_best(const RunState& state, ParamStore<float>* store) const;

  const char* metric_name() const { return by_accuracy_ ? "val_acc" : "val_loss"; }
  int patience() const { return patience_; }

 private:
  bool keeps_best() const { return rule_.enabled() && restore_best_; }

  EarlyStopping rule_;
  bool by_accuracy_, restore_best_;
  int patience_;
};

}  // namespace mlp
