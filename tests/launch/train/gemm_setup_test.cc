// Choosing the run's matrix-product backend: a named one is chosen as is, "auto" times every
// available backend on the model's products and chooses the fastest of them.
#include "launch/train/gemm_setup.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/errors.h"
#include "core/gemm.h"

namespace mlp {
namespace {

// A config whose model is resolved, as the trainer's is when it chooses.
pb::TrainConfig resolved_config(const std::string& hidden, int inputs, int outputs, int batch) {
  pb::TrainConfig config;
  config.mutable_model()->set_hidden(hidden);
  config.mutable_model()->set_inputs(inputs);
  config.mutable_model()->set_outputs(outputs);
  config.set_batch_size(batch);
  return config;
}

TEST(GemmSetup, NamedBackendIsChosenWithoutTiming) {
  const auto comm = make_local_communicator();
  pb::TrainConfig config = resolved_config("16", 20, 3, 8);
  for (GemmBackend b : available_gemm_backends()) {
    config.set_gemm(gemm_backend_name(b));
    const GemmSetup setup = choose_gemm_backend(config, *comm);
    EXPECT_EQ(setup.backend, b);
    EXPECT_FALSE(setup.measured);
    EXPECT_TRUE(setup.timings.empty());
  }
}

TEST(GemmSetup, AutoChoosesTheFastestOfEveryAvailableBackend) {
  const auto comm = make_local_communicator();
  const pb::TrainConfig config = resolved_config("48", 64, 10, 32);
  ASSERT_EQ(config.gemm(), "auto");
  const GemmSetup setup = choose_gemm_backend(config, *comm);
  EXPECT_TRUE(setup.measured);
  ASSERT_EQ(setup.timings.size(), available_gemm_backends().size());
  EXPECT_EQ(setup.backend, fastest_gemm(setup.timings).backend);
  const pb::GemmRates rates = gemm_rates(setup);
  EXPECT_EQ(rates.has_onednn(), gemm_backend_available(GemmBackend::kOnednn));
  EXPECT_TRUE(rates.has_eigen());
  EXPECT_EQ(rates.has_blas(), gemm_backend_available(GemmBackend::kBlas));
  EXPECT_GT(rates.eigen(), 0.0);
}

TEST(GemmSetup, UnknownNameIsAUsageError) {
  const auto comm = make_local_communicator();
  pb::TrainConfig config = resolved_config("", 4, 2, 1);
  config.set_gemm("mkl");
  EXPECT_THROW(choose_gemm_backend(config, *comm), UsageError);
}

}  // namespace
}  // namespace mlp
