#!/usr/bin/python3
"""The lecture's examples, trained with the trainer and drawn through `trainer predict` on a grid.

  experiments/lecture/lecture.py [--trainer build/trainer] [--runs runs/lecture]

Reads the small data sets in experiments/lecture/data/ (written by --make-data, committed) and
writes the figures next to this script:

  perceptron.png     the perceptron's boundary on separable data, and its failure on XOR
  mlp_xor.png        an MLP with two hidden units solving XOR: boundary and hidden representation
  depth.png          fits of a 1-D sine with one, two and four hidden layers
  overfitting.png    training against validation loss: overfitting, and what dropout and early
                     stopping change

Every run takes a few seconds on one core.
"""
import argparse
import csv
import os
import subprocess
import sys

import numpy as np
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")


def make_data():
    """The data sets, from a fixed seed: labels as the lecture writes them."""
    rng = np.random.default_rng(2024)
    os.makedirs(DATA, exist_ok=True)
    # Linearly separable: the side of 1.5 x0 - x1 + 0.25 = 0 with a margin, labels -1/+1.
    x = rng.uniform(-1, 1, size=(400, 2))
    side = 1.5 * x[:, 0] - x[:, 1] + 0.25
    keep = np.abs(side) > 0.15
    write(os.path.join(DATA, "separable.csv"), ["t", "x1", "x2"], np.where(side[keep] > 0, 1, -1),
          x[keep][:100])
    # XOR: four noisy clusters, label 1 where exactly one coordinate is positive.
    centers = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=float)
    which = rng.integers(0, 4, size=200)
    x = centers[which] + rng.normal(0, 0.25, size=(200, 2))
    write(os.path.join(DATA, "xor.csv"), ["t", "x1", "x2"], np.isin(which, [1, 2]).astype(int), x)
    # 1-D regression: a sine with noise; few points, so a large net can overfit them.
    x = rng.uniform(0, 1, size=(60, 1))
    y = np.sin(2 * np.pi * x[:, 0]) + rng.normal(0, 0.2, size=60)
    write(os.path.join(DATA, "sine.csv"), ["y", "x"], y, x)


def write(path, header, targets, x):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for t, row in zip(targets, x):
            w.writerow([t if isinstance(t, (int, np.integer)) else f"{t:.6f}"] +
                       [f"{v:.6f}" for v in row])


def read(path):
    table = np.genfromtxt(path, delimiter=",", names=True)
    names = table.dtype.names
    return np.column_stack([table[n] for n in names[1:]]), table[names[0]]


class Trainer:
    def __init__(self, binary, runs):
        self.binary, self.runs = binary, runs
        os.makedirs(runs, exist_ok=True)

    def train(self, name, data, *flags):
        out = os.path.join(self.runs, name)
        self.run("--train-csv", os.path.join(DATA, data), "--csv-header", "--progress", "none",
                 "--out", out, *flags)
        return out

    def predict(self, run, x, *flags):
        """The model's output table on the points x, through a features-only CSV."""
        grid = os.path.join(self.runs, "points.csv")
        np.savetxt(grid, x, delimiter=",", fmt="%.6f")
        out = os.path.join(self.runs, "predicted.csv")
        self.run("predict", "--model", os.path.join(run, "model.pb"), "--input", grid, "--output",
                 out, *flags)
        return np.genfromtxt(out, delimiter=",", names=True)

    def run(self, *args):
        done = subprocess.run([self.binary, *args], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"trainer {' '.join(args)}: exit {done.returncode}\n{done.stderr}")
        return done.stdout


def grid(lo=-2.0, hi=2.0, n=200):
    g = np.linspace(lo, hi, n)
    xx, yy = np.meshgrid(g, g)
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])


def scatter(ax, x, t):
    positive = t > 0
    ax.scatter(x[positive, 0], x[positive, 1], s=12, c="tab:red", label="class 1")
    ax.scatter(x[~positive, 0], x[~positive, 1], s=12, c="tab:blue", label="class 0 / -1")


