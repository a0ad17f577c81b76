#!/usr/bin/env bash
# experiments/studies/compare_arms.py on two small sweep folders: only the trials that ran to the
# full budget count, their seeds are averaged per epoch, and the table names each arm's best
# validation accuracy and lowest validation loss with their epochs.
set -u
script="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../experiments/studies" && pwd)/compare_arms.py"
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Arm a: two finalists over 3 epochs and a trial pruned at epoch 1; arm b: one finalist.
mkdir -p "$work/a" "$work/b"
printf 'id,state,epochs_run\nt1,done,3\nt2,done,3\nt3,pruned,1\n' >"$work/a/trials.csv"
printf 'id,epoch,val_acc,val_loss\nt1,1,0.5,0.9\nt2,1,0.7,0.7\nt3,1,0.99,0.01\nt1,2,0.8,0.5\nt2,2,0.9,0.3\nt1,3,0.6,0.6\nt2,3,0.8,0.3\n' >"$work/a/epochs.csv"
printf 'id,state,epochs_run\nu1,done,3\n' >"$work/b/trials.csv"
printf 'id,epoch,val_acc,val_loss\nu1,1,0.4,0.8\nu1,2,0.45,0.7\nu1,3,0.5,0.75\n' >"$work/b/epochs.csv"

python=/usr/bin/python3
"$python" -c 'import matplotlib' 2>/dev/null || python=python3
out=$("$python" "$script" "$work/arms.png" "$work/a" "$work/b" 2>&1) || fail "exit $?: $out"
echo "$out"
grep -qx 'a | 2 | 0.6000 - - - - - | 0.8500 (2) | 0.4000 (2)' <<<"$out" || fail "arm a's row"
grep -qx 'b | 1 | 0.4000 - - - - - | 0.5000 (3) | 0.7000 (2)' <<<"$out" || fail "arm b's row"
[[ -s $work/arms.png ]] || fail "no plot written"
echo PASS
