// Early stopping rule; see early_stopping.h.
#include "core/early_stopping.h"

namespace mlp {

EarlyStopping::EarlyStopping(int patience, double min_delta, bool maximize, int start_from_epoch)
    : patience_(patience),
      min_delta_(min_delta),
      maximize_(maximize),
      start_from_epoch_(start_from_epoch) {}

EarlyStopping::Decision EarlyStopping::update(int epoch, double value) {
  Decision d;
  if (epoch < start_from_epoch_) return d;
  const bool first = state_.best_epoch == 0;
  const bool better =
      maximize_ ? value > state_.best_value + min_delta_ : value < state_.best_value - min_delta_;
  if (first || better) {
    state_.best_value = value;
    state_.best_epoch = epoch;
    state_.wait = 0;
    d.improved = true;
    return d;
  }
  ++state_.wait;
  d.stop = patience_ > 0 && state_.wait >= patience_;
  return d;
}

}  // namespace mlp
