// SLURM job-array script of a sweep; see sweep_slurm.h.
#include "launch/sweep/slurm.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <vector>

#include "core/atomic_file.h"
#include "core/errors.h"
#include "launch/sweep/ledger.h"

namespace mlp {
namespace {

// Paths and values go into the script verbatim; refuse what the shell would reinterpret
// rather than guess at quoting.
std::string checked(const std::string& value, const std::string& label) {
  for (char c : value)
    if (c == '\'' || c == '"' || c == '$' || c == '`' || c == '\\' || c == '\n' || c == '%')
      throw UsageError(label + ": " + quote_input(value) +
                       " contains a character the batch script cannot hold");
  return value;
}

// Both scripts' way to run their one command: in the background, so that this shell receives
// SLURM's signals while it runs, passing USR1 and TERM on to it as the signal $1; sets status to
// the command's exit code.
const char kRunPassingSignals[] = R"sh(
set -uo pipefail
run_passing_signals() {
  local signal=$1
  shift
  "$@" &
  child=$!
  trap 'kill -'"$signal"' "$child" 2>/dev/null' USR1 TERM
  wait "$child"
  status=$?
  # wait returns early (status > 128) when the trap fires; wait again for the real exit status.
  while kill -0 "$child" 2>/dev/null; do
    wait "$child"
    status=$?
  done
}
# A call whose redirection fails (its log cannot be opened) never runs the function: failed.
status=1
)sh";

// The part of the script after the #SBATCH lines; @SWEEP_DIR@ and @TRAINER@ are filled in.
const char kBody[] = R"sh(
SWEEP_DIR="@SWEEP_DIR@"
TRAINER="${TRAINER:-@TRAINER@}"

line=$((SLURM_ARRAY_TASK_ID + 1))
id=$(sed -n "${line}p" "$SWEEP_DIR/trials.list")
if [[ -z "$id" ]]; then
  echo "no trial on line $line of $SWEEP_DIR/trials.list" >&2
  exit 2
fi
trial="$SWEEP_DIR/trials/$id"
# This task alone: $SLURM_JOB_ID of the array's last task is the array's id, and requeueing
# that would requeue every task of the array.
task="${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}"
echo "array task $task: trial $id"

# The trial's state file (read by `sweep run` and `sweep report` over the ledger's entry),
# replaced atomically: STATE, and the exit code of the attempt that ended.
record() {
  local file="$trial/state.txt" attempts failures codes
  attempts=$(sed -n 's/^attempts: //p' "$file" 2>/dev/null)
  failures=$(sed -n 's/^failures: //p' "$file" 2>/dev/null)
  codes=$(grep '^exit_codes: ' "$file" 2>/dev/null)
  attempts=${attempts:-0}
  failures=${failures:-0}
  [[ $1 == RUNNING ]] && attempts=$((attempts + 1))
  [[ $1 == FAILED ]] && failures=$((failures + 1))
  {
    printf 'state: %s\nattempts: %d\nfailures: %d\n' "$1" "$attempts" "$failures"
    if [[ -n $codes ]]; then echo "$codes"; fi
    if [[ $# -gt 1 ]]; then echo "exit_codes: $2"; fi
    if [[ $1 == DONE ]]; then echo "wall_seconds: $SECONDS"; fi
  } >"$file.tmp" && mv -f "$file.tmp" "$file"
}

# The trial's lock, as `sweep run` takes it: neither starts the trial while the other runs it.
exec 9>"$trial/.trial.lock"
flock 9
record RUNNING
rm -f "$trial/summary.json"

# A stop signal reaches mpirun as USR1: the trainer checkpoints and exits 75.
run_passing_signals USR1 mpirun -np "$SLURM_NTASKS" --bind-to none "$TRAINER" \
  --config "$trial/config.txt" --out "$trial" --resume auto >>"$trial/trainer.log" 2>&1

case $status in
  0) record DONE 0 ;;
  4) record DIVERGED 4 ;;
  75)
    record PLANNED 75
    echo "trial $id checkpointed after a stop signal; requeueing array task $task"
    scontrol requeue "$task"
    exit 0
    ;;
  *) record FAILED "$status" ;;
esac
exit "$status"
)sh";

// The body of a successive-halving sweep's one allocation; @SWEEP_DIR@, @SWEEP@ and @TRAINER@
// are filled in.
const char kHalvingBody[] = R"sh(
SWEEP_DIR="@SWEEP_DIR@"
SWEEP="${SWEEP:-@SWEEP@}"
TRAINER="${TRAINER:-@TRAINER@}"
echo "job $SLURM_JOB_ID: sweep run $SWEEP_DIR on $SLURM_NTASKS ranks"

