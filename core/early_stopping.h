// Early stopping on a validation metric. The rule (Keras's, stated exactly): epochs numbered
// from 1; epochs before start_from_epoch are ignored; the first epoch considered sets the best;
// afterwards an epoch improves when its value beats the best by MORE than min_delta (lower for
// a loss, higher for an accuracy); each epoch without improvement adds one to `wait`, an
// improvement resets it; training stops after the epoch at which wait reaches patience.
// Patience 0 disables stopping (the best epoch is still tracked).
#pragma once

#include <cstdint>

namespace mlp {

struct EarlyStoppingState {
  double best_value = 0;
  int best_epoch = 0;  // 0: no epoch considered yet
  int wait = 0;
};

class EarlyStopping {
 public:
  EarlyStopping(int patience, double min_delta, bool maximize, int start_from_epoch);

  struct Decision {
    bool improved = false;  // this epoch is the new best: keep its weights
    bool stop = false;      // end training after this epoch
  };
  // Feeds the metric of `epoch` (1-based, increasing).
  Decision update(int epoch, double value);

  const EarlyStoppingState& state() const { return state_; }
  // Restores the state saved in a checkpoint, so a resumed run continues the count.
  void restore(const EarlyStoppingState& state) { state_ = state; }
  bool enabled() const { return patience_ > 0; }

 private:
  int patience_;
  double min_delta_;
  bool maximize_;
  int start_from_epoch_;
  EarlyStoppingState state_;
};

}  // namespace mlp
