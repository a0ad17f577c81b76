#!/usr/bin/env python3
"""Compares the finalists of several sweep folders (the arms of a study) epoch by epoch.

Usage: compare_arms.py OUT.png SWEEP_DIR... (each after `sweep report`, which writes its
trials.csv and epochs.csv). Each arm's finalists are its trials that ran to the full budget;
their validation accuracy and loss are averaged over seeds per epoch and drawn one line per arm,
and a table prints each arm's mean at a few epochs and its best epoch by each metric.
"""
import collections
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def finalist_curves(sweep_dir):
    with open(os.path.join(sweep_dir, "trials.csv"), newline="") as f:
        trials = list(csv.DictReader(f))
    budget = max(int(t["epochs_run"] or 0) for t in trials)
    finalists = {t["id"] for t in trials if t["state"] == "done" and int(t["epochs_run"]) == budget}
    by_epoch = collections.defaultdict(list)
    with open(os.path.join(sweep_dir, "epochs.csv"), newline="") as f:
        for row in csv.DictReader(f):
            if row["id"] in finalists:
                by_epoch[int(row["epoch"])].append((float(row["val_acc"]), float(row["val_loss"])))
    epochs = sorted(e for e, rows in by_epoch.items() if len(rows) == len(finalists))
    acc = [sum(r[0] for r in by_epoch[e]) / len(by_epoch[e]) for e in epochs]
    loss = [sum(r[1] for r in by_epoch[e]) / len(by_epoch[e]) for e in epochs]
    return len(finalists), epochs, acc, loss


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.strip().splitlines()[2])
    out, dirs = sys.argv[1], sys.argv[2:]
    fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.5))
    marks = [1, 9, 27, 81, 150, 243]
    print("arm | finalists | mean val acc at epochs " + " ".join(map(str, marks)) +
          " | best val acc (epoch) | lowest val loss (epoch)")
    for d in dirs:
        name = os.path.basename(os.path.normpath(d))
        n, epochs, acc, loss = finalist_curves(d)
        ax_acc.plot(epochs, acc, label=name)
        ax_loss.plot(epochs, loss, label=name)
        at = {e: a for e, a in zip(epochs, acc)}
        best = max(zip(acc, epochs))
        lowest = min(zip(loss, epochs))
        print(f"{name} | {n} | " + " ".join(f"{at[e]:.4f}" if e in at else "-" for e in marks) +
              f" | {best[0]:.4f} ({best[1]}) | {lowest[0]:.4f} ({lowest[1]})")
    ax_acc.set(xlabel="epoch", ylabel="validation accuracy (mean over seeds)", ylim=(0.85, 0.92))
    ax_loss.set(xlabel="epoch", ylabel="validation loss (mean over seeds)")
    for ax in (ax_acc, ax_loss):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("finalists of each arm, to the full budget")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print("wrote " + out)


if __name__ == "__main__":
    main()
