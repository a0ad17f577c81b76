#!/usr/bin/env bash
# A successive-halving sweep on a real single-node SLURM (experiments/slurm/local_cluster.sh):
# `sweep slurm` writes one allocation running `sweep run`; the job is preempted with
# `scancel --signal=USR1 --batch` while a trial of the last rung trains, requeues itself and
# finishes; then its decisions, trial states and the finalists' final bits must equal those of a
# local `sweep run` of the same spec, and `sweep slurm` must find nothing left. Exits 77
# (skipped) with the reason when SLURM cannot run here.
# Usage: slurm_halving_cluster_test.sh SWEEP TRAINER PROTOC PROTO_DIR SYNTHETIC_CSV
set -u
sweep=$1 trainer=$2 protoc=$3 proto_dir=$4 synthetic_csv=$5
# shellcheck source=../../support/slurm_test_cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../support/slurm_test_cluster.sh"

# shellcheck source=../../support/checkpoint_state.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../support/checkpoint_state.sh"
"$synthetic_csv" blobs 2000 20 1 >"$work/train.csv" || fail "cannot write the data"
"$synthetic_csv" blobs 150 20 2 >"$work/test.csv" || fail "cannot write the data"
# Three learning rates x two seeds, budget 81 epochs of 57 steps: rungs at 3, 9, 27 and 81
# epochs; one configuration reaches the last rung, whose 54 epochs take long enough for the
# preemption to find them training. One named matrix-product backend, so that the local run's
# bits are comparable (under --gemm auto a loaded machine may time another backend fastest).
cat >"$work/spec.txt" <<SPEC
base {
  data { train_csv: "$work/train.csv" test_csv: "$work/test.csv" }
  model { hidden: "256,256" }
  gemm: "eigen"
  optimizer { kind: ADAM }
  batch_size: 32
  epochs: 81
  progress: NONE
}
axis { field: "optimizer.lr" values: ["0.01", "0.002", "0.0003"] }
replicates: 2
max_ranks: 2
successive_halving { reduction_factor: 3 min_epochs: 3 }
SPEC
dir=$work/slurm_sweep
"$sweep" plan "$work/spec.txt" --out "$dir" >"$work/plan.out" 2>&1 || fail "sweep plan failed"
"$sweep" slurm "$dir" --time 00:10:00 --trainer "$trainer" >"$work/slurm.out" 2>&1 ||
  fail "sweep slurm failed: $(cat "$work/slurm.out")"
grep -q 'one allocation of 2 ranks' "$work/slurm.out" || fail "sweep slurm: $(cat "$work/slurm.out")"
grep -q '^#SBATCH --ntasks=2$' "$dir/sweep.sbatch" || fail "the allocation is not of 2 ranks"
job=$(sbatch --parsable "$dir/sweep.sbatch") || fail "sbatch refused the script"
job=${job%%;*}

