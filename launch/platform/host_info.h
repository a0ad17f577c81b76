// Facts about the process and the host it runs on that a run records: its peak memory, and every
// rank's host name, CPU model and matrix-product backend (a mixed cluster shows which rank ran
// where).
#pragma once

#include <string>
#include <vector>

#include "dist/communicator.h"
#include "proto/run_records.pb.h"

namespace mlp {

// The process's peak resident set so far, in MB (the kernel's high-water mark, ru_maxrss).
double peak_rss_mb();

// The CPU's model name from /proc/cpuinfo ("Intel(R) Xeon(R) Processor"), with its family and
// model numbers where the name alone does not tell them apart; "unknown" when unreadable.
std::string cpu_model_name();

// The CPU's feature flags, the "flags" line of /proc/cpuinfo ("fpu vme de ... avx512f ..."); ""
// when unreadable. A host whose CPU was replaced (a VM moved to another machine) shows here.
std::string cpu_flags();

struct RankHost {
  std::string host;  // host name
  std::string cpu;   // cpu_model_name()
  std::string gemm;  // matrix-product backend
};

// Every rank's RankHost, in rank order, on every rank: a collective all ranks must call. Each
// text is cut to kRankHostTextBytes - 1 bytes.
constexpr size_t kRankHostTextBytes = 128;
std::vector<RankHost> gather_rank_hosts(Communicator& comm, const std::string& gemm);

// Appends one pb::RankHost per entry of `hosts` (in rank order) to event->ranks.
void record_rank_hosts(const std::vector<RankHost>& hosts, pb::Event* event);

}  // namespace mlp
