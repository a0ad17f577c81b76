// The sweep binary end to end under mpirun with the real trainer on small CSV trials: a launcher
// killed with SIGKILL and re-run finishes every trial once with the results of an uninterrupted
// sweep; failing trials are retried then marked failed, diverging ones are not retried; a launch
// that cannot work stops the sweep before any attempt; a trial
// past --trial-timeout is ended, counted failed and retried; SIGTERM
// stops the sweep with a consistent ledger; malformed specs fail with their line.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include "launch/platform/cpu_affinity.h"
#include "launch/sweep/ledger.h"
#include "launch/sweep/runner.h"
#include "tests/launch/run_records.h"
#include "tests/launch/sweep/sweep_runs.h"
#include "tests/launch/sweep/test_support.h"

namespace mlp {
namespace {

using sweep_test::expect_same_results;
using sweep_test::fresh_dir;
using sweep_test::run_sweep_binary;
using sweep_test::slurp;
using sweep_test::start_sweep;
using sweep_test::trainer_flag;
using sweep_test::wait_exit_code;
using sweep_test::write;

// Plans four trials into dir: two seeds of a 4-unit model that trains in milliseconds, then two
// of a 128-128 model that trains for a second or two, long enough to be caught mid-run.
void plan_short_then_long(const std::string& data, const std::string& dir) {
  const std::string train = sweep_test::write_blobs(data, "train.csv", 3000);
  const std::string test = sweep_test::write_blobs(data, "test.csv", 300);
  write(data + "/spec.txt", sweep_test::tiny_base(train, test, 30) +
                                "axis { field: \"model.hidden\" values: [\"4\", \"128,128\"] }\n"
                                "replicates: 2\n");
  const sweep_test::Run planned = run_sweep_binary("plan " + data + "/spec.txt --out " + dir, data);
  ASSERT_EQ(planned.exit_code, 0) << planned.err;
}

// Waits until the ledger shows a finished trial (when need_done) and a trial of the long
// configuration running with its first epoch logged; false when that does not happen in time.
bool wait_for_long_trial_mid_run(const std::string& dir, bool need_done) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < end) {
    try {
      const pb::SweepLedger ledger = read_ledger(dir);
      bool done = false, mid_run = false;
      for (const pb::TrialRecord& t : ledger.trial()) {
        done = done || t.state() == pb::DONE;
        mid_run = mid_run || (t.state() == pb::RUNNING && t.axis_value(0) == "128,128" &&
                              slurp(trial_dir(dir, t.id()) + "/trainer.log").find("epoch   1/") !=
                                  std::string::npos);
      }
      if (mid_run && (done || !need_done)) return true;
    } catch (const std::exception&) {
      // The ledger is replaced atomically, but may not exist yet.
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(SweepRun, KilledLauncherResumesAndMatchesAnUninterruptedSweep) {
  const std::string data = fresh_dir("resume_data");
  const std::string whole = data + "/whole", killed = data + "/killed";
  plan_short_then_long(data, whole);
  plan_short_then_long(data, killed);

  const pid_t uninterrupted = start_sweep(whole, "");
  ASSERT_EQ(wait_exit_code(uninterrupted), 0) << slurp(whole + "/launcher.log");

  const pid_t victim = start_sweep(killed, "");
  ASSERT_TRUE(wait_for_long_trial_mid_run(killed, true)) << slurp(killed + "/launcher.log");
  kill(victim, SIGKILL);
  EXPECT_EQ(wait_exit_code(victim), -SIGKILL);
  const pb::SweepLedger at_kill = read_ledger(killed);

  ASSERT_EQ(wait_exit_code(start_sweep(killed, "")), 0) << slurp(killed + "/launcher.log");
  const pb::SweepLedger a = read_ledger(whole), b = read_ledger(killed);
  ASSERT_EQ(a.trial_size(), 4);
  ASSERT_EQ(b.trial_size(), 4);
  int resumed = 0;
  for (int i = 0; i < 4; ++i) {
    const pb::TrialRecord& t = b.trial(i);
    ASSERT_EQ(t.id(), a.trial(i).id());
    EXPECT_EQ(t.state(), pb::DONE) << t.id();
    // Finished exactly once: a trial done before the kill is left alone, one caught mid-run gets
    // one more attempt, which succeeds.
    if (at_kill.trial(i).state() == pb::DONE) {
      EXPECT_EQ(t.DebugString(), at_kill.trial(i).DebugString());
    } else if (at_kill.trial(i).state() == pb::RUNNING && t.attempts() == 2) {
      EXPECT_EQ(t.exit_codes_size(), 1) << t.DebugString();
      EXPECT_EQ(t.exit_codes(0), 0) << t.DebugString();
      ++resumed;
    }
    expect_same_results(trial_dir(whole, t.id()), trial_dir(killed, t.id()));
  }
  EXPECT_GT(resumed, 0) << "no trial was caught mid-run:\n" << slurp(killed + "/launcher.log");
}

TEST(SweepRun, FailingTrialsAreRetriedAndDivergingOnesAreNot) {
  const std::string data = fresh_dir("failures");
  const std::string good = sweep_test::write_blobs(data, "good.csv", 120);
  // Features near the float limit overflow the first forward pass: a non-finite loss, exit 4.
  std::string huge;
  for (int i = 0; i < 30; ++i) huge += std::to_string(i % 3) + ",3e38,-3e38,3e38,3e38\n";
  write(data + "/huge.csv", huge);
  write(data + "/spec.txt",
        "base { model { hidden: \"4\" } epochs: 2 }\n"
        "axis { field: \"data.train_csv\" values: [\"" +
            good + "\", \"" + data + "/missing.csv\", \"" + data + "/huge.csv\"] }\n");
  const std::string dir = data + "/sweep";
  ASSERT_EQ(run_sweep_binary("plan " + data + "/spec.txt --out " + dir, data).exit_code, 0);

  const sweep_test::Run first =
      run_sweep_binary("run " + dir + trainer_flag() + " --retries 2", data);
  EXPECT_EQ(first.exit_code, 1) << first.err;
  pb::SweepLedger ledger = read_ledger(dir);
  ASSERT_EQ(ledger.trial_size(), 3);
  EXPECT_EQ(ledger.trial(0).state(), pb::DONE);
  EXPECT_EQ(ledger.trial(0).attempts(), 1);
  EXPECT_EQ(ledger.trial(1).state(), pb::FAILED);
  EXPECT_EQ(ledger.trial(1).attempts(), 2);
  EXPECT_EQ(ledger.trial(1).exit_codes_size(), 2);
  EXPECT_EQ(ledger.trial(1).exit_codes(0), 3);
  EXPECT_EQ(ledger.trial(2).state(), pb::DIVERGED);
  EXPECT_EQ(ledger.trial(2).attempts(), 1);
  EXPECT_EQ(ledger.trial(2).exit_codes(0), 4);
  EXPECT_NE(first.err.find("failed with exit code 3 (2 of 2 failures allowed): trainer: error: " +
                           data + "/missing.csv"),
            std::string::npos)
      << first.err;
  EXPECT_NE(first.err.find("1/3 done, 0 running, 1 failed, 1 diverged"), std::string::npos)
      << first.err;

  // A larger retry budget gives the failed trial one more attempt; nothing else runs again.
  const sweep_test::Run second =
      run_sweep_binary("run " + dir + trainer_flag() + " --retries 3", data);
  EXPECT_EQ(second.exit_code, 1) << second.err;
  ledger = read_ledger(dir);
  EXPECT_EQ(ledger.trial(0).attempts(), 1);
  EXPECT_EQ(ledger.trial(1).attempts(), 3);
  EXPECT_EQ(ledger.trial(1).state(), pb::FAILED);
  EXPECT_EQ(ledger.trial(2).attempts(), 1);
}

// An mpirun that can never start a trial (here one refusing to run as root, as Open MPI does
// without its two variables) stops the sweep before any trial spends an attempt on it; fixed, the
// same folder runs.
TEST(SweepRun, ALaunchThatCannotWorkStopsTheSweepBeforeAnyAttempt) {
  const std::string data = fresh_dir("launch_check");
  const std::string train = sweep_test::write_blobs(data, "train.csv", 120);
  write(data + "/spec.txt", "base { data { train_csv: \"" + train +
                                "\" } model { hidden: \"4\" } epochs: 1 }\nreplicates: 2\n");
  write(data + "/refusing_mpirun",
        "#!/bin/sh\necho ------------------\necho 'mpirun has detected an attempt to run as "
        "root.'\necho\necho 'Running as root is *strongly* discouraged'\nexit 1\n");
  std::filesystem::permissions(data + "/refusing_mpirun", std::filesystem::perms::owner_all);
  const std::string dir = data + "/sweep";
  ASSERT_EQ(run_sweep_binary("plan " + data + "/spec.txt --out " + dir, data).exit_code, 0);

  const sweep_test::Run refused = run_sweep_binary(
      "run " + dir + trainer_flag() + " --mpirun " + data + "/refusing_mpirun", data);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("sweep: error: cannot start trials: `" + data +
                             "/refusing_mpirun -np 1 --bind-to none "),
            std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find(" --help` exited with code 1: mpirun has detected an attempt to run "
                             "as root.\n"),
            std::string::npos)
      << refused.err;
  const pb::SweepLedger untouched = read_ledger(dir);
  for (const pb::TrialRecord& t : untouched.trial()) {
    EXPECT_EQ(t.state(), pb::PLANNED);
    EXPECT_EQ(t.attempts(), 0);
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/.launch_check.log"));

  const sweep_test::Run fixed = run_sweep_binary("run " + dir + trainer_flag(), data);
  EXPECT_EQ(fixed.exit_code, 0) << fixed.err;
  const pb::SweepLedger done = read_ledger(dir);
  for (const pb::TrialRecord& t : done.trial()) EXPECT_EQ(t.state(), pb::DONE);
}

// A trial that would run for minutes, as one waiting on a lost host would run forever: each
// attempt is ended at the limit, counts as a failure and is retried by the usual rules.
TEST(SweepRun, TrialPastItsTimeoutIsEndedCountedFailedAndRetried) {
  const std::string data = fresh_dir("timeout");
  const std::string train = sweep_test::write_blobs(data, "train.csv", 3000);
  const std::string test = sweep_test::write_blobs(data, "test.csv", 300);
  write(data + "/spec.txt", sweep_test::tiny_base(train, test, 100000) +
                                "axis { field: \"model.hidden\" values: [\"128,128\"] }\n");
  const std::string dir = data + "/sweep";
  ASSERT_EQ(run_sweep_binary("plan " + data + "/spec.txt --out " + dir, data).exit_code, 0);

  const auto start = std::chrono::steady_clock::now();
  const sweep_test::Run r =
      run_sweep_binary("run " + dir + trainer_flag() + " --retries 2 --trial-timeout 3", data);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_LT(seconds, 2 * (3 + kTrialKillGraceSeconds) + 20);
  const pb::SweepLedger ledger = read_ledger(dir);
  ASSERT_EQ(ledger.trial_size(), 1);
  EXPECT_EQ(ledger.trial(0).state(), pb::FAILED);
  EXPECT_EQ(ledger.trial(0).attempts(), 2);
  EXPECT_EQ(ledger.trial(0).failures(), 2);
  EXPECT_NE(r.err.find("ran past --trial-timeout 3.0s; ending it"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(1 of 2 failures allowed, retrying): ran past --trial-timeout 3.0s"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("(2 of 2 failures allowed): ran past --trial-timeout 3.0s"),
            std::string::npos)
      << r.err;
  EXPECT_NE(run_sweep_binary("run " + dir + trainer_flag() + " --trial-timeout -1", data)
                .err.find("--trial-timeout: must be a number of seconds >= 0"),
            std::string::npos);
}

TEST(SweepRun, SigtermStopsTheSweepAndTheNextRunFinishesIt) {
  const std::string data = fresh_dir("sigterm");
  const std::string dir = data + "/sweep";
  plan_short_then_long(data, dir);
  const pid_t launcher = start_sweep(dir, "");
  ASSERT_TRUE(wait_for_long_trial_mid_run(dir, false)) << slurp(dir + "/launcher.log");
  kill(launcher, SIGTERM);
  EXPECT_EQ(wait_exit_code(launcher), 75) << slurp(dir + "/launcher.log");
  const pb::SweepLedger stopped = read_ledger(dir);
  int interrupted = 0;
  for (const pb::TrialRecord& t : stopped.trial()) {
    EXPECT_TRUE(t.state() == pb::PLANNED || t.state() == pb::DONE) << t.DebugString();
    interrupted += t.state() == pb::PLANNED && t.attempts() == 1 && t.exit_codes_size() == 1;
  }
  EXPECT_GT(interrupted, 0) << slurp(dir + "/launcher.log");
  EXPECT_EQ(wait_exit_code(start_sweep(dir, "")), 0) << slurp(dir + "/launcher.log");
  const pb::SweepLedger finished = read_ledger(dir);
  for (const pb::TrialRecord& t : finished.trial()) {
    EXPECT_EQ(t.state(), pb::DONE);
    EXPECT_EQ(t.failures(), 0);
  }
}

// mpirun binds rank 0 of every job to the first core unless told otherwise; trials running side
// by side must keep every CPU the launcher has, or they would share one core.
TEST(SweepRun, TrialsRunningSideBySideKeepEveryCpuOfTheLauncher) {
  const std::string data = fresh_dir("affinity");
  const std::string train = sweep_test::write_blobs(data, "train.csv", 300);
  const std::string test = sweep_test::write_blobs(data, "test.csv", 30);
  write(data + "/spec.txt", sweep_test::tiny_base(train, test, 2) + "replicates: 2\n");
  const std::string dir = data + "/sweep";
  ASSERT_EQ(run_sweep_binary("plan " + data + "/spec.txt --out " + dir, data).exit_code, 0);
  ASSERT_EQ(wait_exit_code(start_sweep(dir, "")), 0) << slurp(dir + "/launcher.log");
  const pb::SweepLedger ledger = read_ledger(dir);
  ASSERT_EQ(ledger.trial_size(), 2);
  for (const pb::TrialRecord& t : ledger.trial()) {
    const std::vector<pb::Event> events = mlp::test::read_events(trial_dir(dir, t.id()));
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.front().event(), "start");
    EXPECT_EQ(events.front().cpus(), allowed_cpus());
  }
}

// Nothing in a planned folder names the folder: a copy runs in place of the original.
TEST(SweepRun, ACopiedSweepFolderRunsWhereItIs) {
  const std::string data = fresh_dir("relocated");
  const std::string train = sweep_test::write_blobs(data, "train.csv", 300);
  const std::string test = sweep_test::write_blobs(data, "test.csv", 30);
  write(data + "/spec.txt", sweep_test::tiny_base(train, test, 2) + "replicates: 2\n");
  ASSERT_EQ(
      run_sweep_binary("plan " + data + "/spec.txt --out " + data + "/planned", data).exit_code, 0);
  const std::string dir = data + "/copy";
  std::filesystem::copy(data + "/planned", dir, std::filesystem::copy_options::recursive);
  ASSERT_EQ(wait_exit_code(start_sweep(dir, "")), 0) << slurp(dir + "/launcher.log");
  const pb::SweepLedger ledger = read_ledger(dir);
  for (const pb::TrialRecord& t : ledger.trial()) {
    EXPECT_EQ(t.state(), pb::DONE);
    EXPECT_TRUE(std::filesystem::exists(trial_dir(dir, t.id()) + "/summary.json"));
    EXPECT_FALSE(std::filesystem::exists(trial_dir(data + "/planned", t.id()) + "/metrics.csv"));
  }
  EXPECT_EQ(read_ledger(data + "/planned").trial(0).state(), pb::PLANNED);
}

TEST(SweepCli, HelpShowsTheOperandAsAnOperand) {
  const std::string dir = fresh_dir("cli_help");
  for (const std::string command : {"plan", "run", "slurm", "report"}) {
    const sweep_test::Run r = run_sweep_binary(command + " --help", dir);
    EXPECT_EQ(r.exit_code, 0);
    const std::string operand = command == "plan" ? "SPEC" : "DIR";
    EXPECT_EQ(r.out.rfind(
                  "usage: sweep " + command + " " + operand + " [options]\n  " + operand + ": ", 0),
              0u)
        << r.out;
    EXPECT_EQ(r.out.find("--" + operand), std::string::npos) << r.out;
  }
}

TEST(SweepCli, MalformedSpecAndUnknownAxisFailWithExitTwo) {
  const std::string dir = fresh_dir("cli");
  write(dir + "/spec.txt",
        "base { epochs: 2 }\naxis { field: \"optimizer.lr\" values: \"0.1\" }\nsampels: 3\n");
  sweep_test::Run r = run_sweep_binary("plan " + dir + "/spec.txt --out " + dir + "/out", dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("sweep: error: " + dir + "/spec.txt:3:", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("sampels"), std::string::npos) << r.err;

  write(dir + "/spec.txt", "axis { field: \"model.droput\" values: \"0.1\" }\n");
  r = run_sweep_binary("plan " + dir + "/spec.txt --out " + dir + "/out", dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("axis 1 (\"model.droput\"): no config field named"), std::string::npos)
      << r.err;

  r = run_sweep_binary("run " + dir + "/nothing_planned", dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no ledger; run `sweep plan"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace mlp
