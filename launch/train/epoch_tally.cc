// Epoch sums and the steps log; see epoch_tally.h.
#include "launch/train/epoch_tally.h"

#include "core/seconds_since.h"

namespace mlp {

EpochTally::EpochTally(const RunState& state, bool is_root) {
  if (state.step_in_epoch == 0) return;
  seconds_before_ = state.partial.seconds();
  if (is_root) sums_ = {state.partial.loss(), state.partial.correct(), state.partial.count()};
}

double EpochTally::seconds() const { return seconds_before_ + seconds_since(start_); }

void StepLog::after_step(const Sums& step, const RunState& state, Communicator& comm) {
  since_row_ += step;
  if (every_ <= 0 || state.global_step % every_ != 0) return;
  const Sums total = since_row_.reduced(comm);
  const double seconds = seconds_since(last_row_);
  last_row_ = std::chrono::steady_clock::now();
  output_->append_step(state.global_step, state.epoch + 1, total.mean_loss(),
                       state.last_learning_rate, total.count / seconds);
  since_row_ = Sums{};
}

}  // namespace mlp
