#!/usr/bin/env bash
# Runs the libFuzzer targets (tests/fuzz, built by clang with AddressSanitizer and
# UndefinedBehaviorSanitizer into BUILD/fuzz) for SECONDS each, one after the other, and prints
# a table of executions per target. Inputs that grow coverage go to BUILD/fuzz/corpus/TARGET
# (started from the committed seeds in tests/fuzz/corpus/TARGET); a crash, leak, timeout (10 s
# per input) or memory blow-up (2 GB) is saved under BUILD/fuzz/findings/TARGET and ends the run
# with a non-zero exit code.
# Usage: experiments/fuzz.sh SECONDS [TARGET...]   (default: every target; MLP_BUILD_DIR=build)
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${MLP_BUILD_DIR:-$root/build}"
seconds=${1:?usage: fuzz.sh SECONDS [TARGET...]}
shift
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for f in "$build"/fuzz/*_fuzz; do targets+=("$(basename "${f%_fuzz}")"); done
fi

status=0
printf '%-20s %12s %10s  %s\n' target executions seconds result
for t in "${targets[@]}"; do
  binary="$build/fuzz/${t}_fuzz"
  if [[ ! -x $binary ]]; then
    echo "$binary: not built (needs clang and libfuzzer-14-dev; configure with MLP_FUZZ=ON)" >&2
    status=1
    continue
  fi
  corpus="$build/fuzz/corpus/$t" findings="$build/fuzz/findings/$t"
  mkdir -p "$corpus" "$findings"
  log="$build/fuzz/$t.log"
  start=$SECONDS
  "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$findings/" "$corpus" "$root/tests/fuzz/corpus/$t" >"$log" 2>&1
  code=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  result=ok
  if [[ $code -ne 0 ]]; then
    result="FINDING (exit $code), see $log and $findings"
    status=1
  fi
  printf '%-20s %12s %10s  %s\n' "$t" "${runs:-?}" "$((SECONDS - start))" "$result"
  if [[ $code -ne 0 ]]; then grep -m 3 -E 'ERROR|runtime error|SUMMARY|error line' "$log" >&2; fi
done
exit $status
