// What the tests that run whole sweeps share: `sweep run` started as a child process of the test
// (so that it can be signalled or killed), its exit code, and the reproducible numbers of a
// finished trial compared between two sweep folders.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/record_csv.h"
#include "launch/sweep/report.h"
#include "proto/epoch_metrics.pb.h"
#include "tests/launch/sweep/test_support.h"

namespace mlp::sweep_test {

inline std::string trainer_flag() { return std::string(" --trainer ") + MLP_TRAINER_PATH; }

// Starts `sweep run dir --max-ranks N extra` as a child process of the test, its stderr
// appended to dir/launcher.log.
inline pid_t start_sweep(const std::string& dir, const std::string& extra, int max_ranks = 2) {
  const std::string command = std::string(MLP_SWEEP_PATH) + " run " + dir + trainer_flag() + extra +
                              " --max-ranks " + std::to_string(max_ranks) + " 2>>" + dir +
                              "/launcher.log";
  allow_mpirun_as_root();
  const pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", ("exec " + command).c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

inline int wait_exit_code(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// The reproducible part of a trial, as named numbers: its summary without timings and peak
// memory, and every metrics row without throughput and time columns.
inline std::vector<std::pair<std::string, double>> results_of(const std::string& folder) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [key, value] : read_summary_numbers(folder + "/summary.json"))
    if (key.find("second") == std::string::npos && key != "peak_rss_mb")
      out.emplace_back(key, value);
  for (const pb::EpochMetrics& m : read_csv_records<pb::EpochMetrics>(folder + "/metrics.csv"))
    for (const google::protobuf::FieldDescriptor* f : present_fields(m))
      if (f->name().find("second") == std::string::npos)
        out.emplace_back(f->name(), number_field(m, f));
  return out;
}

// Resume is exact, so an interrupted and resumed trial reports exactly the numbers of one that
// ran through (null, read as NaN, matches null).
inline void expect_same_results(const std::string& a, const std::string& b) {
  const auto x = results_of(a), y = results_of(b);
  ASSERT_EQ(x.size(), y.size()) << a << " vs " << b;
  ASSERT_FALSE(x.empty()) << a;
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(x[i].first, y[i].first);
    if (std::isnan(x[i].second) && std::isnan(y[i].second)) continue;
    EXPECT_EQ(x[i].second, y[i].second)
        << x[i].first << " (entry " << i << ") of " << a << " vs " << b;
  }
}

}  // namespace mlp::sweep_test
