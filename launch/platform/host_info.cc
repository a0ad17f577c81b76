// Process and host facts; see host_info.h.
#include "launch/platform/host_info.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

#include "core/input_file.h"

namespace mlp {
namespace {

// The value of the first "key<tabs>: value" line of /proc/cpuinfo with that key, or "".
std::string cpuinfo_field(const std::string& key) {
  std::string text;
  read_whole_file("/proc/cpuinfo", &text);  // unreadable: no fields
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos || line.compare(0, key.size(), key) != 0) continue;
    if (line.find_first_not_of(" \t", key.size()) != colon) continue;
    const size_t value = line.find_first_not_of(' ', colon + 1);
    return value == std::string::npos ? "" : line.substr(value);
  }
  return "";
}

}  // namespace

double peak_rss_mb() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux counts kilobytes
}

std::string cpu_model_name() {
  const std::string name = cpuinfo_field("model name");
  if (name.empty()) return "unknown";
  // Some hypervisors show only "Intel(R) Xeon(R) Processor": family and model tell CPUs apart.
  const std::string family = cpuinfo_field("cpu family"), model = cpuinfo_field("model");
  return family.empty() ? name : name + " (family " + family + " model " + model + ")";
}

std::string cpu_flags() { return cpuinfo_field("flags"); }

std::vector<RankHost> gather_rank_hosts(Communicator& comm, const std::string& gemm) {
  char host[kRankHostTextBytes] = {};
  ::gethostname(host, sizeof host - 1);
  const std::string mine[3] = {host, cpu_model_name(), gemm};
  std::vector<char> in(3 * kRankHostTextBytes, '\0');
  for (int k = 0; k < 3; ++k)
    std::strncpy(in.data() + k * kRankHostTextBytes, mine[k].c_str(), kRankHostTextBytes - 1);
  std::vector<char> out(in.size() * static_cast<size_t>(comm.size()));
  comm.set_activity({"exchanging host and CPU names"});
  comm.allgather(in.data(), in.size(), out.data());
  std::vector<RankHost> all(static_cast<size_t>(comm.size()));
  for (size_t r = 0; r < all.size(); ++r) {
    const char* slot = out.data() + r * in.size();
    all[r] = {slot, slot + kRankHostTextBytes, slot + 2 * kRankHostTextBytes};
  }
  return all;
}

void record_rank_hosts(const std::vector<RankHost>& hosts, pb::Event* event) {
  for (size_t r = 0; r < hosts.size(); ++r) {
    pb::RankHost* rank = event->add_ranks();
    rank->set_rank(static_cast<int>(r));
    rank->set_host(hosts[r].host);
    rank->set_cpu(hosts[r].cpu);
    *rank->mutable_gemm_backend() = hosts[r].gemm;
  }
}

}  // namespace mlp
