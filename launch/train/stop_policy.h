// Stop signals at step boundaries: the handlers (stop_signal.h) only set a flag; after each step
// the ranks agree on it, so every rank saves the same checkpoint and stops at the same step.
#pragma once

#include <cstdint>

#include "dist/communicator.h"

namespace mlp {

class StopPolicy {
 public:
  explicit StopPolicy(Communicator& comm) : comm_(comm) {}
  // True on every rank when any rank received SIGUSR1 or SIGTERM. Collective, after each step.
  bool requested(int64_t global_step);
  // The number of the signal that asked to stop, the highest over the ranks (a signal may have
  // reached one rank only). Collective.
  int signal_number();

 private:
  Communicator& comm_;
};

}  // namespace mlp
