# Sourced by the shell tests that drive one mpirun job, whose pid is in $job, and that define
# fail MESSAGE.

# rank_pid R prints the pid of rank R of the job (mpirun starts the ranks as its children).
rank_pid() {
  for pid in $(pgrep -P "$job"); do
    if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then
      echo "$pid"; return 0
    fi
  done
  return 1
}

# wait_for_output PATTERN FILE WHAT SECONDS waits until FILE has a line matching PATTERN; it
# fails, naming WHAT, when the job ends first or SECONDS pass.
wait_for_output() {
  for _ in $(seq $(($4 * 10))); do
    grep -qs "$1" "$2" && return 0
    kill -0 "$job" 2>/dev/null || fail "the job ended before $3"
    sleep 0.1
  done
  fail "no $3 within $4 s"
}
