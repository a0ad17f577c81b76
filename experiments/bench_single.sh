#!/usr/bin/env bash
# Single-core throughput of the trainer's step with each matrix-product backend, against the
# GEMM-bound limit (the step's products alone on the fastest backend) and Debian's PyTorch on
# one thread, both in the unaltered environment and with OpenBLAS forced to the core kernel this
# CPU should get. Everything runs pinned to one core in one run, rounds interleaved; the table
# gives medians of rounds, and each ratio is the median of the rounds' own ratios. A program's
# step time is its median step ("step ms") and its least disturbed step ("best ms"); the limit
# is a best-of timing, so "of limit" compares it with the best step (on a shared machine the
# median carries the neighbours' load, which the best-of limit does not).
# On a CPU with bf16 instructions (avx512_bf16 or AMX) the first table also has the bf16 limit
# (oneDNN's bf16 products alone) and the step under --precision bf16, whose "of limit" is against
# that bf16 limit, and a line gives bf16's samples/s over fp32's (auto) round by round; elsewhere
# those rows are left out with a note.
# A second table times the regularized steps (dropout, input dropout, max-norm, and all three:
# the recipe of Srivastava et al.) on the backend auto chose, each round running them one after
# the other beside a plain step, and gives each one's samples/s over the plain step's in the same
# round (median of the rounds' ratios, and the ratio of every round).
#
# usage: experiments/bench_single.sh [BUILD_DIR]     (default: build/ of the repository)
# environment: ROUNDS (3), STEPS (50), WARMUP (5), BATCH (128), MODELS ("1024,1024 256,128"),
#              CORE (0, the CPU every run is pinned to), PYTHON (/usr/bin/python3, Debian's torch)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
rounds=${ROUNDS:-3}
steps=${STEPS:-50}
warmup=${WARMUP:-5}
batch=${BATCH:-128}
models=${MODELS:-1024,1024 256,128}
core=${CORE:-0}
python=${PYTHON:-/usr/bin/python3}

if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" -j2 --target bench_step gemm_rate >/dev/null

