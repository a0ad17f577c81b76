// One attempt of a sweep trial as a process: the trial folder's lock, which the attempt's mpirun
// inherits so that a later launcher waits for it; the attempt started as a process group of its
// own with its output appended to the trial's log; and why a failed attempt failed, from that
// log. The scheduling around attempts is runner.cc's.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace mlp {

// Locks DIR/trials/<id>/.trial.lock, waiting while an earlier launcher's mpirun (which
// inherited the lock) still runs in the folder. Returns the descriptor holding the lock. Throws
// UsageError "path: cannot open: why" or "path: cannot lock: why".
int lock_trial(const std::string& sweep_dir, const std::string& id);

// Starts argv (argv[0] searched in PATH) as the leader of a new process group, stdout and stderr
// appended to log_fd, holding the trial lock lock_fd across exec; the child gets SIGUSR1 (a stop
// request its mpirun passes on) when the launcher dies. Closes log_fd and lock_fd in the launcher.
// A program that cannot be run exits 127 with "sweep: cannot run argv[0]" in the log. Returns the
// child's pid; throws Error(kRankFailure) when fork fails.
pid_t start_attempt(const std::vector<std::string>& argv, int log_fd, int lock_fd);

// argv's words joined by spaces, as a log shows the command.
std::string command_line(const std::vector<std::string>& argv);

// Runs argv (argv[0] searched in PATH; mpirun starting the trainer with --help) with its output in
// log_path, which is removed afterwards. Throws UsageError "cannot start trials: `argv` exited
// with code N: why" when it fails, why being its first line that is not a banner's rule (mpirun's
// refusal to run as root, a missing trainer, too few slots), so that a launch that can never
// work stops the sweep before any trial spends its attempts on it.
void check_trials_can_start(const std::vector<std::string>& argv, const std::string& log_path);

// Why the last attempt logged in the file at log_path failed: the trainer's one-line error, which
// mpirun follows with banners of its own; else the last non-empty line; "" for an unreadable log.
// Attempts start with a "== sweep attempt" line.
std::string failure_reason(const std::string& log_path);

}  // namespace mlp
