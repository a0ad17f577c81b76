// A paused run's event, console line and result; see pause_policy.h.
#include "launch/train/pause_policy.h"

namespace mlp {

TrainingResult PausePolicy::announce(const RunState& state, const std::string& checkpoint_dir,
                                     RunOutput* output, const Console& console) const {
  pb::Event event;
  event.set_epoch(state.epoch);
  event.set_global_step(static_cast<double>(state.global_step));
  output->log_event("paused", event);
  console.paused(state.epoch, epochs_, checkpoint_dir);
  TrainingResult result;
  result.paused = true;
  result.epochs_run = static_cast<int>(state.history.size());
  result.steps_run = state.global_step;
  return result;
}

}  // namespace mlp
