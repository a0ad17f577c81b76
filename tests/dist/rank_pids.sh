# Sourced by the shell tests that signal one rank of a job: rank_pid R prints the pid of rank R
# of the mpirun whose pid is in $job (mpirun starts the ranks as its children).
rank_pid() {
  for pid in $(pgrep -P "$job"); do
    if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then
      echo "$pid"; return 0
    fi
  done
  return 1
}
