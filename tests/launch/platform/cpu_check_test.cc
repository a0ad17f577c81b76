// The start-up CPU check: a program built for an instruction set this CPU lacks ends before main
// with exit 2 and one line naming the set; the trainer, built for this host, starts.
#include <gtest/gtest.h>

#include <string>

#include "tests/launch/process_run.h"

namespace mlp {
namespace {

std::string test_dir() { return mlp::test::fresh_test_dir("cpu_check"); }

TEST(CpuCheck, MissingInstructionSetEndsBeforeMainWithOneLine) {
  __builtin_cpu_init();
  // AVX512-4FMAPS was only ever in Xeon Phi (Knights Mill).
  if (__builtin_cpu_supports("avx5124fmaps")) GTEST_SKIP() << "this CPU has avx5124fmaps";
  const mlp::test::Run r = mlp::test::run_binary(MLP_CPU_PROBE_PATH, "", test_dir() + "/probe");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");  // main never ran
  EXPECT_EQ(r.err,
            "cpu_check_probe: error: this CPU lacks avx5124fmaps, an instruction set this build "
            "was compiled for; rebuild on this host, or for all nodes of a mixed cluster with "
            "-DMLP_NATIVE=OFF or -DMLP_ARCH=<the oldest node's CPU>\n");
}

TEST(CpuCheck, ProgramsBuiltForThisHostStart) {
  const mlp::test::Run r = mlp::test::run_binary(MLP_TRAINER_PATH, "--help", test_dir() + "/help");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace mlp
