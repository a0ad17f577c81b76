// Which samples make up each global mini-batch: step k of epoch e takes positions
// [kB, min((k+1)B, n)) of perm(seed, e). The last batch of an epoch may be smaller; nothing is
// padded or repeated. The plan depends only on (n, B, seed), never on the number of ranks.
#pragma once

#include <cstdint>
#include <vector>

namespace mlp {

class BatchPlan {
 public:
  BatchPlan(int64_t samples, int64_t batch_size, uint64_t seed);

  int64_t steps_per_epoch() const { return (samples_ + batch_size_ - 1) / batch_size_; }
  // Size of batch `step` of any epoch (the last one may be short).
  int64_t batch_size(int64_t step) const;
  // Sample order of an epoch: random_permutation(samples, seed, kPermutation, epoch).
  // Computed once per epoch by the caller and reused for its steps.
  std::vector<int64_t> epoch_order(int64_t epoch) const;
  // Position in epoch_order of the first sample of batch `step`.
  int64_t batch_begin(int64_t step) const { return step * batch_size_; }

 private:
  int64_t samples_;
  int64_t batch_size_;
  uint64_t seed_;
};

}  // namespace mlp