# A stop signal reaches `sweep run` as TERM: its trials checkpoint and it exits 75.
# RETRIES (sbatch --export=ALL,RETRIES=N) passes --retries on.
run_passing_signals TERM "$SWEEP" run "$SWEEP_DIR" --max-ranks "$SLURM_NTASKS" \
  --trainer "$TRAINER" ${RETRIES:+--retries "$RETRIES"}

if [[ $status == 75 ]]; then
  echo "sweep run stopped by a signal; requeueing job $SLURM_JOB_ID to continue its rungs"
  scontrol requeue "$SLURM_JOB_ID"
  exit 0
fi
exit "$status"
)sh";

void replace_all(std::string* text, const std::string& from, const std::string& to) {
  for (size_t at = text->find(from); at != std::string::npos; at = text->find(from, at + to.size()))
    text->replace(at, from.size(), to);
}

// Digits only, at most 9 of them (no overflow); -1 otherwise.
int64_t digits(const std::string& text) {
  if (text.empty() || text.size() > 9) return -1;
  for (char c : text)
    if (!std::isdigit(static_cast<unsigned char>(c))) return -1;
  return std::stoll(text);
}

}  // namespace

int64_t slurm_time_seconds(const std::string& text) {
  const std::string formats =
      "minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS, e.g. 04:00:00";
  const auto refuse = [&](const std::string& why) {
    return UsageError("--time: \"" + text.substr(0, 40) + (text.size() > 40 ? "..." : "") + "\" " +
                      why + " (" + formats + ")");
  };
  std::string rest = text;
  int64_t days = 0;
  const size_t dash = rest.find('-');
  if (dash != std::string::npos) {
    days = digits(rest.substr(0, dash));
    rest = rest.substr(dash + 1);
  }
  std::vector<int64_t> parts;
  for (size_t begin = 0;;) {
    const size_t colon = std::min(rest.find(':', begin), rest.size());
    parts.push_back(digits(rest.substr(begin, colon - begin)));
    if (colon == rest.size()) break;
    begin = colon + 1;
  }
  const bool bad = days < 0 || parts.size() > 3 ||
                   std::any_of(parts.begin(), parts.end(), [](int64_t p) { return p < 0; });
  if (bad) throw refuse("is not a SLURM time limit");
  int64_t seconds = 0;
  if (dash != std::string::npos) {
    // D-HH, D-HH:MM, D-HH:MM:SS
    const int64_t units[] = {3600, 60, 1};
    for (size_t i = 0; i < parts.size(); ++i) seconds += parts[i] * units[i];
    seconds += days * 86400;
  } else if (parts.size() == 1) {
    seconds = parts[0] * 60;
  } else if (parts.size() == 2) {
    seconds = parts[0] * 60 + parts[1];
  } else {
    seconds = parts[0] * 3600 + parts[1] * 60 + parts[2];
  }
  if (seconds <= 0) throw refuse("leaves no time to run");
  return seconds;
}

namespace {

// The seconds before the limit at which SLURM signals the batch shell, checked against --time.
int64_t signal_seconds_of(const SlurmOptions& options) {
  const int64_t limit = slurm_time_seconds(options.time);
  // SLURM's --signal takes at most 65535 seconds.
  const int64_t signal_seconds =
      options.signal_seconds > 0 ? options.signal_seconds : std::min<int64_t>(600, limit / 10);
  if (options.signal_seconds < 0) throw UsageError("--signal-seconds: must be positive");
  if (signal_seconds < 1 || signal_seconds >= limit || signal_seconds > 65535)
    throw UsageError("--signal-seconds: " + std::to_string(signal_seconds) +
                     " s must be at least 1, below the time limit (--time " + options.time +
                     " is " + std::to_string(limit) + " s) and at most 65535");
  return signal_seconds;
}

// The #SBATCH lines both kinds of script share, after the job's shape.
std::string common_sbatch_lines(const SlurmOptions& options, const std::string& output) {
  std::string s;
  s += "#SBATCH --cpus-per-task=1\n";
  s += "#SBATCH --time=" + checked(options.time, "--time") + "\n";
  if (!options.partition.empty())
    s += "#SBATCH --partition=" + checked(options.partition, "--partition") + "\n";
  s += "#SBATCH --signal=B:USR1@" + std::to_string(signal_seconds_of(options)) + "\n";
  s += "#SBATCH --requeue\n";
  s += "#SBATCH --open-mode=append\n";
  s += "#SBATCH --output=" + output + "\n";
  return s;
}

std::string checked_dir(const std::string& sweep_dir) {
  return checked(std::filesystem::absolute(sweep_dir).lexically_normal().string(), "sweep folder");
}

void write_script(const std::string& dir, const std::string& script) {
  std::error_code error;
  std::filesystem::create_directories(dir + "/slurm", error);
  if (error) throw UsageError(dir + "/slurm: cannot create: " + error.message());
  write_file_atomically(dir + "/sweep.sbatch", script);
  std::filesystem::permissions(dir + "/sweep.sbatch", std::filesystem::perms::owner_exec,
                               std::filesystem::perm_options::add, error);
}

}  // namespace

