// Checks shared by the MPI tests of the training loop: the same config trained by this process
// alone, the relative distance between two parameter vectors, and bit-identity across ranks.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/hash.h"
#include "launch/train/train_loop.h"
#include "tests/support/mpi_test_env.h"

namespace mlp {

// The same config trained by this process alone (its own run folder, so ranks do not clash).
inline TrainingResult train_alone(pb::TrainConfig c) {
  c.set_out_dir(c.out_dir() + "_alone_rank" + std::to_string(test_world().rank()));
  std::unique_ptr<Communicator> local = make_local_communicator();
  return run_training(c, *local);
}

// max |a - b| / max |b|: summation order moves every element by a few ulps of the largest.
inline double relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double diff = 0, scale = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    diff = std::max(diff, std::abs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::abs(static_cast<double>(b[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

inline double relative_difference(double a, double b) {
  return std::abs(a - b) / std::max(std::abs(b), 1e-30);
}

// Every rank hashes its copy; all hashes must equal rank 0's. Collective.
inline void expect_bit_identical_on_all_ranks(const std::vector<float>& values) {
  uint64_t hash = fnv1a(values.data(), values.size() * sizeof(float));
  Communicator& comm = test_world();
  std::vector<uint64_t> all(comm.size());
  comm.allgather(&hash, sizeof hash, all.data());
  for (int r = 1; r < comm.size(); ++r)
    EXPECT_EQ(all[r], all[0]) << "rank " << r << " differs from rank 0";
}

}  // namespace mlp
