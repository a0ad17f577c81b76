// Loss and accuracy sums of a model over data split across ranks: what an epoch's training
// steps add up and what evaluating a data set gives, reduced over ranks when asked.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/dataset.h"
#include "core/loss.h"
#include "core/model.h"
#include "dist/communicator.h"

namespace mlp {

// Sums over samples; the per-sample means are taken only once they are summed over ranks.
struct Sums {
  double loss = 0, correct = 0, count = 0;

  Sums& operator+=(const Sums& other) {
    loss += other.loss;
    correct += other.correct;
    count += other.count;
    return *this;
  }
  // The sums over every rank. Collective.
  Sums reduced(Communicator& comm) const;
  double mean_loss() const;                // NaN without samples
  double accuracy(bool classifies) const;  // NaN without samples or for a regression
};

// Reusable buffers of one shard of a batch, so the hot loop does not allocate.
struct BatchBuffers {
  Matrix<float> x;              // (I, n)
  std::vector<int32_t> labels;  // (n)
  Matrix<float> targets;        // (K, n)
  Targets<float> view() const {
    return {labels.empty() ? nullptr : labels.data(), targets.size() == 0 ? nullptr : &targets};
  }
};

// Every sample of `data` exactly once over the ranks, in inference mode, in chunks of 1024
// samples in data order (rank r takes a contiguous run of chunks); returns the sums over all
// ranks, the same bits at every rank count (see evaluation.cc). each_chunk, when given, sees
// every chunk's outputs (O, n) with its buffers (labels, targets) on this rank. Collective.
Sums evaluate(
    Model<float>& model, const Loss<float>& loss, const Dataset& data, Communicator& comm,
    BatchBuffers* buffers,
    const std::function<void(const Matrix<float>&, const BatchBuffers&)>& each_chunk = {});

}  // namespace mlp
