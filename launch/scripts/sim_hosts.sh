#!/usr/bin/env bash
# Simulated hosts on one machine, for trying multi-host MPI runs: each host is a network
# namespace with its own address and a UTS namespace with its own hostname, joined by a bridge
# that lives in a namespace of its own (the machine's own interfaces, addresses and firewall are
# never touched). Open MPI reaches the hosts through an rsh agent that enters the namespaces
# instead of calling ssh. Needs root, iproute2 and util-linux.
#
#   sim_hosts.sh up N        create hosts <prefix>1..N (removes what a previous run left)
#   sim_hosts.sh down        remove every host, the bridge and the state folder
#   sim_hosts.sh exec H CMD  run CMD on host H (e.g. mpirun, which then starts ranks elsewhere)
#   sim_hosts.sh env         print the OMPI_MCA_* settings that make mpirun use the hosts
#   sim_hosts.sh link H up|down   plug or unplug host H's cable
#
# SIM_HOSTS_PREFIX (default mlpsim) names the namespaces, SIM_HOSTS_SUBNET (default 198.18.47,
# from the range reserved for network benchmarks) gives host i the address SUBNET.i/24.
set -euo pipefail

prefix=${SIM_HOSTS_PREFIX:-mlpsim}
subnet=${SIM_HOSTS_SUBNET:-198.18.47}
state=/run/$prefix
switch=$prefix-sw

die() { echo "sim_hosts.sh: $*" >&2; exit 1; }

# A host's network namespace carries its name.
host_ns() { echo "$1"; }

# Hosts created by `up`, in order (their names are the state folder's uts entries).
hosts() { [[ -d $state/uts ]] && ls "$state/uts" | sort -V || true; }

down() {
  for h in $(hosts); do
    # Processes left on a host (a daemon whose link went down, say) would keep it alive.
    for pid in $(ip netns pids "$(host_ns "$h")" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    umount "$state/uts/$h" 2>/dev/null || true
  done
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^$prefix(-sw|[0-9]+)$" || true); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns delete "$ns" 2>/dev/null || true
    rm -rf "/etc/netns/$ns"
  done
  rmdir --ignore-fail-on-non-empty /etc/netns 2>/dev/null || true
  umount "$state" 2>/dev/null || true
  rm -rf "$state"
}

up() {
  local n=$1
  [[ $n =~ ^[0-9]+$ && $n -ge 1 && $n -le 250 ]] || die "host count '$n' is not in 1..250"
  [[ $(id -u) == 0 ]] || die "needs root (network and UTS namespaces)"
  down
  mkdir -p "$state/uts"
  # A persistent UTS namespace is a bind mount, which must sit on a private mount.
  mount --bind "$state" "$state"
  mount --make-private "$state"
  ip netns add "$switch"
  ip -n "$switch" link add br0 type bridge
  ip -n "$switch" link set br0 up
  local hosts_file="" i
  for i in $(seq "$n"); do hosts_file+="$subnet.$i $prefix$i"$'\n'; done
  for i in $(seq "$n"); do
    local h=$prefix$i ns
    ns=$(host_ns "$h")
    ip netns add "$ns"
    ip link add "p$i" netns "$switch" type veth peer name eth0 netns "$ns"
    ip -n "$switch" link set "p$i" master br0 up
    ip -n "$ns" addr add "$subnet.$i/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    # `ip netns exec` bind-mounts /etc/netns/NS/hosts over /etc/hosts: names resolve inside only.
    mkdir -p "/etc/netns/$ns"
    printf '127.0.0.1 localhost\n%s' "$hosts_file" >"/etc/netns/$ns/hosts"
    touch "$state/uts/$h"
    unshare --uts="$state/uts/$h" hostname "$h"
  done
  # The rsh agent Open MPI calls as `agent [options] HOST COMMAND...`.
  cat >"$state/rsh_agent" <<EOF
#!/bin/sh
while [ \$# -gt 0 ]; do case \$1 in -*) shift ;; *) break ;; esac; done
host=\$1; shift
[ -e "$state/uts/\$host" ] || { echo "rsh_agent: no simulated host \$host" >&2; exit 255; }
exec ip netns exec "\$host" nsenter --uts="$state/uts/\$host" sh -c "\$*"
EOF
  chmod +x "$state/rsh_agent"
  for i in $(seq "$n"); do echo "$prefix$i slots=4"; done >"$state/hostfile"
  echo "sim_hosts.sh: hosts ${prefix}1..$prefix$n at $subnet.1..$subnet.$n; hostfile $state/hostfile"
}

mpi_env() {
  [[ -x $state/rsh_agent ]] || die "no simulated hosts: run 'sim_hosts.sh up N' first"
  # Defaults as variables: Open MPI refuses one --mca given twice on a command line. Ranks go to
  # the hosts in turn, unpinned (each namespace sees every core), over the hosts' subnet only.
  cat <<EOF
export OMPI_MCA_plm_rsh_agent=$state/rsh_agent
export OMPI_MCA_plm_rsh_no_tree_spawn=1
export OMPI_MCA_orte_default_hostfile=$state/hostfile
export OMPI_MCA_rmaps_base_mapping_policy=node
export OMPI_MCA_btl=tcp,vader,self
export OMPI_MCA_btl_tcp_if_include=$subnet.0/24
export OMPI_MCA_oob_tcp_if_include=$subnet.0/24
export OMPI_MCA_mpi_yield_when_idle=1
export OMPI_MCA_hwloc_base_binding_policy=none
EOF
}

run_on() {
  local h=$1; shift
  [[ -e $state/uts/$h ]] || die "no simulated host $h (hosts: $(hosts | tr '\n' ' '))"
  exec ip netns exec "$(host_ns "$h")" nsenter --uts="$state/uts/$h" "$@"
}

link() {
  local h=$1 updown=$2
  [[ -e $state/uts/$h ]] || die "no simulated host $h"
  [[ $updown == up || $updown == down ]] || die "link state '$updown' is not up or down"
  ip -n "$switch" link set "p${h#"$prefix"}" "$updown"
}

case ${1:-} in
  up) [[ $# == 2 ]] || die "usage: sim_hosts.sh up N"; up "$2" ;;
  down) down ;;
  exec) [[ $# -ge 3 ]] || die "usage: sim_hosts.sh exec HOST COMMAND..."; shift; run_on "$@" ;;
  env) mpi_env ;;
  link) [[ $# == 3 ]] || die "usage: sim_hosts.sh link HOST up|down"; link "$2" "$3" ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
