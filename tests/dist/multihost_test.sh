#!/usr/bin/env bash
# The real trainer across three simulated hosts (launch/scripts/sim_hosts.sh: network and UTS
# namespaces on a bridge, Open MPI over TCP through an rsh agent): np 3 across the hosts gives
# exactly the metrics of np 3 on one host; in the exact mode (--exact-blocks 6, with dropout) np 3
# across the hosts trains bitwise the metrics and weights of one process; kill -9 of the rank on
# one host ends the job non-zero within 30 s; a host whose link goes down leaves the reachable
# ranks to end with exit 6 within 20 s under --stall-timeout 10 (mpirun itself waits for the lost
# daemon, so the test kills it).
# Everything it creates is removed on exit, pass or fail. Exit 77 (skipped) with the reason where
# namespaces cannot be created.
# Usage: multihost_test.sh MPIEXEC TRAINER SIM_HOSTS_SCRIPT
set -u
mpiexec=$1 trainer=$2 sim=$3
# Names and addresses of this test only, apart from a user's own simulated hosts.
export SIM_HOSTS_PREFIX=mlpmh SIM_HOSTS_SUBNET=198.18.93
hosts=(mlpmh1 mlpmh2 mlpmh3)
# One named matrix-product backend, so that the two runs compared give the same bits (under
# --gemm auto a loaded machine may time another backend fastest for one of them).
common=(--train-limit 6000 --test-limit 1000 --hidden 64,32 --batch-size 96 --progress none
        --gemm eigen)

skip() { echo "SKIP: $*"; exit 77; }
[[ $(id -u) == 0 ]] || skip "creating network and UTS namespaces needs root"
for tool in ip unshare nsenter flock; do
  command -v "$tool" >/dev/null || skip "$tool not found (packages iproute2, util-linux)"
done
probe=mlpmh-probe-$$
ip netns add "$probe" 2>/dev/null || skip "cannot create a network namespace here ($(ip netns add "$probe" 2>&1))"
ip netns delete "$probe"
unshare --uts true 2>/dev/null || skip "cannot create a UTS namespace here"

