// Choosing the run's matrix-product backend: a named one is chosen as is, "auto" times every
// available backend on the model's products, chooses the fastest of them and remembers it in the
// cache folder, the next "auto" of the same shapes reuses it without timing, "remeasure" times
// again, and the exact mode times the products of its blocks; bf16 runs on oneDNN, timed beside
// the float32 backends, with a warning when it is the slower, and a CPU without bf16
// (pretended) is refused.
#include "launch/train/gemm_setup.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "core/errors.h"
#include "core/gemm.h"
#include "launch/train/gemm_memory.h"
#include "tests/launch/process_run.h"

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
  pb::TrainConfig config = resolved_config("48", 64, 10, 32);
  config.mutable_data()->set_cache_dir(test::fresh_test_dir("gemm_setup"));
  ASSERT_EQ(config.gemm(), "auto");
  const GemmSetup setup = choose_gemm_backend(config, *comm);
  EXPECT_TRUE(setup.measured);
  EXPECT_EQ(setup.choice, "measured");
  ASSERT_EQ(setup.timings.size(), available_gemm_backends().size());
  EXPECT_EQ(setup.backend, fastest_gemm(setup.timings).backend);
  const pb::GemmRates rates = gemm_rates(setup);
  EXPECT_EQ(rates.has_onednn(), gemm_backend_available(GemmBackend::kOnednn));
  EXPECT_TRUE(rates.has_eigen());
  EXPECT_EQ(rates.has_blas(), gemm_backend_available(GemmBackend::kBlas));
  EXPECT_GT(rates.eigen(), 0.0);
}

TEST(GemmSetup, AutoRemembersItsChoiceUntilAskedToRemeasure) {
  const auto comm = make_local_communicator();
  pb::TrainConfig config = resolved_config("48", 64, 10, 32);
  const std::string dir = test::fresh_test_dir("gemm_setup");
  config.mutable_data()->set_cache_dir(dir);
  const GemmSetup first = choose_gemm_backend(config, *comm);
  ASSERT_TRUE(first.notes.empty()) << first.notes[0];
  EXPECT_EQ(first.choice_file.rfind(dir + "/gemm-choice-", 0), 0u) << first.choice_file;
  const GemmSetup again = choose_gemm_backend(config, *comm);
  EXPECT_FALSE(again.measured);
  EXPECT_EQ(again.choice, "remembered");
  EXPECT_EQ(again.backend, first.backend);
  EXPECT_EQ(again.choice_file, first.choice_file);
  EXPECT_DOUBLE_EQ(gemm_rates(again).eigen(), gemm_rates(first).eigen());
  // Other shapes have a memory of their own.
  config.set_batch_size(33);
  EXPECT_TRUE(choose_gemm_backend(config, *comm).measured);
  config.set_batch_size(32);
  config.set_gemm("remeasure");
  const GemmSetup remeasured = choose_gemm_backend(config, *comm);
  EXPECT_TRUE(remeasured.measured);
  EXPECT_EQ(remeasured.choice_file, first.choice_file);
}

TEST(GemmSetup, TheExactModeTimesTheProductsOfItsLargestBlock) {
  const auto comm = make_local_communicator();
  pb::TrainConfig config = resolved_config("48", 64, 10, 32);
  config.mutable_data()->set_cache_dir(test::fresh_test_dir("gemm_setup"));
  config.set_exact_blocks(5);
  const GemmSetup setup = choose_gemm_backend(config, *comm);
  // Blocks of 7 samples: the forward product is 48x7x64.
  const std::string file = test::slurp(setup.choice_file);
  EXPECT_NE(file.find("products: \"48x7x64 "), std::string::npos) << file;
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