# The value of key in a line of key=value pairs.
field() { tr ' ' '\n' <<<"$1" | awk -F= -v key="$2" '$1 == key { print $2 }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
  print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ratio3() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
pinned() { taskset -c "$core" "$@"; }

# The kernel OpenBLAS should pick here, to force it for the second torch column.
flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { [[ " $flags " == *" $1 "* ]]; }
if has avx512f; then right_core=SkylakeX; elif has avx2; then right_core=Haswell; else right_core=""; fi
isa=$(for f in avx2 avx512f avx512_bf16 avx512_fp16 amx_tile; do if has $f; then printf '%s ' $f; fi; done)
# The bf16 rows need oneDNN in the build and bf16 instructions in the CPU: gemm_rate prints its
# "bf16" line only then.
have_bf16=0
"$build/experiments/gemm_rate" --hidden 8 --batch 4 --seconds 0.001 | grep -q '^bf16 ' && have_bf16=1
# The torch rows need Debian's python3-torch (installed by the test command); without it they
# are left out with a note.
have_torch=0
"$python" -c 'import torch' >/dev/null 2>&1 && have_torch=1
openblas_core=$(OPENBLAS_VERBOSE=2 "$python" -c 'import ctypes; ctypes.CDLL("libopenblas.so.0")' \
  2>&1 | sed -n 's/^Core: //p')

echo "host: $(lscpu | sed -n 's/^Model name: *//p'), cpu family $(lscpu | sed -n \
  's/^CPU family: *//p') model $(lscpu | sed -n 's/^Model: *//p'); flags: ${isa:-none}"
echo "Debian OpenBLAS picks core: ${openblas_core:-?}; forced for the second torch column:" \
  "${right_core:-none}"
echo "batch $batch, Adam, one core (taskset -c $core), $rounds rounds of $steps steps"
echo

backends=(onednn eigen blas)
# The regularized steps, the plain one first (the reference of their ratios). --max-norm 3 rarely
# binds in a benchmark's few steps from initialization; --max-norm 1 binds at every step (rows of
# He initialization have norm about sqrt(2)), so the rescale is timed too.
regularized=("" "--dropout 0.5" "--input-dropout 0.2" "--max-norm 3" "--max-norm 1"
  "--input-dropout 0.2 --dropout 0.5 --max-norm 3")
for hidden in $models; do
  shape=(--hidden "$hidden" --batch "$batch")
  run=(--steps "$steps" --warmup "$warmup")
  declare -A lines=()
  for ((r = 0; r < rounds; ++r)); do
    rates=$(pinned "$build/experiments/gemm_rate" "${shape[@]}" --seconds 1)
    lines[limit,$r]=$(grep '^fastest=' <<<"$rates")
    for b in "${backends[@]}"; do lines[rate_$b,$r]=$(grep "^backend=$b " <<<"$rates"); done
    for b in "${backends[@]}" auto; do
      lines[$b,$r]=$(pinned "$build/experiments/bench_step" "${shape[@]}" "${run[@]}" --gemm "$b")
    done
    kinds=(limit "${backends[@]}" auto)
    if ((have_bf16)); then
      lines[limit_bf16,$r]=$(grep '^bf16 ' <<<"$rates")
      lines[bf16,$r]=$(pinned "$build/experiments/bench_step" "${shape[@]}" "${run[@]}" \
        --gemm onednn --precision bf16)
      kinds+=(limit_bf16 bf16)
    fi
    chose=$(field "${lines[auto,$r]}" gemm)
    for k in "${!regularized[@]}"; do
      # shellcheck disable=SC2086  # the flags split into words on purpose
      lines[reg$k,$r]=$(pinned "$build/experiments/bench_step" "${shape[@]}" "${run[@]}" \
        --gemm "$chose" ${regularized[$k]})
    done
    for k in "${!regularized[@]}"; do kinds+=("reg$k"); done
    if ((have_torch)); then
      # torch's thread variables only make it one thread; the kernel choice is left alone.
      lines[torch,$r]=$(OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 pinned "$python" \
        "$repo/experiments/torch_reference.py" "${shape[@]}" "${run[@]}")
      lines[forced,$r]=$(OPENBLAS_CORETYPE=${right_core:-Prescott} OPENBLAS_NUM_THREADS=1 \
        OMP_NUM_THREADS=1 pinned "$python" "$repo/experiments/torch_reference.py" "${shape[@]}" \
        "${run[@]}")
      kinds+=(torch forced)
    fi
    for k in "${kinds[@]}"; do echo "$hidden round $r $k: ${lines[$k,$r]}" >&2; done
  done

  # med KIND KEY: median over rounds; rmed KIND KEY KIND2 KEY2: median of per-round ratios.
  med() { local v=(); for ((r = 0; r < rounds; ++r)); do v+=("$(field "${lines[$1,$r]}" "$2")"); done; median "${v[@]}"; }
  rmed() { local v=(); for ((r = 0; r < rounds; ++r)); do
    v+=("$(ratio "$(field "${lines[$1,$r]}" "$2")" "$(field "${lines[$3,$r]}" "$4")")"); done
    median "${v[@]}"; }

  mflop=$(field "${lines[auto,0]}" mflop_per_sample)
  echo "model 784-${hidden//,/-}-10, $(printf '%.2f' "$mflop") MFLOP per sample in products"
  echo
  row() {  # label kind (a bench line kind, or "limit"/"limit_bf16") [its limit, default limit]
    if [[ $2 == limit* ]]; then
      printf '| %-44s | %10s | %9s | %9.2f | %10.0f | %8s |\n' "$1" - - "$(med "$2" step_gemm_ms)" \
        "$(med "$2" limit_samples_per_s)" 1.00
    else
      printf '| %-44s | %10.0f | %9.2f | %9.2f | %10.0f | %8s |\n' "$1" "$(med "$2" samples_per_s)" \
        "$(med "$2" step_ms)" "$(med "$2" best_step_ms)" "$(med "$2" best_samples_per_s)" \
        "$(rmed "$2" best_samples_per_s "${3:-limit}" limit_samples_per_s)"
    fi
  }
  printf '| %-44s | %10s | %9s | %9s | %10s | %8s |\n' "run" "samples/s" "step ms" "best ms" \
    "best smp/s" "of limit"
  printf '|%s|%s|%s|%s|%s|%s|\n' "----------------------------------------------" "------------" \
    "-----------" "-----------" "------------" "----------"
  row "GEMM-bound limit ($(field "${lines[limit,0]}" fastest) products alone)" limit
  for b in "${backends[@]}"; do row "ours, --gemm $b" "$b"; done
  row "ours, --gemm auto (chose $(field "${lines[auto,0]}" gemm))" auto
  if ((have_bf16)); then
    row "GEMM-bound limit, bf16 (onednn bf16 alone)" limit_bf16
    row "ours, --precision bf16 (onednn)" bf16 limit_bf16
  fi
  if ((have_torch)); then
    row "torch 1 thread, unaltered (${openblas_core:-?})" torch
    row "torch 1 thread, OPENBLAS_CORETYPE=${right_core:-none}" forced
    echo
    echo "ours (auto) / torch unaltered: $(rmed auto samples_per_s torch samples_per_s) median steps," \
      "$(rmed auto best_samples_per_s torch best_samples_per_s) best steps;" \
      "ours (auto) / torch forced: $(rmed auto samples_per_s forced samples_per_s) median," \
      "$(rmed auto best_samples_per_s forced best_samples_per_s) best"
  else
    echo
    echo "torch rows left out: $python cannot import torch (Debian: python3-torch)"
  fi
  echo "step phases of ours (auto), ms: forward $(med auto forward_ms), loss $(med auto loss_ms)," \
    "backward $(med auto backward_ms), optimizer $(med auto optimizer_ms)"
  for b in "${backends[@]}"; do
    echo "$b, the step's products alone: $(med "rate_$b" gflops) GFLOP/s"
  done
  if ((have_bf16)); then
    echo "onednn bf16, the step's products alone: $(med limit_bf16 gflops) GFLOP/s"
    per_round=()
    for ((r = 0; r < rounds; ++r)); do
      per_round+=("$(ratio "$(field "${lines[bf16,$r]}" samples_per_s)" \
        "$(field "${lines[auto,$r]}" samples_per_s)")")
    done
    echo "bf16 / fp32 (auto) samples/s: $(median "${per_round[@]}") median of rounds (${per_round[*]})," \
      "$(rmed bf16 best_samples_per_s auto best_samples_per_s) best steps; bf16 limit / fp32 limit:" \
      "$(rmed limit_bf16 limit_samples_per_s limit limit_samples_per_s); step phases of bf16, ms:" \
      "forward $(med bf16 forward_ms), backward $(med bf16 backward_ms), optimizer $(med bf16 optimizer_ms)"
  else
    echo "bf16 rows left out: no bf16 products here (the CPU lacks avx512_bf16 and amx_bf16, or" \
      "the build lacks oneDNN)"
  fi
  echo

  echo "regularized steps, --gemm $(field "${lines[reg0,0]}" gemm) (auto's choice);" \
    "of plain: samples/s over the plain step's of the same round"
  echo
  printf '| %-46s | %10s | %8s | %7s | %7s | %7s | %8s | %-s\n' "run" "samples/s" "step ms" \
    "fwd ms" "bwd ms" "opt ms" "of plain" "by round"
  printf '|%s|%s|%s|%s|%s|%s|%s|%s\n' "------------------------------------------------" \
    "------------" "----------" "---------" "---------" "---------" "----------" "----------"
  for k in "${!regularized[@]}"; do
    ratios=()
    for ((r = 0; r < rounds; ++r)); do
      ratios+=("$(ratio3 "$(field "${lines[reg$k,$r]}" samples_per_s)" \
        "$(field "${lines[reg0,$r]}" samples_per_s)")")
    done
    printf '| %-46s | %10.0f | %8.2f | %7.2f | %7.2f | %7.2f | %8.3f | %s\n' \
      "${regularized[$k]:-plain}" "$(med "reg$k" samples_per_s)" "$(med "reg$k" step_ms)" \
      "$(med "reg$k" forward_ms)" "$(med "reg$k" backward_ms)" "$(med "reg$k" optimizer_ms)" \
      "$(median "${ratios[@]}")" "${ratios[*]}"
  done
  echo
  unset lines
done
