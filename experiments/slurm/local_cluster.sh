#!/usr/bin/env bash
# A single-node SLURM on this machine, for the test suite and for trying the sweep's job arrays:
# munged, slurmctld and slurmd as root daemons with every file they use (configuration, state,
# spool, logs, pid files, the munge socket) in one folder, the node line taken from `slurmd -C`,
# talking over loopback only. Needs root and Debian's slurm-wlm and munge.
#
# Usage: local_cluster.sh start DIR   start the daemons; then point the clients at the cluster
#                                     with SLURM_CONF=DIR/slurm.conf. Exits 77 with the reason
#                                     when it cannot run here.
#        local_cluster.sh stop DIR    cancel every job of the cluster and stop its daemons
# SLURM_LOCAL_PORT (default 16817) and the next port are the controller's and the node's ports.
set -euo pipefail

command=${1:-}
dir=${2:-}
if [[ -z "$command" || -z "$dir" ]]; then
  echo "usage: local_cluster.sh start|stop DIR" >&2
  exit 2
fi

skip() {
  echo "local_cluster.sh: cannot start SLURM here: $*" >&2
  exit 77
}

# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
  local seconds=$1
  shift
  for ((i = 0; i < seconds * 5; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  return 1
}

stop_pid_file() {
  local file=$1 pid
  [[ -f "$file" ]] || return 0
  pid=$(cat "$file")
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$file"
}

stop() {
  export SLURM_CONF="$dir/slurm.conf"
  if [[ -f "$dir/slurmctld.pid" ]] && scontrol ping >/dev/null 2>&1; then
    # Jobs first, so that their step daemons end with them.
    for job in $(squeue -h -o %A); do scancel --quiet "$job" 2>/dev/null || true; done
    wait_for 30 test -z "$(squeue -h -o %A 2>/dev/null)" || true
  fi
  stop_pid_file "$dir/slurmd.pid"
  stop_pid_file "$dir/slurmctld.pid"
  stop_pid_file "$dir/munge/munged.pid"
}

start() {
  [[ $(id -u) -eq 0 ]] || skip "the daemons run as root and this is user $(id -un)"
  local missing=()
  for tool in munged slurmctld slurmd scontrol sbatch squeue scancel; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  [[ ${#missing[@]} -eq 0 ]] || skip "not installed: ${missing[*]} (Debian: slurm-wlm munge)"
  id munge >/dev/null 2>&1 || skip "no munge user (Debian: munge)"

  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  # munged runs as its own user and checks that no one else can write its folders.
  chmod 755 "$dir"
  install -d -o munge -g munge -m 755 "$dir/munge"
  if [[ -r /etc/munge/munge.key ]]; then
    install -o munge -g munge -m 400 /etc/munge/munge.key "$dir/munge/munge.key"
  else
    (umask 277 && head -c 1024 /dev/urandom >"$dir/munge/munge.key")
    chown munge:munge "$dir/munge/munge.key"
  fi
  mkdir -p "$dir/state" "$dir/spool"

  local port=${SLURM_LOCAL_PORT:-16817} node host
  node=$(slurmd -C | head -n 1)
  host=$(sed -n 's/^NodeName=\([^ ]*\).*/\1/p' <<<"$node")
  [[ -n "$host" ]] || skip "slurmd -C printed no node line: $node"
  cat >"$dir/slurm.conf" <<CONF
ClusterName=local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobRequeue=1
ReturnToService=2
MinJobAge=3600
KillWait=5
InactiveLimit=0
MpiDefault=none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$dir/slurm.conf"

  runuser -u munge -- munged --socket="$dir/munge/munge.socket" \
    --key-file="$dir/munge/munge.key" --pid-file="$dir/munge/munged.pid" \
    --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" ||
    skip "munged did not start: $(tail -n 1 "$dir/munge/munged.log" 2>/dev/null)"
  slurmctld -f "$dir/slurm.conf"
  if ! wait_for 30 scontrol ping; then
    echo "local_cluster.sh: slurmctld did not answer; its log ends:" >&2
    tail -n 5 "$dir/slurmctld.log" >&2
    stop
    exit 1
  fi
  slurmd -f "$dir/slurm.conf"
  if ! wait_for 30 bash -c "sinfo -h -o %T | grep -qx idle"; then
    echo "local_cluster.sh: the node did not become idle; slurmd's log ends:" >&2
    tail -n 5 "$dir/slurmd.log" >&2
    stop
    exit 1
  fi
  echo "SLURM running: export SLURM_CONF=$dir/slurm.conf"
}

case "$command" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: local_cluster.sh start|stop DIR" >&2
    exit 2
    ;;
esac
