# Sourced by the shell tests that start daemons or namespaces. `cleanup_guard CMD...` starts a
# watcher that runs CMD once the test script ends or its parent (ctest) does, whatever ended
# them: the script's own EXIT trap covers a normal end and a signal to it, but not SIGKILL (a
# ctest timeout), nor a ctest ended by SIGTERM, which leaves its tests running on unwatched, nor
# a signal that arrives while the script waits on a long foreground command. CMD must be safe to
# run twice. The watcher ignores the terminal's signals and holds none of the script's output,
# so ctest does not wait for it.
cleanup_guard() {
  local script=$$ parent=$PPID
  (
    trap '' INT TERM HUP PIPE
    while kill -0 "$script" 2>/dev/null && kill -0 "$parent" 2>/dev/null; do sleep 0.5; done
    # An orphaned script would go on with its work: end it and what it started first.
    if kill -0 "$script" 2>/dev/null; then
      kill -STOP "$script" 2>/dev/null
      for pid in $(pgrep -P "$script"); do
        [[ $pid != "$BASHPID" ]] && kill -KILL "$pid" 2>/dev/null
      done
      kill -KILL "$script" 2>/dev/null
    fi
    "$@"
  ) </dev/null >/dev/null 2>&1 &
  disown
}
