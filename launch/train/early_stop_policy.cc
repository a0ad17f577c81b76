// Early stopping with the best weights; see early_stop_policy.h.
#include "launch/train/early_stop_policy.h"

#include <algorithm>
#include <limits>

namespace mlp {

EarlyStopPolicy::EarlyStopPolicy(const pb::EarlyStoppingConfig& config)
    : rule_(config.patience(), config.min_delta(), config.metric() == pb::VAL_ACC,
            config.start_from_epoch()),
      by_accuracy_(config.metric() == pb::VAL_ACC),
      restore_best_(config.restore_best()),
      patience_(config.patience()) {}

bool EarlyStopPolicy::after_epoch(const pb::EpochMetrics& m, const ParamStore<float>& store,
                                  RunState* state) {
  const bool present = by_accuracy_ ? m.has_val_acc() : m.has_val_loss();
  const double value = by_accuracy_ ? m.val_acc() : m.val_loss();
  // The state lives in the RunState (it is saved with it); the rule only applies it.
  rule_.restore(state->early_stopping);
  const EarlyStopping::Decision d =
      rule_.update(m.epoch(), present ? value : std::numeric_limits<double>::quiet_NaN());
  state->early_stopping = rule_.state();
  if (d.improved && keeps_best())
    state->best_params.assign(store.values(), store.values() + store.size());
  return d.stop;
}

bool EarlyStopPolicy::restore_best(const RunState& state, ParamStore<float>* store) const {
  const int best = state.early_stopping.best_epoch;
  if (!keeps_best() || state.best_params.empty() || best == static_cast<int>(state.history.size()))
    return false;
  std::copy(state.best_params.begin(), state.best_params.end(), store->values());
  return true;
}

}  // namespace mlp
