// An attempt of a trial as a process: its output appended to the log, its own process group,
// the trial lock held by the attempt (and no longer by the launcher) until it exits, a program
// that cannot run; and the failure reason read from the log's last attempt.
#include "launch/sweep/trial_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "core/errors.h"
#include "launch/sweep/ledger.h"
#include "tests/launch/sweep/test_support.h"

namespace mlp {
namespace {

using sweep_test::fresh_dir;
using sweep_test::slurp;
using sweep_test::write;

int open_log(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

int exit_code_of(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// Whether another open file description can take the trial's lock now.
bool lock_is_free(const std::string& dir, const std::string& id) {
  const int fd = ::open((trial_dir(dir, id) + "/.trial.lock").c_str(), O_RDWR | O_CLOEXEC);
  const bool free = fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  if (fd >= 0) ::close(fd);
  return free;
}

TEST(TrialProcess, AttemptLogsItsOutputInAGroupOfItsOwnHoldingTheLock) {
  const std::string dir = fresh_dir("attempt");
  std::filesystem::create_directories(trial_dir(dir, "t0"));
  const std::string log = trial_dir(dir, "t0") + "/trainer.log";
  write(log, "== sweep attempt 1: sh\n");
  const int lock_fd = lock_trial(dir, "t0");
  EXPECT_FALSE(lock_is_free(dir, "t0"));
  // The child waits on a pipe until the test has checked its group and the lock.
  ASSERT_EQ(::mkfifo((dir + "/go").c_str(), 0600), 0);
  const pid_t pid =
      start_attempt({"sh", "-c", "echo out; echo err >&2; read line < " + dir + "/go; exit 3"},
                    open_log(log), lock_fd);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(::fcntl(lock_fd, F_GETFD), -1);  // the launcher's copy is closed
  EXPECT_FALSE(lock_is_free(dir, "t0"));     // the attempt holds it
  EXPECT_EQ(::getpgid(pid), pid);
  write(dir + "/go", "\n");
  EXPECT_EQ(exit_code_of(pid), 3);
  EXPECT_TRUE(lock_is_free(dir, "t0"));
  EXPECT_EQ(slurp(log), "== sweep attempt 1: sh\nout\nerr\n");
}

TEST(TrialProcess, AProgramThatCannotRunExits127WithALogLine) {
  const std::string dir = fresh_dir("missing");
  std::filesystem::create_directories(trial_dir(dir, "t0"));
  const std::string log = trial_dir(dir, "t0") + "/trainer.log";
  const pid_t pid =
      start_attempt({"/nonexistent/mpirun", "-np", "1"}, open_log(log), lock_trial(dir, "t0"));
  EXPECT_EQ(exit_code_of(pid), 127);
  EXPECT_EQ(slurp(log), "sweep: cannot run /nonexistent/mpirun\n");
  EXPECT_EQ(failure_reason(log), "sweep: cannot run /nonexistent/mpirun");
}

TEST(TrialProcess, TheLaunchCheckPassesSilentlyOrNamesTheFirstMessageLine) {
  const std::string dir = fresh_dir("launch_check");
  const std::string log = dir + "/check.log";
  check_trials_can_start({"sh", "-c", "echo usage"}, log);
  EXPECT_FALSE(std::filesystem::exists(log));
  try {
    check_trials_can_start({"sh", "-c", "echo ----; echo; echo '  no slots'; echo more; exit 3"},
                           log);
    ADD_FAILURE() << "no error";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "cannot start trials: `sh -c echo ----; echo; echo '  no slots'; echo more; exit "
                 "3` exited with code 3: no slots");
  }
  EXPECT_FALSE(std::filesystem::exists(log));
  try {
    check_trials_can_start({"/nonexistent/mpirun", "-np", "1"}, log);
    ADD_FAILURE() << "no error";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "cannot start trials: `/nonexistent/mpirun -np 1` exited with code 127: sweep: "
                 "cannot run /nonexistent/mpirun");
  }
}

TEST(TrialProcess, FailureReasonIsTheLastAttemptsErrorLineElseItsLastLine) {
  const std::string dir = fresh_dir("reason");
  const std::string log = dir + "/trainer.log";
  write(log,
        "== sweep attempt 1: mpirun\n"
        "trainer: error: --lr: must be a positive number\n"
        "-------\nmpirun detected that one or more processes exited\n");
  EXPECT_EQ(failure_reason(log), "trainer: error: --lr: must be a positive number");
  write(log, slurp(log) + "== sweep attempt 2: mpirun\nepoch 1\nKilled\n\n");
  EXPECT_EQ(failure_reason(log), "Killed");
  EXPECT_EQ(failure_reason(dir + "/absent.log"), "");
}

}  // namespace
}  // namespace mlp
