// Learning-rate schedules as pure functions of the global step, so resuming needs only the
// step and every rank computes the same rate.
#pragma once

#include <cstdint>

#include "proto/config.pb.h"

namespace mlp {

// The rate for global step `step` (0-based) of a run of `total_steps` steps:
//   warm-up:  lr * (step + 1) / warmup_steps           for step < warmup_steps
//   CONSTANT: lr
//   COSINE:   lr * (f + (1 - f) * (1 + cos(pi * s / S)) / 2)   with f = final_lr_fraction,
//             s = step - warmup_steps, S = total_steps - warmup_steps - 1 (the last step gets lr*f)
// A schedule value without a case here is a UsageError "--lr-schedule: ...", not a default.
float learning_rate(const pb::OptimizerConfig& config, int64_t step, int64_t total_steps);

}  // namespace mlp