# Preempt the job once a trial of the last rung (rung 4 of 4) has trained some of its epochs.
last_rung_training() {
  local state
  for state in "$dir"/trials/*/state.txt; do
    grep -q '^state: RUNNING$' "$state" && grep -q '^rung: 3$' "$state" &&
      [[ $(wc -l <"$(dirname "$state")/metrics.csv") -ge 30 ]] && return 0
  done
  return 1
}
wait_until 180 "trial training in the last rung" last_rung_training
scancel --signal=USR1 --batch "$job" || fail "scancel --signal=USR1 --batch failed"
wait_until 60 "requeue of job $job" grep -q "requeueing job $job to continue its rungs" "$dir/slurm/$job.out"
# A requeued job waits about two minutes before it is eligible again; release it at once.
pending() { scontrol show job "$job" | grep -q 'JobState=PENDING.*Reason=BeginTime'; }
wait_until 30 "requeued job pending" pending
# Not within the second of the requeue: slurmd takes a credential issued in the second its
# predecessor was revoked for revoked too, and the job then fails at once ("Job credential
# revoked" in slurmctld's log).
sleep 2
scontrol update JobId="$job" StartTime=now || fail "cannot release the requeued job"
# The job ended, nothing of it left in the queue (a squeue that fails, as it may under load,
# proves nothing), and it completed.
ended() {
  local queue
  scontrol show job "$job" | grep -Eq 'JobState=(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL)' ||
    return 1
  queue=$(squeue -h -j "$job") && [[ -z $queue ]]
}
wait_until 240 "end of job $job" ended
scontrol show job "$job" | grep -q 'JobState=COMPLETED' ||
  fail "job $job ended $(scontrol show job "$job" | grep -o 'JobState=[A-Z_]* Reason=[A-Za-z]*')"
restarts=$(scontrol show job "$job" | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p')
[[ $restarts == 1 ]] || fail "job $job restarted ${restarts:-?} times, expected 1"
grep -Eq 'stopping [12] running trials?' "$dir/slurm/$job.out" ||
  fail "the preemption stopped no trial: $(grep sweep: "$dir/slurm/$job.out" | tail -n 5)"

# The same spec under a local `sweep run`.
"$sweep" plan "$work/spec.txt" --out "$work/local" >"$work/plan_local.out" 2>&1 || fail "sweep plan failed"
"$sweep" run "$work/local" --trainer "$trainer" --max-ranks 2 >"$work/local.out" 2>&1 ||
  fail "the local sweep run failed: $(tail -n 3 "$work/local.out")"

# The ledgers agree on the schedule, every decision, and each trial's state and rung.
outcome() {
  sed -n '/^halving {/,$p' "$1/ledger.txt"
  for state in "$1"/trials/*/state.txt; do
    echo "$(basename "$(dirname "$state")") $(grep -E '^(state|rung):' "$state" | tr '\n' ' ')"
  done
}
[[ $(outcome "$dir") == "$(outcome "$work/local")" ]] ||
  fail "decisions or trial states differ: $(diff <(outcome "$dir") <(outcome "$work/local"))"
grep -q '^  rung: 2$' "$dir/ledger.txt" || fail "not every rung was decided: $(cat "$dir/ledger.txt")"
# The finalists end in the same bits: final checkpoint state and metrics but the timings.
finalists=0
for state in "$dir"/trials/*/state.txt; do
  grep -q '^state: DONE$' "$state" || continue
  id=$(basename "$(dirname "$state")")
  a=$(training_state "$(ls "$dir/trials/$id"/checkpoints/ckpt-*.pb | tail -n 1)") ||
    fail "protoc cannot decode trial $id's checkpoint"
  b=$(training_state "$(ls "$work/local/trials/$id"/checkpoints/ckpt-*.pb | tail -n 1)") ||
    fail "protoc cannot decode the local trial $id's checkpoint"
  grep -q '^params: "' <<<"$a" || fail "decoded checkpoint holds no parameters"
  [[ "$a" == "$b" ]] || fail "trial $id's final state differs from the local run's"
  diff <(cut -d, -f1-5,8- "$dir/trials/$id/metrics.csv") \
    <(cut -d, -f1-5,8- "$work/local/trials/$id/metrics.csv") >/dev/null ||
    fail "trial $id's metrics differ from the local run's"
  finalists=$((finalists + 1))
done
[[ $finalists == 2 ]] || fail "$finalists trials done, expected the 2 of the last rung"

"$sweep" slurm "$dir" --time 00:10:00 --trainer "$trainer" >"$work/slurm_again.out" 2>&1 &&
  fail "sweep slurm found something to submit after the sweep ended"
grep -q 'every trial is done, diverged or pruned; nothing to submit' "$work/slurm_again.out" ||
  fail "sweep slurm: $(cat "$work/slurm_again.out")"
"$sweep" report "$dir" --no-plots >"$work/report.out" 2>&1 || fail "sweep report failed: $(tail -n 3 "$work/report.out")"
grep -q 'epochs trained: ' "$work/report.out" || fail "report: $(cat "$work/report.out")"
echo "PASS in $((SECONDS - start)) s"
