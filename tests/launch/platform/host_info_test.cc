// Process and host facts: the peak RSS follows memory the process touches, the CPU model is read,
// and the gathered host facts of a one-rank world are this process's.
#include "launch/platform/host_info.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <vector>

namespace mlp {
namespace {

TEST(HostInfo, PeakRssCountsTouchedMemory) {
  const double before = peak_rss_mb();
  EXPECT_GT(before, 1.0);
  std::vector<char> block(64 << 20, 1);  // 64 MB, every page written
  EXPECT_GE(peak_rss_mb(), before + 60) << static_cast<int>(block[12345]);
}

TEST(HostInfo, RankHostsOfOneRankAreThisProcesss) {
  const std::unique_ptr<Communicator> comm = make_local_communicator();
  const std::vector<RankHost> hosts = gather_rank_hosts(*comm, "eigen");
  ASSERT_EQ(hosts.size(), 1u);
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  EXPECT_EQ(hosts[0].host, name);
  EXPECT_EQ(hosts[0].cpu, cpu_model_name());
  EXPECT_NE(hosts[0].cpu, "unknown");  // Linux always has /proc/cpuinfo
  EXPECT_EQ(hosts[0].gemm, "eigen");
}

}  // namespace
}  // namespace mlp
