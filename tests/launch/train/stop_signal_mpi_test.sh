#!/usr/bin/env bash
# Stop signals at any moment of a run of the real trainer under `mpirun -np 2`: SIGUSR1 to mpirun
# (which forwards it to the ranks, as the batch shell does under SLURM's --signal=B:USR1) or
# SIGTERM to both ranks (as SLURM ends a job step). SIGTERM goes to the ranks, not to mpirun:
# Open MPI's mpirun answers a SIGTERM of its own by ending the job and exits 1 whatever the ranks
# return (hard-coded), so only the ranks' answer can be tested that way.
#
# Start-up moments are counted from the moment both ranks have their handlers (read from
# /proc/PID/status), not from the launch, so a slow or loaded machine shifts them alike: at once
# (library initializers, MPI_Init), and later into data loading, model build, the choice of the
# matrix-product backend and resume. A stop sent at once must end before the first step with
# exit 75 and no checkpoint; a later one with 75 (before the first step: no new checkpoint; after
# a step: a checkpoint) or 0 when the run finished first; never the default action (138, 143)
# and never a hang. Mid-run, the signal goes after the first steps.csv row of a run too long to
# finish by itself, so it must stop it with 75 and one checkpoint; --resume auto then finishes.
# Usage: stop_signal_mpi_test.sh MPIEXEC TRAINER SYNTHETIC_CSV
set -u
mpiexec=$1 trainer=$(realpath "$2") synthetic_csv=$3
work=$(mktemp -d) || exit 1
job=
cleanup() {
  [[ -n $job ]] && kill -KILL $(pgrep -P "$job") "$job" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  for f in "$work"/*.err; do [[ -s $f ]] && { echo "--- $f"; tail -n 5 "$f"; }; done
  exit 1
}

# shellcheck source=../../support/mpi_job.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../support/mpi_job.sh"

# Data that takes a good part of a second to read (the cache is off, so every run reads it the
# same way) and a model whose products take a moment to time and whose checkpoint a moment to
# read, so that the start-up moments land in different phases.
"$synthetic_csv" blobs 150000 40 1 >"$work/train.csv" || fail "cannot write the data"
common=(--train-csv "$work/train.csv" --data-cache off --hidden 1024,1024 --batch-size 128
        --optimizer adam --checkpoint-every-epoch false --log-every-steps 1 --progress none)

checkpoints() { ls "$work/$1"/checkpoints/ckpt-*.pb 2>/dev/null | wc -l; }
newest_step() {
  ls "$work/$1"/checkpoints/ckpt-*.pb 2>/dev/null | sed 's/.*ckpt-0*\([0-9][0-9]*\)\.pb/\1/' |
    sort -n | tail -n 1
}

# The pids of the job's ranks once both run the trainer with SIGUSR1 and SIGTERM caught (bits 10
# and 15 of SigCgt); fails after 60 s.
ranks_with_handlers() {
  local pid mask ready
  for _ in $(seq 600); do
    ready=()
    for pid in $(pgrep -P "$job"); do
      [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$trainer" ]] || continue
      mask=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$pid/status" 2>/dev/null)
      [[ -n $mask ]] && (((0x$mask & 0x4200) == 0x4200)) && ready+=("$pid")
    done
    [[ ${#ready[@]} -ge 2 ]] && { echo "${ready[@]}"; return 0; }
    kill -0 "$job" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# wait_job SECONDS: waits for the job; fails when it is still running after SECONDS. Sets $code.
wait_job() {
  for _ in $(seq $(($1 * 10))); do
    kill -0 "$job" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$job" 2>/dev/null && fail "$name: still running $1 s after the stop signal"
  wait "$job"
  code=$?
  job=
}

# signal_run KIND NAME WHEN ARGS...: starts a run into $work/NAME and sends the stop signal of KIND
# (usr1: to mpirun; term: to both ranks) WHEN seconds after both ranks have their handlers, or
# with WHEN=mid after the first steps.csv row; waits for the end. Sets $code.
signal_run() {
  local kind=$1 when=$3 ranks
  name=$2
  shift 3
  "$mpiexec" -np 2 "$trainer" "${common[@]}" --out "$work/$name" "$@" >"$work/$name.out" 2>"$work/$name.err" &
  job=$!
  ranks=$(ranks_with_handlers) || fail "$name: the ranks never had their stop handlers installed"
  if [[ $when == mid ]]; then
    wait_for_output '^[0-9]' "$work/$name/steps.csv" "the first step of $name" 120
  else
    sleep "$when"
  fi
  if [[ $kind == usr1 ]]; then
    kill -USR1 "$job" 2>/dev/null
  else
    # shellcheck disable=SC2086
    kill -TERM $ranks 2>/dev/null
  fi
  wait_job 120
  [[ $code == 75 || $code == 0 ]] || fail "$name: exit code $code after the signal, expected 75 or 0"
}

# Checks the end of a run signalled before its checkpoints numbered $before; prints the phase of
# a stop before the first step.
check_stop() {
  local before=$1
  if grep -q 'before the first step' "$work/$name.err"; then
    [[ $code == 75 ]] || fail "$name: stopped before the first step with exit $code"
    [[ $(checkpoints "$name") == "$before" ]] || fail "$name: a stop before the first step saved a checkpoint"
    sed -n 's/.*stopped by a signal while \(.*\), before the first step.*/  stopped while \1/p' "$work/$name.err"
  elif [[ $code == 75 ]]; then
    grep -q 'stopped by a signal at global step' "$work/$name.err" || fail "$name: exit 75 without saying why"
    [[ $(checkpoints "$name") -gt 0 ]] || fail "$name: stopped after a step without a checkpoint"
    echo "  stopped after a step"
  else
    echo "  finished first"
  fi
}

started=$SECONDS
early=0
for kind in usr1 term; do
  for when in 0 0.4 0.8 1.2; do
    signal_run "$kind" "$kind-fresh-$when" "$when" --max-steps 40
    echo "$name: exit $code after $((SECONDS - started)) s"
    check_stop 0
    grep -q 'before the first step' "$work/$name.err" && ((early++))
    if [[ $when == 0 ]]; then
      grep -q 'before the first step' "$work/$name.err" ||
        fail "$name: a stop as the ranks started did not end the run before its first step"
    fi
  done

  signal_run "$kind" "$kind-mid" mid --max-steps 1000000
  echo "$name: exit $code after $((SECONDS - started)) s"
  [[ $code == 75 ]] || fail "$name: exit code $code, expected 75"
  [[ $(checkpoints "$name") == 1 ]] || fail "$name: no checkpoint after a stop mid-run"
  grep -q '"event":"signal"' "$work/$name/events.jsonl" || fail "$name: no signal event"
  # The resumed runs go 30 steps beyond the stop.
  steps=$(($(newest_step "$name") + 30))
  for when in 0 0.5 1.2; do
    before=$(checkpoints "$kind-mid")
    signal_run "$kind" "$kind-mid" "$when" --max-steps "$steps" --resume auto
    echo "$name (resumed): exit $code after $((SECONDS - started)) s"
    check_stop "$before"
    grep -q 'before the first step' "$work/$name.err" && ((early++))
  done
  "$mpiexec" -np 2 "$trainer" "${common[@]}" --out "$work/$kind-mid" --max-steps "$steps" \
    --resume auto >"$work/$kind-end.out" 2>"$work/$kind-end.err"
  code=$?
  [[ $code == 0 ]] || fail "$kind: --resume auto after the stops: exit code $code"
done
echo "PASS ($early stops before the first step, $((SECONDS - started)) s)"