def accuracy(run):
    with open(os.path.join(run, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    return float(rows[-1]["train_acc"])


PERCEPTRON = ["--hidden", "", "--loss", "perceptron", "--optimizer", "sgd", "--lr", "1",
              "--batch-size", "1", "--lr-schedule", "constant", "--val-fraction", "0"]


def perceptron_figure(t, figures):
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
    for ax, data, epochs in zip(axes, ["separable.csv", "xor.csv"], [20, 20]):
        run = t.train("perceptron_" + data[:-4], data, *PERCEPTRON, "--epochs", str(epochs))
        x, target = read(os.path.join(DATA, data))
        xx, yy, points = grid()
        score = t.predict(run, points)["output_0"].reshape(xx.shape)
        ax.contourf(xx, yy, score > 0, levels=[-0.5, 0.5, 1.5], colors=["#dde8f6", "#f7dede"])
        ax.contour(xx, yy, score, levels=[0], colors="k")
        scatter(ax, x, target)
        ax.set_title(f"perceptron on {data[:-4]} data: training accuracy {accuracy(run):.2f}")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
    axes[0].legend(loc="lower right")
    fig.suptitle("Perceptron learning (batch 1, rate 1): a line separates the first set, "
                 "no line separates XOR")
    save(fig, figures, "perceptron.png")


def mlp_xor_figure(t, figures):
    # Two tanh units are enough in principle, but a net this small can stall in a poor optimum:
    # seeds are tried in order and the first that fits the training set is shown.
    for seed in range(1, 20):
        run = t.train("mlp_xor", "xor.csv", "--hidden", "2", "--activation", "tanh", "--lr",
                      "0.02", "--batch-size", "16", "--epochs", "60", "--val-fraction", "0",
                      "--lr-schedule", "constant", "--seed", str(seed))
        if accuracy(run) > 0.97:
            break
    x, target = read(os.path.join(DATA, "xor.csv"))
    xx, yy, points = grid()
    prob = t.predict(run, points)["prob_1"].reshape(xx.shape)
    hidden = t.predict(run, x, "--layer", "1")
    h = np.column_stack([hidden["unit_0"], hidden["unit_1"]])
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
    ax = axes[0]
    ax.contourf(xx, yy, prob, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.5)
    ax.contour(xx, yy, prob, levels=[0.5], colors="k")
    scatter(ax, x, target)
    ax.set_title(f"2-2-2 MLP (tanh) on XOR: training accuracy {accuracy(run):.2f} (seed {seed})")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax = axes[1]
    scatter(ax, h, target)
    ax.set_title("the same points in hidden space:\nnow a line separates the classes")
    ax.set_xlabel("hidden unit 1 (tanh)")
    ax.set_ylabel("hidden unit 2 (tanh)")
    ax.legend(loc="best")
    save(fig, figures, "mlp_xor.png")


def depth_figure(t, figures):
    x, y = read(os.path.join(DATA, "sine.csv"))
    line = np.linspace(0, 1, 300)[:, None]
    fig, ax = plt.subplots(figsize=(7, 4.6))
    ax.scatter(x[:, 0], y, s=12, c="k", label="data (sine + noise)")
    for layers, colour in zip([1, 2, 4], ["tab:blue", "tab:orange", "tab:green"]):
        run = t.train(f"depth{layers}", "sine.csv", "--loss", "squared_error", "--hidden",
                      ",".join(["8"] * layers), "--activation", "tanh", "--lr", "0.01",
                      "--batch-size", "16", "--epochs", "400", "--val-fraction", "0")
        fit = t.predict(run, line)["output_0"]
        with open(os.path.join(run, "metrics.csv")) as f:
            loss = float(list(csv.DictReader(f))[-1]["train_loss"])
        ax.plot(line[:, 0], fit, c=colour, label=f"{layers} hidden layer(s) of 8 tanh units, "
                                                 f"training loss {loss:.3f}")
    ax.plot(line[:, 0], np.sin(2 * np.pi * line[:, 0]), "k--", lw=1, label="sin(2 pi x)")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("Fits of the same data with one, two and four hidden layers (400 epochs, Adam)")
    ax.legend(fontsize=8)
    save(fig, figures, "depth.png")


def overfitting_figure(t, figures):
    # 24 training points, 36 for validation, a net far larger than the data needs, full batch.
    common = ["--loss", "squared_error", "--hidden", "256,256", "--activation", "tanh", "--lr",
              "0.003", "--batch-size", "64", "--epochs", "3000", "--val-fraction", "0.6",
              "--lr-schedule", "constant", "--checkpoint-every-epoch", "false"]
    settings = [("plain", [], "no regularization"),
                ("dropout", ["--dropout", "0.2"], "dropout 0.2 on the hidden units"),
                ("early", ["--early-stopping-patience", "400"],
                 "early stopping (patience 400, best weights kept)")]
    x, y = read(os.path.join(DATA, "sine.csv"))
    line = np.linspace(0, 1, 300)[:, None]
    fig, axes = plt.subplots(1, 4, figsize=(19, 4.4))
    for ax, (name, flags, title) in zip(axes, settings):
        run = t.train("overfit_" + name, "sine.csv", *common, *flags)
        table = np.genfromtxt(os.path.join(run, "metrics.csv"), delimiter=",", names=True)
        ax.plot(table["epoch"], table["train_loss"], label="training (running mean over the epoch)")
        ax.plot(table["epoch"], table["val_loss"], label="validation")
        if name == "early":
            best = int(table["epoch"][np.argmin(table["val_loss"])])
            ax.axvline(best, c="k", ls=":", label=f"best epoch {best}: its weights are kept")
        ax.set_yscale("log")
        ax.set_ylim(1e-3, 1)
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.legend(fontsize=8)
        axes[3].plot(line[:, 0], t.predict(run, line)["output_0"], label=title)
    axes[0].set_ylabel("mean squared-error loss (1/2 (y - t)^2)")
    ax = axes[3]
    ax.scatter(x[:, 0], y, s=10, c="k", label="all 60 points (train and validation)")
    ax.plot(line[:, 0], np.sin(2 * np.pi * line[:, 0]), "k--", lw=1, label="sin(2 pi x)")
    ax.set_ylim(-2, 2)
    ax.set_xlabel("x")
    ax.set_title("the three fits")
    ax.legend(fontsize=7)
    fig.suptitle("24 training points, a 1-256-256-1 tanh net trained full-batch: the training loss "
                 "keeps falling while the validation loss turns up; dropout and early stopping "
                 "keep it down")
    save(fig, figures, "overfitting.png")


def save(fig, figures, name):
    fig.tight_layout()
    path = os.path.join(figures, name)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print("wrote", path)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trainer", default="build/trainer")
    parser.add_argument("--runs", default="runs/lecture")
    parser.add_argument("--make-data", action="store_true", help="rewrite the data sets")
    args = parser.parse_args()
    if args.make_data or not os.path.exists(os.path.join(DATA, "sine.csv")):
        make_data()
    t = Trainer(os.path.abspath(args.trainer), args.runs)
    perceptron_figure(t, HERE)
    mlp_xor_figure(t, HERE)
    depth_figure(t, HERE)
    overfitting_figure(t, HERE)


if __name__ == "__main__":
    main()
