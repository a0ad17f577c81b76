// The report's plot step: a plotting script run by the first python3 with matplotlib; see
// plot_step.h.
#include "launch/sweep/plot_step.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

extern char** environ;

namespace mlp {
namespace {

// Runs argv to completion; its output is discarded when quiet. Returns the exit status, or -1
// when it could not start or was killed.
int spawn_and_wait(std::vector<std::string> args, bool quiet) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (quiet) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  }
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The first Python with matplotlib: the one in PATH, else Debian's (python3-matplotlib installs
// for /usr/bin/python3, which a virtualenv or pyenv in PATH may hide). Empty when none.
std::string python_with_matplotlib() {
  for (const char* python : {"python3", "/usr/bin/python3"})
    if (spawn_and_wait({python, "-c", "import matplotlib"}, true) == 0) return python;
  return "";
}

}  // namespace

void run_plot_script(const std::string& script, const std::string& dir, std::FILE* out) {
  if (!std::filesystem::exists(script)) {
    std::fprintf(out, "plots skipped: %s not found\n", script.c_str());
    return;
  }
  const std::string python = python_with_matplotlib();
  if (python.empty()) {
    std::fprintf(
        out,
        "plots skipped: no python3 with matplotlib (Debian: apt-get install python3-matplotlib)\n");
    return;
  }
  std::fflush(out);
  const int status = spawn_and_wait({python, script, dir}, false);
  if (status != 0)
    std::fprintf(out, "plots failed: %s %s exited with status %d\n", python.c_str(), script.c_str(),
                 status);
}

}  // namespace mlp
