#!/usr/bin/env bash
# Single-process throughput of the trainer's step against two references measured in the same
# run: Eigen's SGEMM rate on this core and PyTorch on one thread with the same model, batch and
# Adam step. The runs alternate over several rounds and the table reports medians and ratios.
#
# usage: experiments/bench_single.sh [BUILD_DIR]     (default: build/ of the repository)
# environment: ROUNDS (3), STEPS (50), WARMUP (5), BATCH (128), HIDDEN (1024,1024),
#              CORE (0, the CPU every run is pinned to), PYTHON (/usr/bin/python3, Debian's torch)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
rounds=${ROUNDS:-3}
steps=${STEPS:-50}
warmup=${WARMUP:-5}
batch=${BATCH:-128}
hidden=${HIDDEN:-1024,1024}
core=${CORE:-0}
python=${PYTHON:-/usr/bin/python3}

if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" -j2 --target bench_step sgemm_rate >/dev/null

# The value of key in a line of key=value pairs.
field() { tr ' ' '\n' <<<"$1" | awk -F= -v key="$2" '$1 == key { print $2 }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
  print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

shape=(--hidden "$hidden" --batch "$batch")
ours=() torch=() sgemm=()
for ((r = 1; r <= rounds; ++r)); do
  sgemm+=("$(taskset -c "$core" "$build/experiments/sgemm_rate" "${shape[@]}" | tail -n 1)")
  ours+=("$(taskset -c "$core" "$build/experiments/bench_step" "${shape[@]}" \
    --steps "$steps" --warmup "$warmup")")
  # Debian's torch links the system OpenBLAS, whose thread pool starts before python code runs.
  torch+=("$(OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 taskset -c "$core" "$python" \
    "$repo/experiments/torch_reference.py" "${shape[@]}" --steps "$steps" --warmup "$warmup")")
  echo "round $r/$rounds: ours ${ours[-1]}" >&2
  echo "round $r/$rounds: torch ${torch[-1]}" >&2
  echo "round $r/$rounds: sgemm ${sgemm[-1]}" >&2
done

# The median over the rounds of one key of one program's lines.
med() {
  local key=$1; shift
  local values=()
  for line in "$@"; do values+=("$(field "$line" "$key")"); done
  median "${values[@]}"
}
our_rate=$(med samples_per_s "${ours[@]}")
torch_rate=$(med samples_per_s "${torch[@]}")
mflop=$(field "${ours[0]}" mflop_per_sample)
sgemm_rate=$(med sgemm_gflops "${sgemm[@]}")
gemm_ms=$(med step_gemm_ms "${sgemm[@]}")
blas_rate=$(med blas_gflops "${torch[@]}")
# Ratios are taken within a round, where the two runs were seconds apart, and then their median:
# the load of the shared machine drifts between rounds more than within one.
torch_ratios=() sgemm_ratios=()
for ((r = 0; r < rounds; ++r)); do
  ours_r=$(field "${ours[r]}" samples_per_s)
  torch_ratios+=("$(awk -v a="$ours_r" -v b="$(field "${torch[r]}" samples_per_s)" \
    'BEGIN { print a / b }')")
  sgemm_ratios+=("$(awk -v a="$ours_r" -v f="$mflop" -v b="$(field "${sgemm[r]}" sgemm_gflops)" \
    'BEGIN { print a * f / 1e3 / b }')")
done

awk -v ours="$our_rate" -v torch="$torch_rate" -v mflop="$mflop" -v sgemm="$sgemm_rate" \
  -v gemm_ms="$gemm_ms" -v blas="$blas_rate" -v batch="$batch" -v hidden="$hidden" \
  -v rounds="$rounds" -v torch_ratio="$(median "${torch_ratios[@]}")" \
  -v sgemm_ratio="$(median "${sgemm_ratios[@]}")" -v step_ms="$(med step_ms "${ours[@]}")" \
  -v zero="$(med zero_ms "${ours[@]}")" -v fwd="$(med forward_ms "${ours[@]}")" \
  -v loss="$(med loss_ms "${ours[@]}")" -v bwd="$(med backward_ms "${ours[@]}")" \
  -v adam="$(med optimizer_ms "${ours[@]}")" -v torch_ms="$(med step_ms "${torch[@]}")" '
function row(name, value, unit) { printf "| %-44s | %12s | %-12s |\n", name, value, unit }
BEGIN {
  gflops = ours * mflop / 1e3
  printf "model %s hidden, batch %d, Adam, one core\n", hidden, batch
  printf "medians of %d rounds; a ratio is the median of the rounds\047 own ratios\n\n", rounds
  printf "| %-44s | %12s | %-12s |\n", "measure", "value", "unit"
  rule = "----------------------------------------------"
  printf "|%s|%s|%s|\n", rule, substr(rule, 1, 14), substr(rule, 1, 14)
  row("ours", sprintf("%.0f", ours), "samples/s")
  row("torch (1 thread)", sprintf("%.0f", torch), "samples/s")
  row("ratio ours / torch (target >= 1.5)", sprintf("%.2f", torch_ratio), "")
  row("useful work per sample", sprintf("%.3f", mflop), "MFLOP")
  row("ours, useful rate", sprintf("%.1f", gflops), "GFLOP/s")
  row("Eigen SGEMM 1024^3", sprintf("%.1f", sgemm), "GFLOP/s")
  row("ours / Eigen SGEMM", sprintf("%.2f", sgemm_ratio), "")
  row("torch BLAS SGEMM 1024^3", sprintf("%.1f", blas), "GFLOP/s")
  row("GEMMs of one step alone (Eigen, best case)", sprintf("%.2f", gemm_ms), "ms")
  row("ours, step", sprintf("%.2f", step_ms), "ms")
  row("  zero gradients", sprintf("%.2f", zero), "ms")
  row("  forward", sprintf("%.2f", fwd), "ms")
  row("  loss", sprintf("%.3f", loss), "ms")
  row("  backward", sprintf("%.2f", bwd), "ms")
  row("  optimizer (Adam)", sprintf("%.2f", adam), "ms")
  row("torch, step", sprintf("%.2f", torch_ms), "ms")
}'

# Without OpenBLAS, Debian's torch falls back to the reference BLAS and the comparison is void.
if awk -v blas="$blas_rate" 'BEGIN { exit !(blas < 10) }'; then
  echo "warning: torch's BLAS runs at $blas_rate GFLOP/s, the reference BLAS:" \
    "apt-get install libopenblas-dev for a meaningful torch column" >&2
fi
