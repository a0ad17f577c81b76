// Learning-rate schedules; see lr_schedule.h.
#include "core/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/errors.h"

namespace mlp {

float learning_rate(const pb::OptimizerConfig& config, int64_t step, int64_t total_steps) {
  const double lr = config.lr();
  const int64_t warmup = config.warmup_steps();
  if (step < warmup)
    return static_cast<float>(lr * static_cast<double>(step + 1) / static_cast<double>(warmup));
  switch (config.lr_schedule()) {
    case pb::CONSTANT:
      return static_cast<float>(lr);
    case pb::COSINE: {
      const double span = static_cast<double>(std::max<int64_t>(total_steps - warmup - 1, 1));
      const double progress = std::min(static_cast<double>(step - warmup) / span, 1.0);
      const double f = config.final_lr_fraction();
      return static_cast<float>(lr * (f + (1.0 - f) * 0.5 * (1.0 + std::cos(M_PI * progress))));
    }
  }
  throw UsageError("--lr-schedule: no schedule is built for " +
                   std::to_string(static_cast<int>(config.lr_schedule())));
}

}  // namespace mlp
