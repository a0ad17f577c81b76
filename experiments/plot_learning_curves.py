#!/usr/bin/python3
"""Learning curves of one or more trainer run folders: training against validation loss and
accuracy per epoch (two panels), with each run's best epoch marked and its early stop drawn.
Usage: experiments/plot_learning_curves.py RUN_DIR [RUN_DIR ...] [--out learning_curves.png]
       [--label NAME ...]  (one per run, in order)
"""
import argparse
import csv
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")  # files only; no display on a cluster node
import matplotlib.pyplot as plt


def number(text):
    # metrics.csv leaves a field empty when it does not apply (accuracy of a regression).
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def read_run(directory):
    with open(os.path.join(directory, "metrics.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    summary_path = os.path.join(directory, "summary.json")
    # A run that failed or is still going has no summary: its curves are still worth seeing.
    summary = {}
    if os.path.exists(summary_path):
        with open(summary_path) as f:
            summary = json.load(f)
    columns = {name: [number(r[name]) for r in rows]
               for name in ("train_loss", "val_loss", "train_acc", "val_acc")}
    return [int(r["epoch"]) for r in rows], columns, summary


def draw(axis, epochs, train, val, color, label, best_epoch, stopped_epoch):
    if all(math.isnan(v) for v in train + val):
        return False
    axis.plot(epochs, train, color=color, linestyle="-", label=f"{label} train")
    if not all(math.isnan(v) for v in val):
        axis.plot(epochs, val, color=color, linestyle="--", label=f"{label} validation")
        if best_epoch in epochs:
            axis.plot([best_epoch], [val[epochs.index(best_epoch)]], marker="*", markersize=14,
                      color=color, markeredgecolor="black", linestyle="none")
    if stopped_epoch:
        axis.axvline(stopped_epoch, color=color, linestyle=":", linewidth=1.5)
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run folders (the trainer's --out)")
    parser.add_argument("--out", default="learning_curves.png", help="PNG to write")
    parser.add_argument("--label", action="append", default=[],
                        help="legend name of a run, once per run in order (default: folder name)")
    args = parser.parse_args()
    if args.label and len(args.label) != len(args.runs):
        sys.exit(f"plot_learning_curves: {len(args.label)} --label for {len(args.runs)} runs")

    figure, (loss_axis, acc_axis) = plt.subplots(1, 2, figsize=(13, 5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    has_acc = False
    last_epoch = 1
    for i, directory in enumerate(args.runs):
        try:
            epochs, columns, summary = read_run(directory)
        except (OSError, KeyError, ValueError) as e:
            sys.exit(f"plot_learning_curves: {directory}: {e}")
        color = colors[i % len(colors)]
        last_epoch = max([last_epoch] + epochs)
        label = args.label[i] if args.label else os.path.basename(os.path.normpath(directory))
        best_epoch, stopped_epoch = summary.get("best_epoch"), summary.get("stopped_epoch")
        draw(loss_axis, epochs, columns["train_loss"], columns["val_loss"], color, label,
             best_epoch, stopped_epoch)
        has_acc |= draw(acc_axis, epochs, columns["train_acc"], columns["val_acc"], color, label,
                        best_epoch, stopped_epoch)

    loss_axis.set_title("loss")
    loss_axis.set_ylabel("mean loss")
    acc_axis.set_title("accuracy")
    acc_axis.set_ylabel("accuracy")
    if not has_acc:
        acc_axis.text(0.5, 0.5, "no accuracy (regression)", ha="center", va="center",
                      transform=acc_axis.transAxes)
    for axis in (loss_axis, acc_axis):
        axis.set_xlabel("epoch")
        # Room on both sides, so an early stop at the last epoch is not hidden by the frame.
        axis.set_xlim(0.5, last_epoch + 0.5)
        axis.grid(True, alpha=0.3)
    # One legend for the line styles and marks shared by every run, one per-run legend.
    loss_axis.legend(fontsize="small", loc="best")
    keys = [plt.Line2D([], [], color="gray", linestyle="-", label="train"),
            plt.Line2D([], [], color="gray", linestyle="--", label="validation"),
            plt.Line2D([], [], color="gray", marker="*", markersize=12, markeredgecolor="black",
                       linestyle="none", label="best epoch"),
            plt.Line2D([], [], color="gray", linestyle=":", label="early stop")]
    acc_axis.legend(handles=keys, fontsize="small", loc="lower right")
    figure.tight_layout()
    figure.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
