#!/usr/bin/env bash
# The real trainer under mpirun, stopped and resumed: a 2-rank run resumed from a mid-epoch
# checkpoint ends bitwise like one that never stopped, and within 1e-5 of it at 1 rank; SIGUSR1
# to mpirun or SIGTERM to one rank writes a checkpoint and exits 75, and --resume auto finishes;
# under --exact-blocks, a 2-rank run's checkpoint resumed at 3 ranks ends bitwise like 1 rank's
# run that never stopped.
# Usage: resume_mpi_test.sh bitwise|sigusr1|sigterm_rank|exact MPIEXEC TRAINER PROTOC PROTO_DIR SYNTHETIC_CSV
set -u
case_name=$1 mpiexec=$2 trainer=$3 protoc=$4 proto_dir=$5 synthetic_csv=$6
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT

fail() {
  echo "FAIL ($case_name): $*"
  for f in "$work"/*.out "$work"/*.err; do [[ -s $f ]] && { echo "--- $f"; cat "$f"; }; done
  exit 1
}

# Three overlapping classes in 20 features, from the tests' shared generator.
"$synthetic_csv" blobs 600 20 1 >"$work/train.csv" || exit 1
"$synthetic_csv" blobs 150 20 2 >"$work/test.csv" || exit 1
# 540 training rows after the validation split, batch 32: 17 steps per epoch.
common=(--train-csv "$work/train.csv" --test-csv "$work/test.csv" --batch-size 32 --optimizer adam --lr 0.01
        --progress none)
# Some seconds of training, so that a signal sent once the first epoch line is out arrives
# long before the run would end by itself; one checkpoint, at the last of its 3400 steps.
slow=(--hidden 384,384 --epochs 200 --checkpoint-every-epoch false --checkpoint-every-steps 3400)

# train NP NAME ARGS...: one run into $work/NAME; sets $code.
train() {
  local np=$1 name=$2
  shift 2
  "$mpiexec" -np "$np" "$trainer" "${common[@]}" --out "$work/$name" "$@" >"$work/$name.out" 2>"$work/$name.err"
  code=$?
}

newest_checkpoint() { ls "$work/$1"/checkpoints/ckpt-*.pb 2>/dev/null | tail -n 1; }

# shellcheck source=../../support/checkpoint_state.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../support/checkpoint_state.sh"

# Both runs' final checkpoints hold the same training state, bit for bit, and their metrics
# rows agree outside the timing columns.
expect_same_final_state() {
  local a b
  a=$(newest_checkpoint "$1") b=$(newest_checkpoint "$2")
  [[ -n $a && -n $b ]] || fail "missing final checkpoint in $1 or $2"
  [[ $(basename "$a") == $(basename "$b") ]] || fail "final checkpoints differ in step: $a, $b"
  training_state "$a" >"$work/$1.state" || fail "protoc cannot decode $a"
  training_state "$b" >"$work/$2.state" || fail "protoc cannot decode $b"
  grep -q '^params: "' "$work/$1.state" && grep -q '^  slots: "' "$work/$1.state" ||
    fail "decoded checkpoint holds no parameters or optimizer state"
  diff "$work/$1.state" "$work/$2.state" | cut -c 1-200 >"$work/state.diff"
  [[ -s $work/state.diff ]] && fail "final training state of $2 differs from $1: $(head -n 8 "$work/state.diff")"
  diff <(cut -d, -f1-5,8- "$work/$1/metrics.csv") <(cut -d, -f1-5,8- "$work/$2/metrics.csv") >/dev/null ||
    fail "metrics.csv of $2 differs from $1"
}

# Every rms and max|x| that `trainer inspect` prints, parameters and optimizer state, within
# relative tolerance $3 (it prints 6 significant digits).
expect_close_final_state() {
  local a b
  a=$(newest_checkpoint "$1") b=$(newest_checkpoint "$2")
  "$trainer" inspect "$a" | grep ' values  rms ' >"$work/$1.inspect" || fail "inspect $a failed"
  "$trainer" inspect "$b" | grep ' values  rms ' >"$work/$2.inspect" || fail "inspect $b failed"
  paste -d '\n' "$work/$1.inspect" "$work/$2.inspect" | awk -v tol="$3" '
    NR % 2 == 1 { rms = $(NF - 2); max = $NF; next }
    { d1 = rms - $(NF - 2); d2 = max - $NF
      if (d1 < 0) d1 = -d1
      if (d2 < 0) d2 = -d2
      if (d1 > tol * rms + 1e-12 || d2 > tol * max + 1e-12) { print "differs: " $0; bad = 1 } }
    END { exit bad || NR == 0 }' >"$work/close.out" || fail "$(cat "$work/close.out")"
}

summary_number() { sed -n "s/.*\"$2\": \([^,}]*\).*/\1/p" "$work/$1/summary.json"; }

# Waits until the run into $work/$1 has written its first metrics row (so the stop signal
# handlers are installed); $job is its mpirun. Rank 0 writes metrics.csv itself, at once; its
# console lines pass through mpirun, which may hold them back until most of the run is over.
wait_for_first_epoch() {
  wait_for_output '^1,' "$work/$1/metrics.csv" "the first metrics row of $1" 15
}

# shellcheck source=../../support/mpi_job.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../support/mpi_job.sh"

# A run stopped by signal $2: exit 75, one checkpoint, a signal event naming the signal.
expect_stopped_by_signal() {
  [[ $code == 75 ]] || fail "exit code $code after the signal, expected 75"
  grep -q '^trainer: stopped by a signal at global step [0-9]* after writing a checkpoint' "$work/$1.err" ||
    fail "no stop message on stderr"
  [[ $(ls "$work/$1"/checkpoints/ckpt-*.pb 2>/dev/null | wc -l) == 1 ]] || fail "not exactly one checkpoint"
  grep -q "\"event\":\"signal\",.*\"signal\":$2[,}]" "$work/$1/events.jsonl" || fail "no signal $2 event"
  "$trainer" inspect "$(newest_checkpoint "$1")" >/dev/null || fail "the signal's checkpoint does not verify"
}

case $case_name in
  bitwise)
    train 2 straight --hidden 32,32 --epochs 3 --checkpoint-every-steps 7 --keep-last 100
    [[ $code == 0 ]] || fail "straight run: exit code $code"
    # Global step 21 is step 4 of the second epoch.
    from=$work/straight/checkpoints/ckpt-000000000021.pb
    "$trainer" inspect "$from" | grep -q '^position: epoch 1, step 4 of that epoch' || fail "$from is not mid-epoch"
    train 2 resumed --hidden 32,32 --epochs 3 --checkpoint-every-steps 7 --resume "$from"
    [[ $code == 0 ]] || fail "resumed run: exit code $code"
    grep -q "^resuming from $from at epoch 2, step 4 (global step 21), saved by 2 ranks" "$work/resumed.out" ||
      fail "no resume line"
    expect_same_final_state straight resumed
    train 1 one_rank --hidden 32,32 --epochs 3 --resume "$from"
    [[ $code == 0 ]] || fail "resumed at 1 rank: exit code $code"
    expect_close_final_state straight one_rank 1e-5
    for key in epochs_run global_steps; do
      [[ $(summary_number straight $key) == $(summary_number one_rank $key) ]] || fail "$key differs at 1 rank"
    done
    awk -v a="$(summary_number straight test_loss)" -v b="$(summary_number one_rank test_loss)" \
        'BEGIN { d = a - b; exit !(a > 0 && (d < 0 ? -d : d) <= 1e-5 * a) }' ||
      fail "test_loss $(summary_number one_rank test_loss) at 1 rank, $(summary_number straight test_loss) at 2"
    ;;
  sigusr1)
    train 2 straight "${slow[@]}"
    [[ $code == 0 ]] || fail "straight run: exit code $code"
    "$mpiexec" -np 2 "$trainer" "${common[@]}" "${slow[@]}" --out "$work/stopped" \
      >"$work/stopped.out" 2>"$work/stopped.err" &
    job=$!
    wait_for_first_epoch stopped
    kill -USR1 "$job"
    wait "$job"; code=$?
    expect_stopped_by_signal stopped 10
    train 2 stopped "${slow[@]}" --resume auto
    [[ $code == 0 ]] || fail "resumed run: exit code $code"
    grep -q "^resuming from $work/stopped/checkpoints/ckpt-" "$work/stopped.out" || fail "no resume line"
    grep -q '"event":"resume"' "$work/stopped/events.jsonl" || fail "no resume event"
    expect_same_final_state straight stopped
    ;;
  sigterm_rank)
    "$mpiexec" -np 2 "$trainer" "${common[@]}" "${slow[@]}" --out "$work/stopped" \
      >"$work/stopped.out" 2>"$work/stopped.err" &
    job=$!
    wait_for_first_epoch stopped
    victim=$(rank_pid 1) || fail "rank 1 not found"
    kill -TERM "$victim"
    wait "$job"; code=$?
    expect_stopped_by_signal stopped 15
    ;;
  exact)
    # More ranks than this machine's cores.
    export OMPI_MCA_rmaps_base_oversubscribe=1
    exact=(--hidden 32,32 --epochs 3 --exact-blocks 6 --input-dropout 0.1 --dropout 0.3 --gemm eigen
           --checkpoint-every-steps 7 --keep-last 100)
    train 1 one_rank "${exact[@]}"
    [[ $code == 0 ]] || fail "1-rank run: exit code $code"
    train 2 two_ranks "${exact[@]}"
    [[ $code == 0 ]] || fail "2-rank run: exit code $code"
    from=$work/two_ranks/checkpoints/ckpt-000000000021.pb
    "$trainer" inspect "$from" | grep -q '^position: epoch 1, step 4 of that epoch' || fail "$from is not mid-epoch"
    train 3 three_ranks "${exact[@]}" --resume "$from"
    [[ $code == 0 ]] || fail "resumed at 3 ranks: exit code $code"
    grep -q "^resuming from $from at epoch 2, step 4 (global step 21), saved by 2 ranks" "$work/three_ranks.out" ||
      fail "no resume line"
    expect_same_final_state one_rank three_ranks
    for key in test_loss test_acc; do
      [[ $(summary_number one_rank $key) == $(summary_number three_ranks $key) ]] || fail "$key differs"
    done
    train 5 too_many --exact-blocks 4
    [[ $code == 2 ]] || fail "5 ranks for 4 blocks: exit code $code, expected 2"
    # One line from the trainer (mpirun adds its own notice of the exit code around it).
    [[ $(grep -c '^trainer: ' "$work/too_many.err") == 1 ]] &&
      grep -qx "trainer: error: --exact-blocks 4: 5 ranks cannot each compute whole blocks of the batch; run at most 4 ranks or raise --exact-blocks" "$work/too_many.err" ||
      fail "5 ranks for 4 blocks: $(cat "$work/too_many.err")"
    ;;
  *) echo "unknown case $case_name"; exit 2 ;;
esac
echo "PASS ($case_name)"
