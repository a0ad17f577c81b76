#!/usr/bin/env bash
# Stop signals at any moment of a run of the real trainer under `mpirun -np 2`: SIGUSR1 to mpirun
# (which forwards it to the ranks, as the batch shell does under SLURM's --signal=B:USR1) or
# SIGTERM to both ranks (as SLURM ends a job step), sent during start-up (data loading, model
# build, resume) and mid-run. Every run must end with exit 75, or 0 when it finished first; a
# stop before the first step saves nothing, one mid-run saves a checkpoint; --resume auto then
# finishes. SIGTERM to mpirun itself is left out: Open MPI's mpirun answers it by ending the job
# and exits 1 whatever the ranks return.
# Usage: stop_signal_mpi_test.sh MPIEXEC TRAINER SYNTHETIC_CSV
set -u
mpiexec=$1 trainer=$2 synthetic_csv=$3
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT

fail() {
  echo "FAIL: $*"
  for f in "$work"/*.err; do [[ -s $f ]] && { echo "--- $f"; tail -n 5 "$f"; }; done
  exit 1
}

# shellcheck source=../support/mpi_job.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/mpi_job.sh"

# Data that takes a good part of a second to load and a model whose checkpoint takes a moment
# to read, so that signals sent in the first seconds land in each part of start-up; 40 steps
# of a few hundredths of a second each after that.
"$synthetic_csv" blobs 150000 40 1 >"$work/train.csv" || fail "cannot write the data"
common=(--train-csv "$work/train.csv" --hidden 1024,1024 --batch-size 128 --optimizer adam
        --max-steps 40 --checkpoint-every-epoch false --progress none)

checkpoints() { ls "$work/$1"/checkpoints/ckpt-*.pb 2>/dev/null | wc -l; }

# signal_run KIND NAME DELAY ARGS...: starts a run into $work/NAME, sends the stop signal of KIND
# (usr1: to mpirun; term: to both ranks) DELAY seconds later (for `mid`: once the run has started
# its steps), waits; sets $code.
signal_run() {
  local kind=$1 name=$2 delay=$3
  shift 3
  "$mpiexec" -np 2 "$trainer" "${common[@]}" --out "$work/$name" "$@" >"$work/$name.out" 2>"$work/$name.err" &
  job=$!
  if [[ $delay == mid ]]; then
    wait_for_output '^training ' "$work/$name.out" "the start of training in $name" 60
    sleep 0.3
  else
    sleep "$delay"
  fi
  if [[ $kind == usr1 ]]; then
    kill -USR1 "$job" 2>/dev/null
  else
    local ranks=()
    for _ in $(seq 50); do
      mapfile -t ranks < <(pgrep -P "$job")
      [[ ${#ranks[@]} -ge 2 ]] && break
      sleep 0.1
    done
    kill -TERM "${ranks[@]}" 2>/dev/null
  fi
  wait "$job"
  code=$?
  [[ $code == 75 || $code == 0 ]] || fail "$name: exit code $code after the signal, expected 75 or 0"
}

early=0
for kind in usr1 term; do
  for delay in 0.3 0.8 1.5; do
    signal_run "$kind" "$kind-fresh-$delay" "$delay"
    if grep -q 'before the first step' "$work/$kind-fresh-$delay.err"; then
      ((early++))
      [[ $code == 75 ]] || fail "$kind-fresh-$delay: stopped before the first step with exit $code"
      [[ $(checkpoints "$kind-fresh-$delay") == 0 ]] || fail "$kind-fresh-$delay saved a checkpoint with nothing to save"
    fi
  done
  signal_run "$kind" "$kind-mid" mid
  [[ $code == 75 ]] || fail "$kind-mid: exit code $code, expected 75"
  [[ $(checkpoints "$kind-mid") == 1 ]] || fail "$kind-mid: no checkpoint after a stop mid-run"
  for delay in 0.3 0.8 1.5; do
    signal_run "$kind" "$kind-mid" "$delay" --resume auto
    if grep -q 'before the first step' "$work/$kind-mid.err"; then
      ((early++))
      [[ $(checkpoints "$kind-mid") == 1 ]] || fail "$kind-mid: a stop while resuming saved a checkpoint"
    fi
  done
  "$mpiexec" -np 2 "$trainer" "${common[@]}" --out "$work/$kind-mid" --resume auto >"$work/$kind-end.out" 2>"$work/$kind-end.err"
  code=$?
  [[ $code == 0 ]] || fail "$kind: --resume auto after the stops: exit code $code"
done
[[ $early -gt 0 ]] || fail "no signal landed before the first step; the start-up is too quick for this test"
echo "PASS ($early stops before the first step)"
