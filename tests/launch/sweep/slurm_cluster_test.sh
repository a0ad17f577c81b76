#!/usr/bin/env bash
# A planned sweep on a real single-node SLURM (experiments/slurm/local_cluster.sh): `sweep slurm`
# writes the job array, one running task is preempted with `scancel --signal=USR1 --batch`, and
# then every trial must be done, the preempted one requeued alone (its siblings never restarted)
# and ending bitwise like the same trial run alone, and `sweep report`, `sweep slurm` and
# `sweep run` must agree that nothing is left. Exits 77 (skipped) with the reason when SLURM
# cannot run here.
# Usage: sweep_slurm_cluster_test.sh SWEEP TRAINER PROTOC PROTO_DIR SYNTHETIC_CSV
set -u
sweep=$1 trainer=$2 protoc=$3 proto_dir=$4 synthetic_csv=$5
# shellcheck source=../../support/slurm_test_cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../support/slurm_test_cluster.sh"

# shellcheck source=../../support/checkpoint_state.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../support/checkpoint_state.sh"
"$synthetic_csv" blobs 600 20 1 >"$work/train.csv" || fail "cannot write the data"
"$synthetic_csv" blobs 150 20 2 >"$work/test.csv" || fail "cannot write the data"
# Three trials of 1 rank, each several seconds long (17 steps per epoch, 600 epochs), so that a
# signal sent once a trial's first epoch is logged arrives long before it would end; one
# checkpoint at its last step, besides the one the signal writes. One named matrix-product
# backend: under --gemm auto a loaded machine may time another one fastest for the lone run,
# whose bits then differ from the trial's.
cat >"$work/spec.txt" <<SPEC
base {
  data { train_csv: "$work/train.csv" test_csv: "$work/test.csv" }
  model { hidden: "256,256" }
  gemm: "eigen"
  optimizer { kind: ADAM }
  batch_size: 32
  epochs: 600
  checkpoint_every_epoch: false
  checkpoint_every_steps: 10200
  progress: NONE
}
axis { field: "optimizer.lr" values: ["0.01", "0.005", "0.002"] }
SPEC
"$sweep" plan "$work/spec.txt" --out "$work/sweep" >"$work/plan.out" 2>&1 || fail "sweep plan failed"
"$sweep" slurm "$work/sweep" --time 00:10:00 --trainer "$trainer" >"$work/slurm.out" 2>&1 ||
  fail "sweep slurm failed"
grep -q '^#SBATCH --signal=B:USR1@60$' "$work/sweep/sweep.sbatch" || fail "no signal a tenth of --time before the limit"
array=$(sbatch --parsable "$work/sweep/sweep.sbatch") || fail "sbatch refused the script"
array=${array%%;*}

# Preempt the trial of array task 0 once it trains.
victim=$(sed -n 1p "$work/sweep/trials.list")
trial=$work/sweep/trials/$victim
metrics_rows() { [[ $(wc -l <"$trial/metrics.csv") -ge $1 ]]; }
wait_until 60 "first epoch of trial $victim" metrics_rows 2
scancel --signal=USR1 --batch "${array}_0" || fail "scancel --signal=USR1 --batch failed"
wait_until 60 "stop recorded by trial $victim" grep -q '^exit_codes: 75$' "$trial/state.txt"
# The task's script records the stop before it says it requeues itself.
wait_until 30 "requeue of task 0" grep -q "requeueing array task ${array}_0" "$work/sweep/slurm/${array}_0.out"
# A requeued job waits about two minutes before it is eligible again; release it at once.
pending() { scontrol show job "${array}_0" | grep -q 'JobState=PENDING.*Reason=BeginTime'; }
wait_until 30 "requeued task pending" pending
# Not within the second of the requeue: slurmd takes a credential issued in the second its
# predecessor was revoked for revoked too, and the task then fails at once ("Job credential
# revoked" in slurmctld's log).
sleep 2
scontrol update JobId="${array}_0" StartTime=now || fail "cannot release the requeued task"
# Every trial recorded as done and nothing of the array left in the queue (a squeue that fails,
# as it may under load, proves nothing).
finished() {
  local id queue
  for id in $(cat "$work/sweep/trials.list"); do
    grep -q '^state: DONE$' "$work/sweep/trials/$id/state.txt" || return 1
  done
  queue=$(squeue -h -j "$array") && [[ -z $queue ]]
}
wait_until 240 "end of the job array" finished

# Every trial done by its own record; the preempted one in two attempts, stopped then finished.
for id in $(cat "$work/sweep/trials.list"); do
  state=$work/sweep/trials/$id/state.txt
  grep -q '^state: DONE$' "$state" || fail "trial $id not done: $(tr '\n' ' ' <"$state")"
  expected='exit_codes: 0 '
  [[ $id == "$victim" ]] && expected='exit_codes: 75 exit_codes: 0 '
  [[ $(grep '^exit_codes' "$state" | tr '\n' ' ') == "$expected" ]] ||
    fail "trial $id exit codes: $(grep '^exit_codes' "$state" | tr '\n' ' '), expected $expected"
done
# Requeued alone: only task 0 restarted.
for task in 0 1 2; do
  restarts=$(scontrol show job "${array}_$task" | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p')
  want=0
  [[ $task == 0 ]] && want=1
  [[ $restarts == "$want" ]] || fail "task $task restarted ${restarts:-?} times, expected $want"
done

# The preempted trial ends like the same trial run alone.
"$trainer" --config "$trial/config.txt" --out "$work/alone" >"$work/alone.out" 2>&1 ||
  fail "the trial run alone failed"
preempted_state=$(training_state "$(ls "$trial"/checkpoints/ckpt-*.pb | tail -n 1)") ||
  fail "protoc cannot decode the preempted trial's checkpoint"
alone_state=$(training_state "$(ls "$work"/alone/checkpoints/ckpt-*.pb | tail -n 1)") ||
  fail "protoc cannot decode the lone run's checkpoint"
grep -q '^params: "' <<<"$alone_state" || fail "decoded checkpoint holds no parameters"
[[ "$preempted_state" == "$alone_state" ]] || fail "the preempted trial's final state differs from the lone run's"
diff <(cut -d, -f1-5,8- "$trial/metrics.csv") <(cut -d, -f1-5,8- "$work/alone/metrics.csv") >/dev/null ||
  fail "the preempted trial's metrics differ from the lone run's"

# The launcher's other commands see the same: nothing left to submit or run, all done.
"$sweep" slurm "$work/sweep" --time 00:10:00 --trainer "$trainer" >"$work/slurm_again.out" 2>&1 &&
  fail "sweep slurm found trials to submit after all were done"
grep -q 'every trial is done or diverged; nothing to submit' "$work/slurm_again.out" ||
  fail "sweep slurm: $(cat "$work/slurm_again.out")"
"$sweep" run "$work/sweep" --trainer "$trainer" >"$work/run.out" 2>&1 || fail "sweep run failed"
grep -q 'started' "$work/run.out" && fail "sweep run started a trial after all were done"
"$sweep" report "$work/sweep" --no-plots >"$work/report.out" 2>&1 || fail "sweep report failed: $(tail -n 3 "$work/report.out")"
[[ $(grep -c ',done,' "$work/sweep/trials.csv") == 3 ]] || fail "trials.csv: $(cat "$work/sweep/trials.csv")"
grep -q '(1 of 1 done)' "$work/report.out" || fail "report: $(cat "$work/report.out")"
echo "PASS in $((SECONDS - start)) s"
