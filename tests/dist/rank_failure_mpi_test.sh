#!/usr/bin/env bash
# The real trainer under mpirun when ranks go wrong: a rank with another config ends the job with
# exit 5 naming the ranks; a rank killed mid-training ends it non-zero within 30 s; a stopped
# rank makes the others' stall watchdog end it with exit 6.
# Usage: rank_failure_mpi_test.sh mismatch|killed|stalled MPIEXEC TRAINER
set -u
case_name=$1 mpiexec=$2 trainer=$3
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
common=(--train-limit 20000 --test-limit 1000 --hidden 256,128 --out "$work/run")

fail() { echo "FAIL ($case_name): $*"; echo "--- stdout"; cat "$work/out"; echo "--- stderr"; cat "$work/err"; exit 1; }

# shellcheck source=../support/mpi_job.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/mpi_job.sh"

# Starts a two-rank job in the background, waits until training has begun, sets $job.
start_training() {
  "$mpiexec" -np 2 "$trainer" "${common[@]}" --epochs 100 "$@" >"$work/out" 2>"$work/err" &
  job=$!
  wait_for_output '^training ' "$work/out" "training began" 30
}

# Waits for $job at most $1 seconds; sets $code and $elapsed.
wait_for_job() {
  local start=$SECONDS
  while kill -0 "$job" 2>/dev/null; do
    if (( SECONDS - start > $1 )); then kill -KILL "$job"; fail "the job still ran after $1 s"; fi
    sleep 0.2
  done
  wait "$job"; code=$?; elapsed=$((SECONDS - start))
}

case $case_name in
  mismatch)
    "$mpiexec" -np 1 "$trainer" "${common[@]}" --epochs 1 --seed 1 : \
               -np 1 "$trainer" "${common[@]}" --epochs 1 --seed 2 >"$work/out" 2>"$work/err"
    code=$?
    [[ $code == 5 ]] || fail "exit code $code, expected 5"
    grep -q 'ranks disagree on the resolved config: rank 0 has [0-9a-f]*, rank 1 has' "$work/err" ||
      fail "no message naming the ranks"
    ;;
  killed)
    start_training --stall-timeout 600
    sleep 1
    victim=$(rank_pid 1) || fail "rank 1 not found"
    kill -KILL "$victim"
    wait_for_job 30
    [[ $code != 0 ]] || fail "exit code 0 after a rank was killed"
    echo "job ended with exit code $code ${elapsed} s after rank 1 was killed"
    ;;
  stalled)
    start_training --stall-timeout 3
    sleep 1
    victim=$(rank_pid 1) || fail "rank 1 not found"
    kill -STOP "$victim"
    wait_for_job 30
    kill -KILL "$victim" 2>/dev/null
    [[ $code == 6 ]] || fail "exit code $code, expected 6"
    grep -q 'rank 0 waited 3 s in MPI_' "$work/err" || fail "no watchdog message naming rank 0"
    echo "job ended with exit code $code ${elapsed} s after rank 1 was stopped"
    ;;
  *) echo "unknown case $case_name"; exit 2 ;;
esac
echo "PASS ($case_name)"
