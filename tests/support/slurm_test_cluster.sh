# Sourced by the SLURM shell tests: makes $work (a temporary folder removed at the end), starts a
# single-node SLURM in $work/cluster (experiments/slurm/local_cluster.sh) and exports SLURM_CONF,
# stopping the daemons however the test ends (cleanup_guard.sh); exits 77 (skipped) with the
# reason when SLURM cannot run here. One such cluster runs on the machine at a time (a lock).
# Defines fail MESSAGE (the cluster's state, the daemons' and the sweeps' logs under $work, then
# exit 1) and wait_until SECONDS WHAT COMMAND... (polls COMMAND until it succeeds, else fails),
# and sets `start` to $SECONDS once the lock is held.
cluster="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/experiments/slurm/local_cluster.sh"
work=$(mktemp -d) || exit 1
# munged, running as its own user, must reach its socket inside.
chmod 755 "$work"
cleanup() {
  "$cluster" stop "$work/cluster" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
# shellcheck source=cleanup_guard.sh
source "$(dirname "${BASH_SOURCE[0]}")/cleanup_guard.sh"
cleanup_guard cleanup

fail() {
  echo "FAIL: $*"
  scontrol show job 2>/dev/null | grep -E 'JobId|JobState|Restarts|StartTime'
  tail -n 8 "$work/cluster/slurmd.log" "$work/cluster/slurmctld.log" 2>/dev/null
  for f in "$work"/*.out "$work"/*/slurm/*.out "$work"/*/trials/*/trainer.log; do
    [[ -s $f ]] && { echo "--- $f"; tail -n 20 "$f"; }
  done
  exit 1
}

wait_until() {
  local seconds=$1 what=$2
  shift 2
  for _ in $(seq $((seconds * 5))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  fail "no $what within $seconds s"
}

# One cluster at a time on the machine (its ports are fixed): suites of several checkouts may run
# together.
exec 9>/run/lock/mlp-slurm-test.lock
flock -w 600 9 || fail "another SLURM test held the lock for 600 s"
start=$SECONDS
"$cluster" start "$work/cluster" >"$work/cluster.out" 2>&1
case $? in
  0) ;;
  77) echo "SKIPPED: $(tail -n 1 "$work/cluster.out")"; exit 77 ;;
  *) fail "the local cluster did not start" ;;
esac
export SLURM_CONF=$work/cluster/slurm.conf
