#!/usr/bin/env bash
# Memory and speed of the data path on 784-1024-1024-10 with Fashion-MNIST: peak RSS of the
# trainer alone, peak summed PSS of the ranks at np 1 and np 2 (shared pages, such as the mapped
# data cache, count once per host), and training samples/s with the per-host data cache against
# floats held in memory (--data-cache off), rounds interleaved, best round of each kept. Prints a
# table headed by the host CPU.
# Usage: experiments/bench_memory.sh [TRAINER]   (default build/trainer; env: ROUNDS=3 EPOCHS=1,
# STEPS=N stops every run after N steps)
# A TRAINER from before the cache (no --data-cache flag) is measured with floats only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
trainer=${1:-$here/../build/trainer}
rounds=${ROUNDS:-3}
epochs=${EPOCHS:-1}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME=$work/cache
common=(--hidden 1024,1024 --epochs "$epochs" --progress none)
limit=()
[[ -n ${STEPS:-} ]] && limit=(--max-steps "$STEPS")
has_cache=0
[[ $("$trainer" --help) == *--data-cache* ]] && has_cache=1

# Peak RSS (MB) of one process alone, from the kernel's count for the waited-for child.
peak_rss() {
  python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)' "$@"
}

# Peak over time of the ranks' summed PSS (MB) under mpirun -np $1, sampled every 0.1 s.
peak_pss() {
  local np=$1; shift
  mpirun -np "$np" --bind-to none "$@" >/dev/null &
  local job=$! peak=0 sum pid
  while kill -0 "$job" 2>/dev/null; do
    sum=0
    for pid in $(pgrep -P "$job" -x trainer); do
      sum=$((sum + $(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0)))
    done
    ((sum > peak)) && peak=$sum
    sleep 0.1
  done
  wait "$job"
  awk -v kb="$peak" 'BEGIN { printf "%.1f", kb / 1024 }'
}

# The run's samples/s (summary.json also holds the kept epoch's, under kept_epoch).
samples_per_second() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["samples_per_second"])' \
    "$1/summary.json"
}

modes=(floats)
((has_cache)) && modes=(floats cache)
# Flags of a mode (word-split on use).
mode_flags() { [[ $1 == floats ]] && ((has_cache)) && echo "--data-cache off" || true; }
# One run beforehand builds the cache, so every measured run maps it.
((has_cache)) && "$trainer" "${common[@]}" --max-steps 1 --out "$work/warm" >/dev/null
common+=("${limit[@]}")

declare -A rss pss1 pss2 speed
for mode in "${modes[@]}"; do
  # shellcheck disable=SC2046
  rss[$mode]=$(peak_rss "$trainer" "${common[@]}" $(mode_flags "$mode") --out "$work/rss")
  # shellcheck disable=SC2046
  pss1[$mode]=$(peak_pss 1 "$trainer" "${common[@]}" $(mode_flags "$mode") --out "$work/pss1")
  # shellcheck disable=SC2046
  pss2[$mode]=$(peak_pss 2 "$trainer" "${common[@]}" $(mode_flags "$mode") --out "$work/pss2")
done
for round in $(seq "$rounds"); do
  echo "speed round $round of $rounds" >&2
  for mode in "${modes[@]}"; do
    # shellcheck disable=SC2046
    "$trainer" "${common[@]}" $(mode_flags "$mode") --out "$work/speed" >/dev/null
    speed[$mode]=$(awk -v a="$(samples_per_second "$work/speed")" -v b="${speed[$mode]:-0}" \
                     'BEGIN { print (a > b ? a : b) }')
  done
done

echo "host: $(lscpu | sed -n 's/^Model name: *//p'), cpu family $(lscpu | sed -n \
  's/^CPU family: *//p') model $(lscpu | sed -n 's/^Model: *//p'); trainer: $trainer"
printf "%-8s %13s %13s %13s %15s %11s\n" data "peak RSS MB" "PSS np1 MB" "PSS np2 MB" \
  "np2 - np1 MB" "samples/s"
for mode in "${modes[@]}"; do
  awk -v m="$mode" -v r="${rss[$mode]}" -v p1="${pss1[$mode]}" -v p2="${pss2[$mode]}" \
      -v s="${speed[$mode]}" 'BEGIN { printf "%-8s %13.1f %13.1f %13.1f %15.1f %11.0f\n", m, r, p1, p2, p2 - p1, s }'
done
if ((has_cache)); then
  awk -v c="${speed[cache]}" -v f="${speed[floats]}" -v n="$rounds" -v e="$epochs" \
      'BEGIN { printf "cache / floats samples/s: %.3f (best of %d interleaved rounds, %d epoch(s) each)\n", c / f, n, e }'
fi
echo "floats: every rank holds the data set as floats; cache: every rank maps the host's data cache."
