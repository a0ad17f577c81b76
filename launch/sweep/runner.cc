// Local sweep execution: the scheduling of trial attempts over the rank limit, what each exit
// code makes of a trial, and the ledger kept crash-safe on every change; see runner.h. The
// attempts' processes are trial_process.h's.
#include "launch/sweep/runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "core/errors.h"
#include "core/seconds_since.h"
#include "launch/sweep/halving.h"
#include "launch/sweep/halving_report.h"
#include "launch/sweep/ledger.h"
#include "launch/sweep/trial_process.h"

namespace mlp {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kExitNonFinite = static_cast<int>(ExitCode::kNonFinite);
constexpr int kExitStopped = static_cast<int>(ExitCode::kStoppedBySignal);

volatile std::sig_atomic_t stop_signals = 0;

extern "C" void on_stop(int) { stop_signals = stop_signals + 1; }

// Installs the SIGINT/SIGTERM counters for the launcher's lifetime and restores the previous
// handlers after, so a caller (a test) keeps its own behaviour.
class StopHandlers {
 public:
  StopHandlers() {
    stop_signals = 0;
    struct sigaction action {};
    action.sa_handler = on_stop;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~StopHandlers() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

struct Running {
  int index;  // into the ledger's trials
  Clock::time_point start;
  bool timed_out = false;  // ended for running past --trial-timeout
};

std::string duration_text(double seconds) {
  const long s = std::lround(seconds);
  char text[32];
  if (s >= 3600)
    std::snprintf(text, sizeof text, "%ldh%02ldm", s / 3600, s / 60 % 60);
  else if (s >= 60)
    std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
  else
    std::snprintf(text, sizeof text, "%.1fs", seconds);
  return text;
}

std::string describe(const pb::SweepLedger& ledger, const pb::TrialRecord& t) {
  const std::string axes = t.axis_value_size() > 0 ? axis_description(ledger, t) + ", " : "";
  return t.id() + " (" + axes + "seed " + std::to_string(t.seed()) + ")";
}

class Scheduler {
 public:
  Scheduler(std::string dir, pb::SweepLedger ledger, const SweepRunOptions& options, int slots)
      : dir_(std::move(dir)), options_(options), slots_(slots), ledger_(std::move(ledger)) {}

  int run() {
    recover();
    advance();
    const StopHandlers handlers;
    progress();
    int forwarded = 0;
    while (true) {
      while (stop_signals == 0 && static_cast<int>(running_.size()) < slots_) {
        const int next = next_runnable();
        if (next < 0) break;
        launch(next);
      }
      if (running_.empty()) break;
      if (stop_signals > forwarded) {
        forwarded = stop_signals;
        stop_children(forwarded == 1 ? SIGUSR1 : SIGTERM);
      }
      end_overdue_trials();
      int status = 0;
      const pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid == 0 || (pid < 0 && errno == EINTR)) {
        // Polling keeps signal handling simple: no race between a flag check and a blocking wait.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      if (pid < 0)
        throw Error(ExitCode::kRankFailure, std::string("waitpid: ") + std::strerror(errno));
      finish(pid, WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
      advance();
    }
    return conclude();
  }

 private:
  pb::TrialRecord& trial(int index) { return *ledger_.mutable_trial(index); }

  // Brings a ledger left by an earlier launcher into a state this one can schedule from.
  void recover() {
    bool changed = false;
    for (int i = 0; i < ledger_.trial_size(); ++i) {
      pb::TrialRecord& t = trial(i);
      const pb::TrialState before = t.state();
      if (t.state() == pb::RUNNING) {
        // Once the other runner (a dead launcher's mpirun, a SLURM task) has let go of the
        // trial's lock, its state file says how it ended; if it still says running, summary.json
        // tells whether it finished: the file is removed before each attempt and written by the
        // trainer only at the end of a run.
        ::close(lock_trial(dir_, t.id()));
        read_trial_state(dir_, &t);
      }
      if (t.state() == pb::RUNNING) {
        const bool finished = std::filesystem::exists(trial_dir(dir_, t.id()) + "/summary.json");
        t.set_state(finished ? pb::DONE : pb::PLANNED);
        std::fprintf(stderr, "sweep: trial %s was running when its launcher stopped; %s\n",
                     t.id().c_str(), finished ? "it finished" : "resuming it");
      }
      const bool attempts_left = t.failures() < options_.retries;
      if (t.state() == pb::FAILED && attempts_left && rung_decided(ledger_, t)) {
        std::fprintf(stderr,
                     "sweep: trial %s failed before its rung was decided, and that decision "
                     "stands: it is not retried\n",
                     t.id().c_str());
      } else if (t.state() == pb::FAILED && attempts_left) {
        t.set_state(pb::PLANNED);
      } else if (t.state() == pb::PLANNED && !attempts_left) {
        t.set_state(pb::FAILED);
      }
      if (t.state() != before) {
        write_trial_state(dir_, t);
        changed = true;
      }
    }
    if (changed) write_ledger(dir_, ledger_);
  }

  // Records a change of one trial: its own state file, then the ledger.
  void save(const pb::TrialRecord& t) {
    write_trial_state(dir_, t);
    write_ledger(dir_, ledger_);
  }

  // Successive halving: decides every rung whose trials have all reached it or ended. The ledger
  // with the decision goes first; a state file left behind by a crash still says paused, and the
  // recorded decision is applied to it again on the next run.
  void advance() {
    std::set<std::pair<std::string, int>> known;
    for (const pb::RungDecision& d : ledger_.decision()) known.insert({d.bracket(), d.rung()});
    const std::vector<int> changed = advance_halving(dir_, &ledger_);
    if (changed.empty() && ledger_.decision_size() == static_cast<int>(known.size())) return;
    write_ledger(dir_, ledger_);
    for (int i : changed) write_trial_state(dir_, trial(i));
    for (const pb::RungDecision& d : ledger_.decision())
      if (!known.count({d.bracket(), d.rung()}))
        std::fprintf(stderr, "sweep: %s\n", decision_text(ledger_, d).c_str());
  }

  int next_runnable() {
    for (int i = 0; i < ledger_.trial_size(); ++i)
      if (trial(i).state() == pb::PLANNED) return i;
    return -1;
  }

  // mpirun starting the trainer with trainer_args on the trial's ranks. Open MPI binds rank 0 of
  // every job to core 0, so trials running side by side would share one core; the kernel spreads
  // unbound processes over the free ones.
  std::vector<std::string> trainer_command(const std::vector<std::string>& trainer_args) const {
    std::vector<std::string> args = {
        options_.mpirun, "-np",  std::to_string(ledger_.ranks_per_trial()),
        "--bind-to",     "none", options_.trainer};
    args.insert(args.end(), trainer_args.begin(), trainer_args.end());
    return args;
  }

  void launch(int index) {
    if (!launch_checked_) {
      check_trials_can_start(trainer_command({"--help"}), dir_ + "/.launch_check.log");
      launch_checked_ = true;
    }
    pb::TrialRecord& t = trial(index);
    const std::string folder = trial_dir(dir_, t.id());
    const std::string config = folder + "/config.txt";
    const std::string log = folder + "/trainer.log";
    const int lock_fd = lock_trial(dir_, t.id());
    std::filesystem::remove(folder + "/summary.json");
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      ::close(lock_fd);
      throw UsageError(log + ": cannot open: " + std::strerror(errno));
    }

    // --out: the config holds the trial folder relative to the sweep folder, which may move.
    std::vector<std::string> args =
        trainer_command({"--config", config, "--out", folder, "--resume", "auto"});
    // Always given under halving: the trainer's config.txt in the folder holds the last value.
    if (ledger_.has_halving())
      args.insert(args.end(), {"--pause-after-epoch", std::to_string(pause_epoch(ledger_, t))});
    const std::string header =
        "== sweep attempt " + std::to_string(t.attempts() + 1) + ": " + command_line(args) + "\n";
    // The header is a courtesy: a failed write still lets the attempt run and log.
    [[maybe_unused]] const ssize_t written = ::write(log_fd, header.data(), header.size());

    t.set_attempts(t.attempts() + 1);
    t.set_state(pb::RUNNING);
    save(t);

    const pid_t pid = start_attempt(args, log_fd, lock_fd);
    running_[pid] = Running{index, Clock::now()};
    std::fprintf(stderr, "sweep: started %s, attempt %d\n", describe(ledger_, t).c_str(),
                 t.attempts());
  }

  // SIGTERM asks the trainers for a checkpoint (mpirun forwards it, and the group's ranks get it
  // directly); whatever still runs kTrialKillGraceSeconds later, a mpirun waiting for a lost
  // host's daemon say, is killed.
  void end_overdue_trials() {
    const double limit = options_.trial_timeout;
    if (limit <= 0) return;
    for (auto& [pid, r] : running_) {
      const double age = seconds_since(r.start);
      if (!r.timed_out && age > limit) {
        r.timed_out = true;
        std::fprintf(stderr, "sweep: trial %s ran past --trial-timeout %s; ending it\n",
                     describe(ledger_, trial(r.index)).c_str(), duration_text(limit).c_str());
        ::kill(-pid, SIGTERM);
      } else if (r.timed_out && age > limit + kTrialKillGraceSeconds) {
        ::kill(-pid, SIGKILL);
      }
    }
  }

  void stop_children(int signal_number) {
    std::fprintf(stderr, "sweep: stopping %zu running trial%s (%s)%s\n", running_.size(),
                 running_.size() == 1 ? "" : "s",
                 signal_number == SIGUSR1 ? "checkpoint and exit" : "now",
                 signal_number == SIGUSR1 ? "; signal again to end them at once" : "");
    for (const auto& [pid, r] : running_) {
      // SIGUSR1 goes to mpirun alone, which forwards it; SIGTERM to the whole group.
      if (signal_number == SIGUSR1)
        ::kill(pid, SIGUSR1);
      else
        ::kill(-pid, SIGTERM);
    }
  }

  void finish(pid_t pid, int code) {
    const auto it = running_.find(pid);
    if (it == running_.end()) return;
    const Running r = it->second;
    running_.erase(it);
    pb::TrialRecord& t = trial(r.index);
    const double wall = seconds_since(r.start);
    t.add_exit_codes(code);
    std::string what;
    const bool paused = code == 0 && ledger_.has_halving() &&
                        !std::filesystem::exists(trial_dir(dir_, t.id()) + "/summary.json");
    if (code == 0) {
      // A paused trial wrote no summary.json: it is not finished.
      t.set_state(paused ? pb::PAUSED : pb::DONE);
      if (!paused) t.set_wall_seconds(wall);
      finished_seconds_ += wall;
      ++finished_;
      what = (paused ? "paused at epoch " + std::to_string(pause_epoch(ledger_, t)) + " after "
                     : "done in ") +
             duration_text(wall);
    } else if (code == kExitNonFinite && !r.timed_out) {
      t.set_state(pb::DIVERGED);
      t.set_wall_seconds(wall);
      what = "diverged (non-finite loss, exit code 4); not retried";
    } else if ((code == kExitStopped || stop_signals > 0) && !r.timed_out) {
      t.set_state(pb::PLANNED);
      what = "interrupted (exit code " + std::to_string(code) + "); it resumes on the next run";
    } else {
      t.set_failures(t.failures() + 1);
      const bool again = t.failures() < options_.retries;
      t.set_state(again ? pb::PLANNED : pb::FAILED);
      const std::string log = trial_dir(dir_, t.id()) + "/trainer.log";
      what = "failed with exit code " + std::to_string(code) + " (" + std::to_string(t.failures()) +
             " of " + std::to_string(options_.retries) + " failures allowed" +
             (again ? ", retrying" : "") + "): " +
             (r.timed_out ? "ran past --trial-timeout " + duration_text(options_.trial_timeout)
                          : failure_reason(log)) +
             " [" + log + "]";
    }
    save(t);
    std::fprintf(stderr, "sweep: trial %s %s\n", describe(ledger_, t).c_str(), what.c_str());
    progress();
  }

  void progress() {
    int done = 0, failed = 0, diverged = 0, pending = 0, paused = 0, pruned = 0;
    for (const pb::TrialRecord& t : ledger_.trial()) {
      if (t.state() == pb::DONE)
        ++done;
      else if (t.state() == pb::FAILED)
        ++failed;
      else if (t.state() == pb::DIVERGED)
        ++diverged;
      else if (t.state() == pb::PLANNED)
        ++pending;
      else if (t.state() == pb::PAUSED)
        ++paused;
      else if (t.state() == pb::PRUNED)
        ++pruned;
    }
    // Paused trials with nothing running wait for their rung's decision, which comes next.
    std::string eta = pending == 0 && running_.empty() && paused == 0 ? "nothing left to run"
                                                                      : "ETA once a trial finishes";
    if (finished_ > 0 && (pending > 0 || !running_.empty())) {
      const double mean = finished_seconds_ / finished_;
      double work = pending * mean;
      for (const auto& [pid, r] : running_) work += std::max(0.0, mean - seconds_since(r.start));
      eta = "ETA " + duration_text(work / slots_);
    }
    const std::string halving =
        ledger_.has_halving()
            ? ", " + std::to_string(paused) + " paused, " + std::to_string(pruned) + " pruned"
            : "";
    std::fprintf(stderr,
                 "sweep: %d/%d done, %zu running, %d failed, %d diverged%s, %d waiting; %s\n", done,
                 ledger_.trial_size(), running_.size(), failed, diverged, halving.c_str(), pending,
                 eta.c_str());
  }

  int conclude() {
    if (stop_signals > 0) {
      std::fprintf(stderr, "sweep: stopped by a signal; run `sweep run %s` again to continue\n",
                   dir_.c_str());
      return kExitStopped;
    }
    bool failed = false, undecided = false;
    for (const pb::TrialRecord& t : ledger_.trial()) {
      failed = failed || t.state() == pb::FAILED;
      undecided =
          undecided || (t.state() == pb::FAILED && ledger_.has_halving() &&
                        t.rung() + 1 < ledger_.rung_epochs_size() && !rung_decided(ledger_, t));
    }
    if (undecided)
      std::fprintf(stderr,
                   "sweep: a rung was left undecided: every trial taking part in it failed; fix "
                   "the cause and run again with a larger --retries\n");
    return failed ? 1 : 0;
  }

  std::string dir_;
  SweepRunOptions options_;
  int slots_;
  bool launch_checked_ = false;  // mpirun started the trainer once (check_trials_can_start)
  pb::SweepLedger ledger_;
  std::map<pid_t, Running> running_;
  double finished_seconds_ = 0;
  int finished_ = 0;
};

}  // namespace

int run_sweep(const std::string& sweep_dir, const SweepRunOptions& options) {
  if (options.retries < 1) throw UsageError("--retries: must be at least 1");
  if (options.max_ranks < 0) throw UsageError("--max-ranks: must be positive");
  if (!(options.trial_timeout >= 0))
    throw UsageError("--trial-timeout: must be a number of seconds >= 0 (0: no limit)");
  const std::string dir = std::filesystem::absolute(sweep_dir).lexically_normal().string();
  read_ledger(dir);  // a folder without a plan gets that message, not a locking error
  const SweepLock lock(dir);
  const pb::SweepLedger ledger = read_ledger(dir);
  const int cores = std::max(1u, std::thread::hardware_concurrency());
  const int limit = options.max_ranks > 0    ? options.max_ranks
                    : ledger.max_ranks() > 0 ? ledger.max_ranks()
                                             : cores;
  const int ranks = std::max(1, ledger.ranks_per_trial());
  if (ranks > limit)
    throw UsageError("--max-ranks: a trial needs " + std::to_string(ranks) + " ranks but at most " +
                     std::to_string(limit) + " may run at once");
  if (options.trainer.empty()) throw UsageError("--trainer: no trainer binary given");
  Scheduler scheduler(dir, ledger, options, limit / ranks);
  return scheduler.run();
}

}  // namespace mlp
