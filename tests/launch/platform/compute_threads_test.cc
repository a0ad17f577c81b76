// One compute thread per process, whatever threads the product libraries bring: counted from
// inside a step under each backend.
#include "launch/platform/compute_threads.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/gemm.h"
#include "core/model.h"
#include "tests/core/gradient_check.h"
#include "tests/core/model_configs.h"

namespace mlp {
namespace {

class EachBackend : public ::testing::TestWithParam<GemmBackend> {};

// Counted from inside the step: the backward pass reports each finished layer. CTest runs each
// test in a process of its own, as the trainer is: no earlier test has started a thread pool.
TEST_P(EachBackend, OneThreadDuringAStep) {
  use_one_compute_thread();
  Model<float> model(model_config("256,256", pb::RELU, pb::SOFTMAX_CROSS_ENTROPY, 300, 10),
                     {GetParam()});
  model.initialize(1);
  const Matrix<float> x = test_matrix(300, 128, 50).cast<float>();
  const Matrix<float> doutputs = test_matrix(10, 128, 51).cast<float>();
  std::vector<int> counts;
  for (int step = 0; step < 3; ++step) {
    model.forward(x, {});
    model.backward(x, doutputs, [&](size_t, size_t) { counts.push_back(process_thread_count()); });
  }
  EXPECT_EQ(*std::max_element(counts.begin(), counts.end()), 1);
  EXPECT_EQ(*std::min_element(counts.begin(), counts.end()), 1);
}

INSTANTIATE_TEST_SUITE_P(Available, EachBackend, ::testing::ValuesIn(available_gemm_backends()),
                         [](const ::testing::TestParamInfo<GemmBackend>& info) {
                           return std::string(gemm_backend_name(info.param));
                         });

}  // namespace
}  // namespace mlp
