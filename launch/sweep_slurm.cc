// SLURM job-array script of a sweep; see sweep_slurm.h.
#include "launch/sweep_slurm.h"

#include <filesystem>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "launch/sweep_ledger.h"

namespace mlp {
namespace {

// Paths and values go into the script verbatim; refuse what the shell would reinterpret
// rather than guess at quoting.
std::string checked(const std::string& value, const std::string& label) {
  for (char c : value)
    if (c == '\'' || c == '"' || c == '$' || c == '`' || c == '\\' || c == '\n' || c == '%')
      throw UsageError(label + ": \"" + value +
                       "\" contains a character the batch script cannot hold");
  return value;
}

}  // namespace

int write_slurm_script(const std::string& sweep_dir, const SlurmOptions& options) {
  const std::string dir =
      checked(std::filesystem::absolute(sweep_dir).lexically_normal().string(), "sweep folder");
  const pb::SweepLedger ledger = read_ledger(dir);
  std::string list;
  int tasks = 0;
  for (const pb::TrialRecord& t : ledger.trial()) {
    if (t.state() == pb::DONE || t.state() == pb::DIVERGED) continue;
    list += t.id() + "\n";
    ++tasks;
  }
  if (tasks == 0) throw UsageError(dir + ": every trial is done or diverged; nothing to submit");
  if (options.trainer.empty()) throw UsageError("--trainer: no trainer binary given");
  if (options.signal_seconds < 1) throw UsageError("--signal-seconds: must be positive");

  const int ranks = std::max(1, ledger.ranks_per_trial());
  const int max_ranks = options.max_ranks > 0 ? options.max_ranks : ledger.max_ranks();
  std::string throttle;
  if (max_ranks > 0) {
    if (ranks > max_ranks)
      throw UsageError("--max-ranks: a trial needs " + std::to_string(ranks) +
                       " ranks but at most " + std::to_string(max_ranks) + " may run at once");
    throttle = "%" + std::to_string(max_ranks / ranks);
  }
  std::error_code error;
  std::filesystem::create_directories(dir + "/slurm", error);
  if (error) throw UsageError(dir + "/slurm: cannot create: " + error.message());

  std::string s;
  s += "#!/usr/bin/env bash\n";
  s += "# Sweep " + dir + " as a SLURM job array: task i runs the trial on line i+1 of\n";
  s += "# trials.list with --resume auto. Before the time limit SLURM sends SIGUSR1 to this "
       "shell,\n";
  s += "# which forwards it to mpirun; the trainer checkpoints and exits 75, and the task "
       "requeues\n";
  s += "# and resumes. Submit with `sbatch sweep.sbatch`; afterwards `sweep report " + dir + "`.\n";
  s += "#SBATCH --job-name=sweep\n";
  s += "#SBATCH --array=0-" + std::to_string(tasks - 1) + throttle + "\n";
  s += "#SBATCH --ntasks=" + std::to_string(ranks) + "\n";
  s += "#SBATCH --cpus-per-task=1\n";
  s += "#SBATCH --time=" + checked(options.time, "--time") + "\n";
  if (!options.partition.empty())
    s += "#SBATCH --partition=" + checked(options.partition, "--partition") + "\n";
  s += "#SBATCH --signal=B:USR1@" + std::to_string(options.signal_seconds) + "\n";
  s += "#SBATCH --requeue\n";
  s += "#SBATCH --open-mode=append\n";
  s += "#SBATCH --output=" + dir + "/slurm/%A_%a.out\n";
  s += "\n";
  s += "set -uo pipefail\n";
  s += "SWEEP_DIR=\"" + dir + "\"\n";
  s += "TRAINER=\"${TRAINER:-" + checked(options.trainer, "--trainer") + "}\"\n";
  s += "\n";
  s += "line=$((SLURM_ARRAY_TASK_ID + 1))\n";
  s += "id=$(sed -n \"${line}p\" \"$SWEEP_DIR/trials.list\")\n";
  s += "if [[ -z \"$id\" ]]; then\n";
  s += "  echo \"no trial on line $line of $SWEEP_DIR/trials.list\" >&2\n";
  s += "  exit 2\n";
  s += "fi\n";
  s += "trial=\"$SWEEP_DIR/trials/$id\"\n";
  s += "echo \"array task $SLURM_ARRAY_TASK_ID: trial $id\"\n";
  s += "\n";
  s += "# Start mpirun in the background so this shell can receive the signal while it runs.\n";
  s +=
      "mpirun -np \"$SLURM_NTASKS\" \"$TRAINER\" --config \"$trial/config.txt\" --resume auto \\\n";
  s += "  >>\"$trial/trainer.log\" 2>&1 &\n";
  s += "child=$!\n";
  s += "trap 'kill -USR1 \"$child\" 2>/dev/null' USR1 TERM\n";
  s += "wait \"$child\"\n";
  s += "status=$?\n";
  s += "# wait returns early (status > 128) when the trap fires; wait again for the real exit "
       "status.\n";
  s += "while kill -0 \"$child\" 2>/dev/null; do\n";
  s += "  wait \"$child\"\n";
  s += "  status=$?\n";
  s += "done\n";
  s += "\n";
  s += "if [[ $status -eq 75 ]]; then\n";
  s += "  echo \"trial $id checkpointed after a stop signal; requeueing job $SLURM_JOB_ID\"\n";
  s += "  scontrol requeue \"$SLURM_JOB_ID\"\n";
  s += "  exit 0\n";
  s += "fi\n";
  s += "exit \"$status\"\n";

  write_file_atomically(dir + "/trials.list", list);
  write_file_atomically(dir + "/sweep.sbatch", s);
  std::filesystem::permissions(dir + "/sweep.sbatch", std::filesystem::perms::owner_exec,
                               std::filesystem::perm_options::add, error);
  return tasks;
}

}  // namespace mlp
