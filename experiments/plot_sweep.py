#!/usr/bin/python3
"""Plots of a sweep folder written by `sweep report DIR`: learning curves per configuration
(mean over seeds) and test error against each varied axis with one-standard-deviation error bars;
for a successive-halving sweep also every trial's validation metric against epochs with the rungs
(vertical lines) and where each trial stopped (markers).
Usage: python3 experiments/plot_sweep.py DIR   (writes DIR/learning_curves.png, DIR/test_*_vs_*.png,
DIR/halving.png)
"""
import csv
import math
import os
import sys
import textwrap
from collections import OrderedDict, defaultdict

import matplotlib

matplotlib.use("Agg")  # files only; no display on a cluster node
import matplotlib.pyplot as plt


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def number(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return math.nan
    return value


def axis_columns(header):
    # trials.csv and summary.csv put the axis fields between config_id and the fixed columns.
    start = header.index("config_id") + 1
    end = header.index("seed") if "seed" in header else header.index("trials")
    return header[start:end]


def label_of(row, axes):
    return ", ".join(f"{a}={row[a]}" for a in axes) or "base config"


def short_label_of(row, axes):
    # Panel titles are narrow: field names without their message path, wrapped.
    text = ", ".join(f"{a.rsplit('.', 1)[-1]}={row[a]}" for a in axes) or "base config"
    return "\n".join(textwrap.wrap(text, 36))


def mean(values):
    values = [v for v in values if not math.isnan(v)]
    return sum(values) / len(values) if values else math.nan


def draw_curve(ax, per_epoch, color, label):
    epochs = sorted(per_epoch)
    # A configuration successive halving stopped after one epoch is one point: marked, not lost.
    marker = "o" if len(epochs) == 1 else None
    ax.plot(epochs, [mean(per_epoch[e][1]) for e in epochs], color=color, label=label,
            marker=marker)
    ax.plot(epochs, [mean(per_epoch[e][0]) for e in epochs], color=color, linestyle=":", alpha=0.7,
            marker=marker, markerfacecolor="none")


def learning_curves(directory, axes):
    rows = read_csv(os.path.join(directory, "epochs.csv"))
    if not rows:
        return None
    use_acc = any(not math.isnan(number(r["val_acc"])) for r in rows)
    metric = "acc" if use_acc else "loss"
    # config -> epoch -> lists of train and validation values over seeds
    curves = OrderedDict()
    labels, short_labels = {}, {}
    for r in rows:
        labels[r["config_id"]] = label_of(r, axes)
        short_labels[r["config_id"]] = short_label_of(r, axes)
        per_epoch = curves.setdefault(r["config_id"], defaultdict(lambda: ([], [])))
        train, val = per_epoch[int(r["epoch"])]
        train.append(number(r["train_" + metric]))
        val.append(number(r["val_" + metric]))
    ylabel = f"{metric} (solid: validation, dotted: training; mean over seeds)"
    if len(curves) <= 6:
        fig, ax = plt.subplots(figsize=(8, 5))
        for i, (config, per_epoch) in enumerate(curves.items()):
            draw_curve(ax, per_epoch, f"C{i % 10}", labels[config])
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.set_title("learning curves per configuration")
        ax.legend(fontsize="small")
    else:
        # One crowded panel hides every curve: one small panel per configuration instead, on
        # shared axes so they still compare.
        columns = min(4, len(curves))
        rows_n = math.ceil(len(curves) / columns)
        fig, axes_grid = plt.subplots(rows_n, columns, figsize=(3.2 * columns, 2.6 * rows_n),
                                      sharex=True, sharey=True, squeeze=False)
        for i, (config, per_epoch) in enumerate(curves.items()):
            ax = axes_grid[i // columns][i % columns]
            draw_curve(ax, per_epoch, "C0", None)
            ax.set_title(short_labels[config], fontsize="x-small")
            ax.grid(alpha=0.3)
        for j in range(len(curves), rows_n * columns):
            axes_grid[j // columns][j % columns].set_visible(False)
        fig.supxlabel("epoch")
        fig.supylabel(ylabel, fontsize="small")
    fig.tight_layout()
    path = os.path.join(directory, "learning_curves.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def test_error_vs_axes(directory, axes):
    rows = read_csv(os.path.join(directory, "summary.csv"))
    use_acc = any(r["test_acc_count"] not in ("", "0") for r in rows)
    paths = []
    for axis in axes:
        values = list(OrderedDict.fromkeys(r[axis] for r in rows))
        if len(values) < 2:
            continue
        numeric = all(not math.isnan(number(v)) for v in values)
        position = {v: (number(v) if numeric else i) for i, v in enumerate(values)}
        others = [a for a in axes if a != axis]
        lines = OrderedDict()
        for r in rows:
            lines.setdefault(label_of(r, others), []).append(r)
        fig, ax = plt.subplots(figsize=(7, 5))
        for i, (label, group) in enumerate(lines.items()):
            group = sorted(group, key=lambda r: position[r[axis]])
            if use_acc:
                y = [1 - number(r["test_acc_mean"]) for r in group]
                err = [number(r["test_acc_std"]) for r in group]
            else:
                y = [number(r["test_loss_mean"]) for r in group]
                err = [number(r["test_loss_std"]) for r in group]
            if all(math.isnan(v) for v in y):
                continue  # no finished trial on the line: diverged, or pruned by halving
            err = [0 if math.isnan(e) else e for e in err]
            # A small shift per line keeps overlapping error bars apart on categorical axes.
            shift = 0 if numeric else (i - (len(lines) - 1) / 2) * 0.05
            ax.errorbar([position[r[axis]] + shift for r in group], y, yerr=err, marker="o",
                        capsize=3, label=label, color=f"C{i % 10}")
        if not numeric:
            ax.set_xticks(range(len(values)))
            ax.set_xticklabels(values)
        elif min(position.values()) > 0 and max(position.values()) >= 10 * min(position.values()):
            ax.set_xscale("log")  # learning rates and decays span decades
        ax.set_xlabel(axis)
        ax.set_ylabel(("test error" if use_acc else "test loss") + " (mean ± std over seeds)")
        ax.set_title(f"{'test error' if use_acc else 'test loss'} vs {axis}")
        if len(lines) > 1:
            ax.legend(fontsize="x-small" if len(lines) > 8 else "small")
        fig.tight_layout()
        path = os.path.join(directory, f"test_{'error' if use_acc else 'loss'}_vs_{axis.replace('.', '_')}.png")
        fig.savefig(path, dpi=120)
        plt.close(fig)
        paths.append(path)
    return paths


# How a trial of a successive-halving sweep ended: marker and legend text (the marker takes its
# configuration's colour).
HALVING_ENDS = OrderedDict([
    ("pruned", ("x", "pruned at its rung")),
    ("full", ("o", "ran the full budget")),
    ("early", ("v", "ended earlier (early stopping)")),
    ("lost", ("*", "diverged or failed")),
    ("open", ("s", "paused or still running")),
])


def halving_end(state, epochs_trained, budget):
    if state == "pruned":
        return "pruned"
    if state in ("diverged", "failed"):
        return "lost"
    if state == "done":
        return "full" if epochs_trained >= budget else "early"
    return "open"


def halving_plot(directory, axes):
    trials = read_csv(os.path.join(directory, "trials.csv"))
    if not trials or "rung_epochs" not in trials[0]:
        return None
    rows = read_csv(os.path.join(directory, "epochs.csv"))
    if not rows:
        return None
    rung_rows = read_csv(os.path.join(directory, "rungs.csv"))
    budget = max(int(t["rung_epochs"]) for t in trials)
    rungs = sorted({int(r["rung_epochs"]) for r in rung_rows} | {budget})
    use_acc = any(not math.isnan(number(r["val_acc"])) for r in rows)
    metric = "val_acc" if use_acc else "val_loss"
    curves = OrderedDict()
    for r in rows:
        curves.setdefault(r["id"], []).append((int(r["epoch"]), number(r[metric])))
    colour_of, label_of_config = OrderedDict(), {}
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for epochs in rungs:
        ax.axvline(epochs, color="0.6", linestyle="--", linewidth=0.8, zorder=0)
    ends = set()
    for t in trials:
        points = curves.get(t["id"])
        if not points:
            continue
        colour = colour_of.setdefault(t["config_id"], f"C{len(colour_of) % 10}")
        label_of_config[t["config_id"]] = label_of(t, axes)
        x, y = zip(*points)
        ax.plot(x, y, color=colour, linewidth=0.9, alpha=0.7)
        end = halving_end(t["state"], int(t["epochs_trained"]), budget)
        marker, _ = HALVING_ENDS[end]
        ax.plot(x[-1], y[-1], marker=marker, color=colour, markersize=7, linestyle="none",
                markerfacecolor="none" if marker == "o" else colour)
        ends.add(end)
    for end in HALVING_ENDS:
        if end in ends:
            marker, text = HALVING_ENDS[end]
            ax.plot([], [], marker=marker, color="0.3", linestyle="none", label=text,
                    markerfacecolor="none" if marker == "o" else "0.3")
    # Colours name configurations while they are told apart (ten colours).
    if len(colour_of) <= 10:
        for config, colour in colour_of.items():
            ax.plot([], [], color=colour, label=label_of_config[config])
    ax.set_xscale("log" if budget >= 9 * rungs[0] else "linear")
    ax.set_xticks(rungs)
    ax.set_xticklabels([str(e) for e in rungs])
    ax.set_xlabel("epoch (dashed: rungs)")
    ax.set_ylabel(f"{metric} (one line per trial, coloured by configuration)")
    ax.set_title(f"successive halving: {len(trials)} trials of {len(colour_of)} configurations")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small" if len(colour_of) > 4 else "small",
              loc="lower right" if use_acc else "upper right")
    fig.tight_layout()
    path = os.path.join(directory, "halving.png")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: plot_sweep.py DIR  (after `sweep report DIR`)")
    directory = sys.argv[1]
    with open(os.path.join(directory, "summary.csv"), newline="") as f:
        axes = axis_columns(next(csv.reader(f)))
    written = [p for p in [learning_curves(directory, axes), halving_plot(directory, axes)] if p]
    written += test_error_vs_axes(directory, axes)
    for path in written:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
