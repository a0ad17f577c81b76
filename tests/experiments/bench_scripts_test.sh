#!/usr/bin/env bash
# The benchmark scripts at a tiny size on whatever host runs the suite: each must exit 0 and
# print its table headed by the host line, so a script that breaks on some CPU fails the suite.
# Usage: bench_scripts_test.sh single|dist|memory|step_ab BUILD_DIR
set -u
expect_too=
kind=$1 build=$2
experiments="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../experiments" && pwd)"
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
export ROUNDS=1 STEPS=5 WARMUP=1
case $kind in
  single) run=(env MODELS="64,32" bash "$experiments/bench_single.sh" "$build")
          expect='^\| ours, --gemm auto \(chose [a-z]+\) +\| +[0-9]+ ' ;;
  dist) run=(bash "$experiments/bench_dist.sh" "$build")
        expect='^mlp_np2_sharded +2 +[0-9]+ ' expect_too='^mlp_np2_exact +2 +[0-9]+ ' ;;
  memory) run=(bash "$experiments/bench_memory.sh" "$build/trainer")
          expect='^cache +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.-]+ +[0-9]+$' ;;
  step_ab) run=(env MODELS="64,32" CORE=0 bash "$experiments/bench_step_ab.sh" "$build" "$build")
           expect='^\| 64,32 +\| +[0-9]+ \| +[0-9]+ \| +[0-9.]+ \| +[0-9.]+ \| +[0-9.]+ \| [0-9.]+$' ;;
  *) echo "usage: bench_scripts_test.sh single|dist|memory|step_ab BUILD_DIR"; exit 2 ;;
esac
"${run[@]}" >"$out" 2>&1
status=$?
cat "$out"
[[ $status -eq 0 ]] || { echo "FAIL: bench_$kind.sh exited $status"; exit 1; }
grep -q '^host: ' "$out" || { echo "FAIL: no host line"; exit 1; }
for pattern in "$expect" ${expect_too:+"$expect_too"}; do
  grep -Eq "$pattern" "$out" || { echo "FAIL: no row matching $pattern"; exit 1; }
done
echo "PASS: bench_$kind.sh"