int write_slurm_script(const std::string& sweep_dir, const SlurmOptions& options) {
  const std::string dir = checked_dir(sweep_dir);
  const pb::SweepLedger ledger = read_ledger(dir);
  if (ledger.has_halving())
    throw UsageError(dir + ": a successive-halving sweep runs in one allocation, not a job array");
  std::string list;
  int tasks = 0;
  for (const pb::TrialRecord& t : ledger.trial()) {
    if (t.state() == pb::DONE || t.state() == pb::DIVERGED) continue;
    list += t.id() + "\n";
    ++tasks;
  }
  if (tasks == 0) throw UsageError(dir + ": every trial is done or diverged; nothing to submit");
  if (options.trainer.empty()) throw UsageError("--trainer: no trainer binary given");
  const int ranks = std::max(1, ledger.ranks_per_trial());
  const int max_ranks = options.max_ranks > 0 ? options.max_ranks : ledger.max_ranks();
  std::string throttle;
  if (max_ranks > 0) {
    if (ranks > max_ranks)
      throw UsageError("--max-ranks: a trial needs " + std::to_string(ranks) +
                       " ranks but at most " + std::to_string(max_ranks) + " may run at once");
    throttle = "%" + std::to_string(max_ranks / ranks);
  }

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
  s += common_sbatch_lines(options, dir + "/slurm/%A_%a.out");
  std::string body = std::string(kRunPassingSignals) + kBody;
  replace_all(&body, "@SWEEP_DIR@", dir);
  replace_all(&body, "@TRAINER@", checked(options.trainer, "--trainer"));
  s += body;

  write_file_atomically(dir + "/trials.list", list);
  write_script(dir, s);
  return tasks;
}

int write_halving_slurm_script(const std::string& sweep_dir, const SlurmOptions& options) {
  const std::string dir = checked_dir(sweep_dir);
  const pb::SweepLedger ledger = read_ledger(dir);
  if (!ledger.has_halving())
    throw UsageError(dir + ": not a successive-halving sweep; it runs as a job array");
  bool left = false;
  for (const pb::TrialRecord& t : ledger.trial())
    left = left || !(t.state() == pb::DONE || t.state() == pb::DIVERGED || t.state() == pb::PRUNED);
  if (!left) throw UsageError(dir + ": every trial is done, diverged or pruned; nothing to submit");
  if (options.trainer.empty()) throw UsageError("--trainer: no trainer binary given");
  if (options.sweep.empty()) throw UsageError("--sweep: no sweep binary given");
  const int ranks = std::max(1, ledger.ranks_per_trial());
  const int max_ranks = options.max_ranks > 0 ? options.max_ranks : ledger.max_ranks();
  if (max_ranks <= 0)
    throw UsageError(
        "--max-ranks: a successive-halving sweep runs in one allocation of that many "
        "ranks; give it (or max_ranks in the spec)");
  if (ranks > max_ranks)
    throw UsageError("--max-ranks: a trial needs " + std::to_string(ranks) + " ranks but at most " +
                     std::to_string(max_ranks) + " may run at once");

  std::string s;
  s += "#!/usr/bin/env bash\n";
  s += "# Successive-halving sweep " + dir + " in one SLURM allocation: `sweep run`\n";
  s += "# decides its rungs and starts the trials under mpirun inside it, as many at once as\n";
  s += "# the ranks allow. Before the time limit SLURM sends SIGUSR1 to this shell, which\n";
  s += "# stops `sweep run` (its trials checkpoint, it exits 75); the job then requeues itself\n";
  s += "# and continues the same rungs. Submit with `sbatch sweep.sbatch`; afterwards\n";
  s += "# `sweep report " + dir + "`.\n";
  s += "#SBATCH --job-name=sweep\n";
  s += "#SBATCH --ntasks=" + std::to_string(max_ranks) + "\n";
  s += common_sbatch_lines(options, dir + "/slurm/%j.out");
  std::string body = std::string(kRunPassingSignals) + kHalvingBody;
  replace_all(&body, "@SWEEP_DIR@", dir);
  replace_all(&body, "@SWEEP@", checked(options.sweep, "--sweep"));
  replace_all(&body, "@TRAINER@", checked(options.trainer, "--trainer"));
  write_script(dir, s + body);
  return max_ranks;
}

}  // namespace mlp
