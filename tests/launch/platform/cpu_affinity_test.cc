// The cpu-list formatter against hand-written lists, and the process's mask against the kernel's
// own rendering of it in /proc/self/status.
#include "launch/platform/cpu_affinity.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace mlp {
namespace {

TEST(CpuAffinity, FormatsRunsAsRanges) {
  EXPECT_EQ(format_cpu_list({}), "");
  EXPECT_EQ(format_cpu_list({0}), "0");
  EXPECT_EQ(format_cpu_list({0, 1}), "0-1");
  EXPECT_EQ(format_cpu_list({0, 1, 2, 5}), "0-2,5");
  EXPECT_EQ(format_cpu_list({1, 3, 5}), "1,3,5");
  EXPECT_EQ(format_cpu_list({2, 3, 7, 8, 9, 12}), "2-3,7-9,12");
}

TEST(CpuAffinity, MatchesTheKernelsCpusAllowedList) {
  std::ifstream status("/proc/self/status");
  std::string line, kernel_list;
  while (std::getline(status, line))
    if (line.rfind("Cpus_allowed_list:", 0) == 0)
      kernel_list = line.substr(line.find_first_not_of(" \t", line.find(':') + 1));
  ASSERT_FALSE(kernel_list.empty()) << "no Cpus_allowed_list in /proc/self/status";
  EXPECT_EQ(allowed_cpus(), kernel_list);
}

}  // namespace
}  // namespace mlp
