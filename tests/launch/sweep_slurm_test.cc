// The SLURM job-array script of a sweep: valid bash, one array task per unfinished trial with
// the throttle max_ranks / ranks_per_trial, the trial list it indexes, signal forwarding and
// requeue on exit 75.
#include "launch/sweep_slurm.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>

#include "core/errors.h"
#include "launch/sweep_ledger.h"
#include "launch/sweep_plan.h"
#include "tests/launch/sweep_test_support.h"

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
  EXPECT_NE(script.find("\n#SBATCH --signal=B:USR1@600\n"), std::string::npos);
  EXPECT_NE(script.find("trap 'kill -USR1 \"$child\" 2>/dev/null' USR1 TERM"), std::string::npos);
  EXPECT_NE(script.find("if [[ $status -eq 75 ]]; then"), std::string::npos);
  EXPECT_NE(script.find("scontrol requeue"), std::string::npos);
  EXPECT_NE(script.find("--resume auto"), std::string::npos);
  EXPECT_NE(script.find("TRAINER=\"${TRAINER:-/opt/mlp/trainer}\""), std::string::npos);

  const std::string list = slurp(dir + "/trials.list");
  EXPECT_EQ(list, ledger.trial(1).id() + "\n" + ledger.trial(2).id() + "\n" + ledger.trial(4).id() +
                      "\n" + ledger.trial(5).id() + "\n");

  const std::string check = "bash -n " + dir + "/sweep.sbatch";
  const int status = std::system(check.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << script;
}

TEST(SweepSlurm, ArrayTaskRunsTheTrialOnItsLine) {
  const std::string dir = fresh_dir("slurm_task");
  write(dir + "/spec.txt", "axis { field: \"epochs\" values: [\"1\", \"2\", \"3\"] }\n");
  const pb::SweepLedger ledger = write_sweep_plan(read_sweep_spec(dir + "/spec.txt"), dir);
  SlurmOptions options;
  options.trainer = dir + "/fake_trainer";
  write_slurm_script(dir, options);
  // Stand-ins for mpirun and the trainer record what array task 1 would run.
  write(dir + "/mpirun", "#!/bin/sh\nshift 2\nexec \"$@\"\n");
  write(options.trainer, "#!/bin/sh\necho \"$@\" > " + dir + "/ran.txt\n");
  const std::string command = "chmod +x " + dir + "/mpirun " + options.trainer + " && PATH=" + dir +
                              ":$PATH SLURM_ARRAY_TASK_ID=1 SLURM_NTASKS=1 SLURM_JOB_ID=7 bash " +
                              dir + "/sweep.sbatch > " + dir + "/task.out 2>&1";
  const int status = std::system(command.c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(dir + "/task.out");
  EXPECT_EQ(slurp(dir + "/ran.txt"),
            "--config " + trial_dir(dir, ledger.trial(1).id()) + "/config.txt --resume auto\n");
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

}  // namespace
}  // namespace mlp
