// Running a real binary of the project from a test: its exit code and what it printed, captured
// through files named after a caller-chosen base path (tests of one file run in parallel).
#pragma once

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace mlp::test {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A fresh, empty folder for the running test, TempDir/<prefix>_<suite>_<test>[_<name>]: CTest
// runs the tests of one file in parallel processes, so no two tests may share a folder.
inline std::string fresh_test_dir(const std::string& prefix, const std::string& name = "") {
  const testing::TestInfo* info = testing::UnitTest::GetInstance()->current_test_info();
  std::string leaf = prefix + "_" + info->test_suite_name() + "_" + info->name();
  if (!name.empty()) leaf += "_" + name;
  std::replace(leaf.begin(), leaf.end(), '/', '_');  // parameterized tests: "Suite/Name/0"
  const std::filesystem::path path =
      (std::filesystem::path(testing::TempDir()) / leaf).lexically_normal();
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  return path.string();
}

struct Run {
  int exit_code = -1;  // -1 when the process did not exit normally
  std::string out, err;
};

// Runs `binary args` through the shell, capturing stdout and stderr in log_base.stdout/.stderr.
inline Run run_binary(const std::string& binary, const std::string& args,
                      const std::string& log_base) {
  const std::string out = log_base + ".stdout", err = log_base + ".stderr";
  const std::string command = binary + " " + args + " >" + out + " 2>" + err;
  const int status = std::system(command.c_str());
  Run r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// Runs args[0] with args (no shell, output not captured) and returns its peak resident set in
// KiB, ru_maxrss of the child alone; *exit_code is -1 when it did not exit normally.
inline long peak_rss_kib(const std::vector<std::string>& args, int* exit_code) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  *exit_code = -1;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return usage.ru_maxrss;
}

}  // namespace mlp::test
