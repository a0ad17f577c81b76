// Agreement on stop signals; see stop_policy.h.
#include "launch/train/stop_policy.h"

#include "dist/agreement.h"
#include "launch/platform/stop_signal.h"

namespace mlp {

bool StopPolicy::requested(int64_t global_step) {
  comm_.set_activity({"agreeing on a stop signal", global_step});
  return any_rank(comm_, stop_requested());
}

int StopPolicy::signal_number() {
  int64_t number = stop_signal_number();
  comm_.allreduce_max(&number, 1);
  return static_cast<int>(number);
}

}  // namespace mlp
