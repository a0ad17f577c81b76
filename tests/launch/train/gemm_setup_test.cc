// Choosing the run's matrix-product backend: a named one is chosen as is, "auto" times every
// available backend on the model's products and chooses the fastest of them; bf16 runs on oneDNN,
// timed beside the float32 backends, with a warning when it is the slower, and a CPU without
// bf16 (pretended) is refused.
#include "launch/train/gemm_setup.h"

#include <gtest/gtest.h>

#include <cstdlib>
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

TEST(GemmSetup, Bf16RunsOnOnednnTimedBesideTheFloat32Backends) {
  if (!bf16_products_run()) GTEST_SKIP() << "no bf16 products on this CPU or build";
  const auto comm = make_local_communicator();
  pb::TrainConfig config = resolved_config("48", 64, 10, 32);
  config.set_precision(pb::BF16);
  const GemmSetup setup = choose_gemm_backend(config, *comm);
  EXPECT_EQ(setup.backend, GemmBackend::kOnednn);
  EXPECT_EQ(setup.precision, Precision::kBf16);
  EXPECT_EQ(setup.products().precision, Precision::kBf16);
  ASSERT_EQ(setup.timings.size(), available_gemm_backends().size() + 1);
  const pb::GemmRates rates = gemm_rates(setup);
  EXPECT_GT(rates.onednn_bf16(), 0.0);
  EXPECT_GT(rates.onednn(), 0.0);
}

TEST(GemmSetup, Bf16OnACpuWithoutItIsAUsageError) {
  if (!gemm_backend_available(GemmBackend::kOnednn)) GTEST_SKIP() << "no oneDNN in this build";
  const auto comm = make_local_communicator();
  pb::TrainConfig config = resolved_config("16", 20, 3, 8);
  config.set_precision(pb::BF16);
  setenv("MLP_HIDE_CPU_FEATURES", "avx512_bf16,amx_bf16", 1);
  EXPECT_THROW(choose_gemm_backend(config, *comm), UsageError);
  unsetenv("MLP_HIDE_CPU_FEATURES");
}

GemmSetup measured_bf16(double fp32_gflops, double bf16_gflops) {
  GemmSetup setup;
  setup.backend = GemmBackend::kOnednn;
  setup.precision = Precision::kBf16;
  setup.timings = {{GemmBackend::kOnednn, 1, fp32_gflops, Precision::kFp32},
                   {GemmBackend::kEigen, 1, fp32_gflops / 2, Precision::kFp32},
                   {GemmBackend::kOnednn, 1, bf16_gflops, Precision::kBf16}};
  return setup;
}

TEST(GemmSetup, SlowerBf16IsWarnedWithBothRates) {
  EXPECT_EQ(bf16_rate_warning(measured_bf16(110, 218)), "");
  EXPECT_EQ(bf16_rate_warning(measured_bf16(160, 82.5)),
            "oneDNN's bf16 products run at 82.5 GFLOP/s on this CPU, slower than onednn's float32 "
            "at 160 GFLOP/s on this model's products; --precision fp32 would train faster");
  GemmSetup fp32 = measured_bf16(160, 82.5);
  fp32.precision = Precision::kFp32;
  EXPECT_EQ(bf16_rate_warning(fp32), "");
}

TEST(GemmSetup, AnotherPrecisionOnResumeIsWarned) {
  const GemmSetup bf16 = measured_bf16(110, 218);
  EXPECT_EQ(precision_resume_warning(bf16, ""), "");
  EXPECT_EQ(precision_resume_warning(bf16, "bf16"), "");
  EXPECT_EQ(precision_resume_warning(bf16, "fp32").rfind(
                "the checkpoint was trained with --precision fp32, this run uses bf16: ", 0),
            0u);
}

}  // namespace
}  // namespace mlp
