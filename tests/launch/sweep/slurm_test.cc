// The SLURM job-array script of a sweep: valid bash, one array task per unfinished trial with
// the throttle max_ranks / ranks_per_trial, the trial list it indexes, signal forwarding, a
// requeue of the task alone on exit 75, the trial's state file, and the checks of --time and
// --signal-seconds; and the one-allocation script of a successive-halving sweep.
#include "launch/sweep/slurm.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "core/errors.h"
#include "launch/sweep/ledger.h"
#include "launch/sweep/plan.h"
#include "tests/launch/sweep/test_support.h"

namespace mlp {
namespace {

using sweep_test::fresh_dir;
using sweep_test::slurp;
using sweep_test::write;

TEST(SweepSlurm, ArrayCoversUnfinishedTrialsWithThrottleAndPassesBashSyntaxCheck) {
  const std::string dir = fresh_dir("slurm");
  write(dir + "/spec.txt",
        "axis { field: \"optimizer.lr\" values: [\"0.1\", \"0.01\", \"0.001\"] }\n"
        "replicates: 2\nranks_per_trial: 2\nmax_ranks: 5\n");
  pb::SweepLedger ledger = write_sweep_plan(read_sweep_spec(dir + "/spec.txt"), dir);
  ASSERT_EQ(ledger.trial_size(), 6);
  ledger.mutable_trial(0)->set_state(pb::DONE);
  ledger.mutable_trial(3)->set_state(pb::DIVERGED);
  write_ledger(dir, ledger);

  SlurmOptions options;
  options.partition = "short";
  options.time = "00:30:00";
  options.trainer = "/opt/mlp/trainer";
  EXPECT_EQ(write_slurm_script(dir, options), 4);

  const std::string script = slurp(dir + "/sweep.sbatch");
  EXPECT_NE(script.find("\n#SBATCH --array=0-3%2\n"), std::string::npos) << script;
  EXPECT_NE(script.find("\n#SBATCH --ntasks=2\n"), std::string::npos);
  EXPECT_NE(script.find("\n#SBATCH --partition=short\n"), std::string::npos);
  EXPECT_NE(script.find("\n#SBATCH --time=00:30:00\n"), std::string::npos);
  // A tenth of the 30-minute limit.
  EXPECT_NE(script.find("\n#SBATCH --signal=B:USR1@180\n"), std::string::npos);
  EXPECT_NE(script.find("\nrun_passing_signals USR1 mpirun -np \"$SLURM_NTASKS\" --bind-to none "),
            std::string::npos);
  EXPECT_NE(script.find("task=\"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\""),
            std::string::npos);
  EXPECT_NE(script.find("scontrol requeue \"$task\""), std::string::npos);
  EXPECT_EQ(script.find("requeue \"$SLURM_JOB_ID\""), std::string::npos);
  EXPECT_NE(script.find("--resume auto"), std::string::npos);
  EXPECT_NE(script.find("TRAINER=\"${TRAINER:-/opt/mlp/trainer}\""), std::string::npos);

  const std::string list = slurp(dir + "/trials.list");
  EXPECT_EQ(list, ledger.trial(1).id() + "\n" + ledger.trial(2).id() + "\n" + ledger.trial(4).id() +
                      "\n" + ledger.trial(5).id() + "\n");

  const std::string check = "bash -n " + dir + "/sweep.sbatch";
  const int status = std::system(check.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << script;
}

// Runs array task 1 of the script in dir with stand-ins for mpirun, the trainer (exiting with
// `code`) and scontrol, which record what they were asked to do.
void run_array_task(const std::string& dir, int code) {
  write(dir + "/mpirun", "#!/bin/sh\nshift 4\nexec \"$@\"\n");
  write(dir + "/fake_trainer",
        "#!/bin/sh\necho \"$@\" > " + dir + "/ran.txt\nexit " + std::to_string(code) + "\n");
  write(dir + "/scontrol", "#!/bin/sh\necho \"$@\" > " + dir + "/scontrol.txt\n");
  const std::string command = "chmod +x " + dir + "/mpirun " + dir + "/fake_trainer " + dir +
                              "/scontrol && PATH=" + dir +
                              ":$PATH SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_JOB_ID=7 SLURM_NTASKS=1 "
                              "SLURM_JOB_ID=9 bash " +
                              dir + "/sweep.sbatch > " + dir + "/task.out 2>&1";
  const int status = std::system(command.c_str());
  const int expected = code == 75 ? 0 : code;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == expected) << slurp(dir + "/task.out");
}

TEST(SweepSlurm, ArrayTaskRunsTheTrialOnItsLineAndRecordsItsState) {
  const std::string dir = fresh_dir("slurm_task");
  write(dir + "/spec.txt", "axis { field: \"epochs\" values: [\"1\", \"2\", \"3\"] }\n");
  const pb::SweepLedger ledger = write_sweep_plan(read_sweep_spec(dir + "/spec.txt"), dir);
  SlurmOptions options;
  options.trainer = dir + "/fake_trainer";
  write_slurm_script(dir, options);
  const std::string trial = trial_dir(dir, ledger.trial(1).id());

  // Stopped by a signal: requeued alone (7_1, not the job id 9), planned again.
  run_array_task(dir, 75);
  EXPECT_EQ(slurp(dir + "/ran.txt"),
            "--config " + trial + "/config.txt --out " + trial + " --resume auto\n");
  EXPECT_EQ(slurp(dir + "/scontrol.txt"), "requeue 7_1\n");
  pb::SweepLedger after = read_ledger(dir);
  EXPECT_EQ(after.trial(1).state(), pb::PLANNED);
  EXPECT_EQ(after.trial(1).attempts(), 1);
  ASSERT_EQ(after.trial(1).exit_codes_size(), 1);
  EXPECT_EQ(after.trial(1).exit_codes(0), 75);

  // A failure, then a finished run: the ledger as read by `sweep run` and `sweep report` shows
  // every attempt; the other trials are untouched.
  run_array_task(dir, 3);
  after = read_ledger(dir);
  EXPECT_EQ(after.trial(1).state(), pb::FAILED);
  EXPECT_EQ(after.trial(1).failures(), 1);
  // A log that cannot be opened starts nothing: recorded failed with exit code 1, not left running.
  std::filesystem::rename(trial + "/trainer.log", trial + "/trainer.log.kept");
  std::filesystem::create_directory(trial + "/trainer.log");
  std::filesystem::remove(dir + "/ran.txt");
  run_array_task(dir, 1);  // the task's exit code; the trainer never starts
  EXPECT_FALSE(std::filesystem::exists(dir + "/ran.txt"));
  after = read_ledger(dir);
  EXPECT_EQ(after.trial(1).state(), pb::FAILED);
  EXPECT_EQ(after.trial(1).failures(), 2);
  ASSERT_EQ(after.trial(1).exit_codes_size(), 3);
  EXPECT_EQ(after.trial(1).exit_codes(2), 1);
  std::filesystem::remove(trial + "/trainer.log");
  std::filesystem::rename(trial + "/trainer.log.kept", trial + "/trainer.log");
  run_array_task(dir, 0);
  after = read_ledger(dir);
  EXPECT_EQ(after.trial(1).state(), pb::DONE);
  EXPECT_EQ(after.trial(1).attempts(), 4);
  EXPECT_EQ(after.trial(1).failures(), 2);
  EXPECT_EQ(after.trial(1).exit_codes_size(), 4);
  EXPECT_TRUE(after.trial(1).has_wall_seconds());
  EXPECT_EQ(after.trial(0).state(), pb::PLANNED);
  EXPECT_EQ(after.trial(2).state(), pb::PLANNED);
  // The next script leaves the finished trial out.
  EXPECT_EQ(write_slurm_script(dir, options), 2);
}

TEST(SweepSlurm, TimeLimitsInSlurmFormats) {
  EXPECT_EQ(slurm_time_seconds("90"), 90 * 60);
  EXPECT_EQ(slurm_time_seconds("2:30"), 150);
  EXPECT_EQ(slurm_time_seconds("04:00:00"), 4 * 3600);
  EXPECT_EQ(slurm_time_seconds("1-2"), 26 * 3600);
  EXPECT_EQ(slurm_time_seconds("1-02:30"), 26 * 3600 + 30 * 60);
  EXPECT_EQ(slurm_time_seconds("2-00:00:05"), 2 * 86400 + 5);
  for (const char* bad : {"bogus", "", "1:2:3:4", "-5", "1-", "5:", "0", "00:00:00", "UNLIMITED",
                          "1.5", "99999999999"}) {
    try {
      slurm_time_seconds(bad);
      ADD_FAILURE() << "accepted --time " << bad;
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("--time: \"" + std::string(bad) + "\" ", 0), 0u)
          << e.what();
    }
  }
}

TEST(SweepSlurm, SignalMustComeBeforeTheTimeLimit) {
  const std::string dir = fresh_dir("slurm_signal");
  write(dir + "/spec.txt", "axis { field: \"epochs\" values: [\"1\"] }\n");
  write_sweep_plan(read_sweep_spec(dir + "/spec.txt"), dir);
  SlurmOptions options;
  options.trainer = "/opt/mlp/trainer";
  options.time = "00:02:00";
  write_slurm_script(dir, options);
  EXPECT_NE(slurp(dir + "/sweep.sbatch").find("\n#SBATCH --signal=B:USR1@12\n"), std::string::npos);
  options.time = "1-00:00:00";
  write_slurm_script(dir, options);
  EXPECT_NE(slurp(dir + "/sweep.sbatch").find("\n#SBATCH --signal=B:USR1@600\n"),
            std::string::npos);

  options.time = "00:02:00";
  options.signal_seconds = 120;
  try {
    write_slurm_script(dir, options);
    ADD_FAILURE() << "a signal at the limit itself was accepted";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "--signal-seconds: 120 s must be at least 1, below the time limit (--time "
                 "00:02:00 is 120 s) and at most 65535");
  }
  options.time = "bogus";
  options.signal_seconds = 0;
  EXPECT_THROW(write_slurm_script(dir, options), UsageError);
}

