// Choosing the run's matrix-product backend: a named one is set as is, "auto" times every
// available backend on the model's products and sets the fastest of them.
#include "launch/train/gemm_setup.h"

#include <gtest/gtest.h>

#include <memory>

#include "core/errors.h"
#include "core/gemm.h"

namespace mlp {
namespace {

TEST(GemmSetup, NamedBackendIsSetWithoutTiming) {
  const auto comm = make_local_communicator();
  pb::TrainConfig config;
  for (GemmBackend b : available_gemm_backends()) {
    config.set_gemm(gemm_backend_name(b));
    const GemmSetup setup = choose_gemm_backend(config, {20, 16, 3}, 8, *comm);
    EXPECT_EQ(setup.backend, b);
    EXPECT_EQ(gemm_backend(), b);
    EXPECT_FALSE(setup.measured);
    EXPECT_TRUE(setup.timings.empty());
  }
}

TEST(GemmSetup, AutoSetsTheFastestOfEveryAvailableBackend) {
  const auto comm = make_local_communicator();
  pb::TrainConfig config;
  ASSERT_EQ(config.gemm(), "auto");
  const GemmSetup setup = choose_gemm_backend(config, {64, 48, 10}, 32, *comm);
  EXPECT_TRUE(setup.measured);
  ASSERT_EQ(setup.timings.size(), available_gemm_backends().size());
  EXPECT_EQ(setup.backend, fastest_gemm(setup.timings).backend);
  EXPECT_EQ(gemm_backend(), setup.backend);
  const pb::GemmRates rates = gemm_rates(setup);
  EXPECT_EQ(rates.has_onednn(), gemm_backend_available(GemmBackend::kOnednn));
  EXPECT_TRUE(rates.has_eigen());
  EXPECT_EQ(rates.has_blas(), gemm_backend_available(GemmBackend::kBlas));
  EXPECT_GT(rates.eigen(), 0.0);
}

TEST(GemmSetup, UnknownNameIsAUsageError) {
  const auto comm = make_local_communicator();
  pb::TrainConfig config;
  config.set_gemm("mkl");
  EXPECT_THROW(choose_gemm_backend(config, {4, 2}, 1, *comm), UsageError);
}

}  // namespace
}  // namespace mlp