work=$(mktemp -d)
job=""
cleanup() {
  [[ -n $job ]] && kill -KILL "$job" 2>/dev/null
  "$sim" down >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
# shellcheck source=../support/cleanup_guard.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/cleanup_guard.sh"
cleanup_guard cleanup
fail() {
  echo "FAIL: $*"
  for f in "$work"/*.out "$work"/*.err; do [[ -s $f ]] && { echo "--- $f"; tail -20 "$f"; }; done
  exit 1
}

# One run of this test at a time on the machine: suites of several checkouts may run together.
exec 9>/run/lock/mlp-multihost-test.lock
flock -w 600 9 || fail "another multihost test held the lock for 600 s"
"$sim" up 3 >"$work/setup.out" 2>&1 || fail "sim_hosts.sh up failed"

# shellcheck source=../support/mpi_job.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/mpi_job.sh"

# Runs mpirun on the first host with the simulated hosts' settings; extra args go to mpirun.
across_hosts() { (eval "$("$sim" env)" && exec "$sim" exec "${hosts[0]}" "$mpiexec" "$@"); }

# The pid of the trainer on a host (the namespace's own process list).
trainer_on() {
  for pid in $(ip netns pids "$1"); do
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == trainer ]] && { echo "$pid"; return 0; }
  done
  return 1
}

# Waits for $job at most $1 seconds; sets $code and $elapsed.
wait_for_job() {
  local start=$SECONDS
  while kill -0 "$job" 2>/dev/null; do
    (( SECONDS - start > $1 )) && fail "the job still ran $1 s later"
    sleep 0.2
  done
  wait "$job"; code=$?; elapsed=$((SECONDS - start)); job=""
}

# Epoch metrics without the timing columns (6 and 7; metrics added later follow the 8th).
metrics() { cut -d, -f1-5,8- "$1/metrics.csv"; }

# 1. Same metrics across hosts as on one host.
start=$SECONDS
"$mpiexec" -np 3 --oversubscribe "$trainer" "${common[@]}" --epochs 2 --out "$work/one" \
  >"$work/one.out" 2>"$work/one.err" || fail "np 3 on one host failed"
one_host=$((SECONDS - start)); start=$SECONDS
across_hosts -np 3 "$trainer" "${common[@]}" --epochs 2 --out "$work/three" \
  >"$work/three.out" 2>"$work/three.err" || fail "np 3 across three hosts failed"
three_hosts=$((SECONDS - start))
[[ $(metrics "$work/three") == "$(metrics "$work/one")" ]] ||
  fail "metrics differ: $(diff <(metrics "$work/one") <(metrics "$work/three"))"
grep -q '"test_acc"' "$work/three/summary.json" || fail "no summary from the multi-host run"
[[ $(grep -o '"test_acc": *[0-9.e-]*' "$work/three/summary.json") == \
   "$(grep -o '"test_acc": *[0-9.e-]*' "$work/one/summary.json")" ]] || fail "test accuracy differs"
echo "identical metrics: np 3 on one host in ${one_host} s, across three hosts in ${three_hosts} s"

# 1b. The exact mode: np 3 across the hosts trains what one process trains, bit for bit.
exact=(--exact-blocks 6 --dropout 0.2 --epochs 2)
"$trainer" "${common[@]}" "${exact[@]}" --out "$work/exact_one" >"$work/exact_one.out" \
  2>"$work/exact_one.err" || fail "the exact mode in one process failed"
across_hosts -np 3 "$trainer" "${common[@]}" "${exact[@]}" --out "$work/exact_three" \
  >"$work/exact_three.out" 2>"$work/exact_three.err" || fail "the exact mode across three hosts failed"
[[ $(metrics "$work/exact_three") == "$(metrics "$work/exact_one")" ]] ||
  fail "exact metrics differ: $(diff <(metrics "$work/exact_one") <(metrics "$work/exact_three"))"
# Summary numbers in the shortest form that reads back as the same double, weights likewise.
summary_numbers() { grep -E '"(test_loss|test_acc|train_loss|val_loss)"' "$1/summary.json"; }
[[ $(summary_numbers "$work/exact_three") == "$(summary_numbers "$work/exact_one")" ]] ||
  fail "exact summaries differ: $(diff <(summary_numbers "$work/exact_one") <(summary_numbers "$work/exact_three"))"
for run in exact_one exact_three; do
  "$trainer" inspect "$work/$run/model.pb" --weights "$work/$run.weights" >/dev/null ||
    fail "inspect --weights of $run failed"
done
diff -rq "$work/exact_one.weights" "$work/exact_three.weights" >/dev/null ||
  fail "exact weights differ: $(diff -rq "$work/exact_one.weights" "$work/exact_three.weights")"
echo "exact mode: np 3 across three hosts trained the bits of one process"

# 2. kill -9 of the rank on the second host.
: >"$work/kill.out"
across_hosts -np 3 "$trainer" "${common[@]}" --epochs 1000 --stall-timeout 600 --out "$work/kill" \
  >"$work/kill.out" 2>"$work/kill.err" &
job=$!
wait_for_output '^training ' "$work/kill.out" "training began" 60
sleep 1
victim=$(trainer_on "${hosts[1]}") || fail "no trainer on ${hosts[1]}"
kill -KILL "$victim"
wait_for_job 30
[[ $code != 0 ]] || fail "exit code 0 after the rank on ${hosts[1]} was killed"
echo "kill -9 on ${hosts[1]}: the job ended with exit code $code after ${elapsed} s"

# 3. The third host's link goes down: the ranks that can still talk hit the stall timeout.
rank_cmd='"$0" "$@"; echo $? >'"$work"'/link.rank$OMPI_COMM_WORLD_RANK'
: >"$work/link.out"
across_hosts -np 3 sh -c "$rank_cmd" "$trainer" "${common[@]}" --epochs 1000 --stall-timeout 10 \
  --out "$work/link" >"$work/link.out" 2>"$work/link.err" &
job=$!
wait_for_output '^training ' "$work/link.out" "training began" 60
sleep 1
"$sim" link "${hosts[2]}" down
start=$SECONDS
until [[ -s $work/link.rank0 && -s $work/link.rank1 ]]; do
  (( SECONDS - start > 20 )) && fail "ranks 0 and 1 still ran 20 s after the link went down"
  sleep 0.2
done
elapsed=$((SECONDS - start))
for r in 0 1; do
  [[ $(cat "$work/link.rank$r") == 6 ]] || fail "rank $r ended with $(cat "$work/link.rank$r"), expected 6"
done
grep -q 'waited 10 s in MPI_' "$work/link.err" || fail "no stall message"
echo "link of ${hosts[2]} down: ranks 0 and 1 ended with exit 6 after ${elapsed} s"
# mpirun waits for the lost host's daemon as long as the link is down: end it here.
kill -KILL "$job"; wait "$job" 2>/dev/null; job=""
echo "PASS"
