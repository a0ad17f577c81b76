// Global mini-batch plan; see batch_plan.h for the contract.
#include "core/batch_plan.h"

#include <algorithm>
#include <stdexcept>

#include "core/rng.h"

namespace mlp {

BatchPlan::BatchPlan(int64_t samples, int64_t batch_size, uint64_t seed)
    : samples_(samples), batch_size_(batch_size), seed_(seed) {
  if (samples <= 0 || batch_size <= 0) throw std::invalid_argument("BatchPlan: empty plan");
}

int64_t BatchPlan::batch_size(int64_t step) const {
  return std::min(batch_size_, samples_ - step * batch_size_);
}

std::vector<int64_t> BatchPlan::epoch_order(int64_t epoch) const {
  return random_permutation(samples_, seed_, RngStream::kPermutation, static_cast<uint64_t>(epoch));
}

}  // namespace mlp
