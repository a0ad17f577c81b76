// Attempts of sweep trials as processes; see trial_process.h.
#include "launch/sweep/trial_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "core/errors.h"
#include "core/input_file.h"
#include "launch/sweep/ledger.h"

namespace mlp {
namespace {

constexpr int kExitStopped = static_cast<int>(ExitCode::kStoppedBySignal);

// Runs in the forked child: only async-signal-safe calls until exec.
[[noreturn]] void exec_child(char* const* argv, const std::string& exec_error, int log_fd,
                             int lock_fd, pid_t parent) {
  ::setpgid(0, 0);
  // A launcher killed outright must not leave trials running: SIGUSR1 makes mpirun pass the
  // stop request to the trainers, which checkpoint and exit.
  ::prctl(PR_SET_PDEATHSIG, SIGUSR1);
  if (::getppid() != parent) ::_exit(kExitStopped);
  ::dup2(log_fd, STDOUT_FILENO);
  ::dup2(log_fd, STDERR_FILENO);
  ::fcntl(lock_fd, F_SETFD, 0);
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  ::execvp(argv[0], argv);
  [[maybe_unused]] const ssize_t written =
      ::write(STDERR_FILENO, exec_error.data(), exec_error.size());
  ::_exit(127);
}

}  // namespace

int lock_trial(const std::string& sweep_dir, const std::string& id) {
  const std::string path = trial_dir(sweep_dir, id) + "/.trial.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw UsageError(path + ": cannot open: " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    std::fprintf(stderr, "sweep: waiting for an earlier run of trial %s to exit\n", id.c_str());
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        ::close(fd);
        throw UsageError(path + ": cannot lock: " + std::strerror(errno));
      }
    }
  }
  return fd;
}

pid_t start_attempt(const std::vector<std::string>& args, int log_fd, int lock_fd) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const std::string exec_error = "sweep: cannot run " + args[0] + "\n";
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) exec_child(argv.data(), exec_error, log_fd, lock_fd, parent);
  const int fork_errno = errno;
  // Both sides set the group so a signal to it cannot race the child's own setpgid.
  if (pid > 0) ::setpgid(pid, pid);
  ::close(log_fd);
  ::close(lock_fd);
  if (pid < 0)
    throw Error(ExitCode::kRankFailure, std::string("fork: ") + std::strerror(fork_errno));
  return pid;
}

std::string command_line(const std::vector<std::string>& args) {
  std::string command;
  for (const std::string& a : args) command += (command.empty() ? "" : " ") + a;
  return command;
}

void check_trials_can_start(const std::vector<std::string>& args, const std::string& log_path) {
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) throw UsageError(log_path + ": cannot open: " + errno_text());
  const int lock_fd = ::dup(log_fd);  // a stand-in: no trial is locked for the check
  const pid_t pid = start_attempt(args, log_fd, lock_fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::string log;
  read_whole_file(log_path, &log);
  std::error_code ignored;
  std::filesystem::remove(log_path, ignored);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  std::string why, line;
  std::istringstream in(log);
  while (why.empty() && std::getline(in, line))
    if (line.find_first_not_of("- \t") != std::string::npos)
      why = line.substr(line.find_first_not_of(" \t"));
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  throw UsageError("cannot start trials: `" + command_line(args) + "` exited with code " +
                   std::to_string(code) + (why.empty() ? "" : ": " + one_line(why)));
}

std::string failure_reason(const std::string& log_path) {
  std::string log;
  read_whole_file(log_path, &log);  // unreadable: no reason to give
  std::istringstream in(log);
  std::string line, last, error;
  while (std::getline(in, line)) {
    if (line.rfind("== sweep attempt", 0) == 0) error.clear();
    if (line.find("error:") != std::string::npos) error = line;
    if (!line.empty()) last = line;
  }
  return one_line(error.empty() ? last : error);
}

}  // namespace mlp
