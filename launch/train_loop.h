// The training loop: data, model and optimizer set up from a resolved config, then per step
// shard -> zero grads -> forward/backward -> gradient sync -> optimizer step, per epoch
// evaluate and log. The same code runs alone and on every rank under mpirun.
#pragma once

#include "dist/communicator.h"
#include "proto/config.pb.h"

namespace mlp {

// Trains as `config` says (validated by validate_config). Rank 0 prints one line per epoch and
// writes the run folder. Throws Error subclasses; AgreedError when every rank failed together.
void run_training(pb::TrainConfig config, Communicator& comm);

}  // namespace mlp
