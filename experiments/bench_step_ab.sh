#!/usr/bin/env bash
# The training step of two builds against each other: bench_step of build A and of build B, one
# after the other in every round, pinned to one core, so that both see the same neighbours. Prints
# each build's median samples/s and best step and B's samples/s over A's, round by round and their
# median: the figure to quote for "did this change move the step", since it does not depend on
# how loaded the machine was, only on the load changing within a round.
#
# usage: experiments/bench_step_ab.sh BUILD_A BUILD_B   (build folders with experiments/bench_step)
# environment: ROUNDS (5), STEPS (50), MODELS ("1024,1024 256,128"), GEMM (onednn), CORE (1)
set -euo pipefail

[[ $# -eq 2 ]] || { echo "usage: experiments/bench_step_ab.sh BUILD_A BUILD_B" >&2; exit 2; }
a=$1/experiments/bench_step
b=$2/experiments/bench_step
for binary in "$a" "$b"; do
  [[ -x $binary ]] || { echo "bench_step_ab.sh: no $binary (build the bench_step target)" >&2; exit 2; }
done
rounds=${ROUNDS:-5}
steps=${STEPS:-50}
gemm=${GEMM:-onednn}
core=${CORE:-1}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
family=$(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')
number=$(grep -m1 '^model[[:space:]]*:' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')
echo "host: $model, cpu family $family model $number"
echo "A: $1"
echo "B: $2"
echo "--gemm $gemm, batch 128, Adam, one core (taskset -c $core), $rounds rounds of $steps steps"
echo
printf '| %-10s | %10s | %10s | %9s | %9s | %6s | %s\n' model "A smp/s" "B smp/s" "A best ms" "B best ms" "B / A" "B / A by round"
printf '|%s|\n' "------------|------------|------------|-----------|-----------|--------|----------------"
for hidden in ${MODELS:-1024,1024 256,128}; do
  ratios=() a_rates=() b_rates=() a_best=() b_best=()
  for ((r = 1; r <= rounds; r++)); do
    line_a=$(taskset -c "$core" "$a" --hidden "$hidden" --steps "$steps" --gemm "$gemm")
    line_b=$(taskset -c "$core" "$b" --hidden "$hidden" --steps "$steps" --gemm "$gemm")
    a_rates+=("$(field samples_per_s "$line_a")") b_rates+=("$(field samples_per_s "$line_b")")
    a_best+=("$(field best_step_ms "$line_a")") b_best+=("$(field best_step_ms "$line_b")")
    ratios+=("$(awk -v x="${b_rates[-1]}" -v y="${a_rates[-1]}" 'BEGIN {printf "%.3f", x / y}')")
  done
  printf '| %-10s | %10.0f | %10.0f | %9.2f | %9.2f | %6.3f | %s\n' "$hidden" \
    "$(printf '%s\n' "${a_rates[@]}" | median)" "$(printf '%s\n' "${b_rates[@]}" | median)" \
    "$(printf '%s\n' "${a_best[@]}" | sort -g | head -1)" \
    "$(printf '%s\n' "${b_best[@]}" | sort -g | head -1)" \
    "$(printf '%s\n' "${ratios[@]}" | median)" "${ratios[*]}"
done