TEST(SweepSlurm, NothingLeftToRunIsAnError) {
  const std::string dir = fresh_dir("slurm_done");
  write(dir + "/spec.txt", "axis { field: \"epochs\" values: [\"1\"] }\n");
  pb::SweepLedger ledger = write_sweep_plan(read_sweep_spec(dir + "/spec.txt"), dir);
  ledger.mutable_trial(0)->set_state(pb::DONE);
  write_ledger(dir, ledger);
  SlurmOptions options;
  options.trainer = "/opt/mlp/trainer";
  EXPECT_THROW(write_slurm_script(dir, options), UsageError);
}

// Paths go into the script verbatim: one the shell would reinterpret is refused, and the error
// line shows it quoted (a newline escaped).
TEST(SweepSlurm, PathsTheScriptCannotHoldAreRefused) {
  const std::string dir = fresh_dir("slurm_paths");
  write(dir + "/spec.txt", "axis { field: \"epochs\" values: [\"1\"] }\n");
  write_sweep_plan(read_sweep_spec(dir + "/spec.txt"), dir);
  // The error line write_slurm_script gives for a --trainer path; "" when it takes it.
  const auto refusal = [&](const std::string& trainer) {
    SlurmOptions options;
    options.trainer = trainer;
    try {
      write_slurm_script(dir, options);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(refusal("/opt/mlp/trainer\nrm"),
            "--trainer: \"/opt/mlp/trainer\\nrm\" contains a character the batch script cannot "
            "hold");
  EXPECT_EQ(refusal("/opt/$HOME/trainer"),
            "--trainer: \"/opt/$HOME/trainer\" contains a character the batch script cannot hold");
}

const char kHalvingSpec[] =
    "base { epochs: 9 }\n"
    "axis { field: \"optimizer.lr\" values: [\"0.1\", \"0.01\", \"0.001\"] }\n"
    "successive_halving { reduction_factor: 3 }\n";

// A successive-halving sweep is one job: `sweep run` inside it, SIGUSR1 passed on as SIGTERM,
// and a requeue of the job itself when it stops with 75.
TEST(SweepSlurm, HalvingSweepRunsSweepRunInOneAllocationAndRequeuesItself) {
  const std::string dir = fresh_dir("slurm_halving");
  write(dir + "/spec.txt", kHalvingSpec);
  write_sweep_plan(read_sweep_spec(dir + "/spec.txt"), dir);
  SlurmOptions options;
  options.time = "00:20:00";
  options.trainer = "/opt/mlp/trainer";
  options.sweep = dir + "/fake_sweep";
  EXPECT_THROW(write_slurm_script(dir, options), UsageError);
  try {
    write_halving_slurm_script(dir, options);
    ADD_FAILURE() << "no rank limit accepted";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "--max-ranks: a successive-halving sweep runs in one allocation of that many "
                 "ranks; give it (or max_ranks in the spec)");
  }
  options.max_ranks = 2;
  EXPECT_EQ(write_halving_slurm_script(dir, options), 2);
  const std::string script = slurp(dir + "/sweep.sbatch");
  EXPECT_EQ(script.find("--array"), std::string::npos) << script;
  for (const std::string& line : std::vector<std::string>{
           "\n#SBATCH --ntasks=2\n", "\n#SBATCH --time=00:20:00\n",
           "\n#SBATCH --signal=B:USR1@120\n", "\n#SBATCH --requeue\n",
           "\n#SBATCH --output=" + dir + "/slurm/%j.out\n",
           "\nrun_passing_signals TERM \"$SWEEP\" run \"$SWEEP_DIR\" --max-ranks "
           "\"$SLURM_NTASKS\" \\\n  --trainer \"$TRAINER\" ${RETRIES:+--retries "
           "\"$RETRIES\"}\n",
           "\n  scontrol requeue \"$SLURM_JOB_ID\"\n"})
    EXPECT_NE(script.find(line), std::string::npos) << line << " in\n" << script;
  const int syntax = std::system(("bash -n " + dir + "/sweep.sbatch").c_str());
  EXPECT_TRUE(WIFEXITED(syntax) && WEXITSTATUS(syntax) == 0) << script;

  // The batch shell with stand-ins for sweep (waiting until SIGTERM, then exiting 75 as
  // `sweep run` does) and scontrol; SIGUSR1 arrives while it runs.
  write(dir + "/fake_sweep",
        "#!/bin/bash\necho \"$@\" > " + dir +
            "/ran.txt\ntrap 'exit 75' TERM\nwhile true; do sleep 0.05; done\n");
  write(dir + "/scontrol", "#!/bin/sh\necho \"$@\" > " + dir + "/scontrol.txt\n");
  const auto run_job = [&](const std::string& environment) {
    std::filesystem::remove(dir + "/ran.txt");
    const std::string command =
        "chmod +x " + dir + "/fake_sweep " + dir + "/scontrol && (PATH=" + dir +
        ":$PATH SLURM_JOB_ID=9 SLURM_NTASKS=2 " + environment + " bash " + dir +
        "/sweep.sbatch > " + dir + "/job.out 2>&1 & job=$!; while [ ! -s " + dir +
        "/ran.txt ]; do sleep 0.05; done; kill -USR1 $job; wait $job)";
    return std::system(command.c_str());
  };
  const int status = run_job("");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(dir + "/job.out");
  EXPECT_EQ(slurp(dir + "/ran.txt"), "run " + dir + " --max-ranks 2 --trainer /opt/mlp/trainer\n");
  EXPECT_EQ(slurp(dir + "/scontrol.txt"), "requeue 9\n");
  EXPECT_NE(slurp(dir + "/job.out").find("requeueing job 9 to continue its rungs"),
            std::string::npos);
  // RETRIES in the job's environment (sbatch --export) reaches `sweep run` as --retries.
  run_job("RETRIES=5");
  EXPECT_EQ(slurp(dir + "/ran.txt"),
            "run " + dir + " --max-ranks 2 --trainer /opt/mlp/trainer --retries 5\n");
}

TEST(SweepSlurm, HalvingSweepWithNothingLeftIsAnError) {
  const std::string dir = fresh_dir("slurm_halving_done");
  write(dir + "/spec.txt", kHalvingSpec);
  pb::SweepLedger ledger = write_sweep_plan(read_sweep_spec(dir + "/spec.txt"), dir);
  for (pb::TrialRecord& t : *ledger.mutable_trial()) t.set_state(pb::PRUNED);
  ledger.mutable_trial(1)->set_state(pb::DONE);
  write_ledger(dir, ledger);
  SlurmOptions options;
  options.trainer = "/opt/mlp/trainer";
  options.sweep = "/opt/mlp/sweep";
  options.max_ranks = 2;
  try {
    write_halving_slurm_script(dir, options);
    ADD_FAILURE() << "nothing to run accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("every trial is done, diverged or pruned; nothing to "
                                         "submit"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace mlp
