#!/usr/bin/python3
"""`trainer export --format onnx` end to end: for a standardized softmax classifier, a logistic
model and a regression, the exported file passes onnx.checker, and the graph, evaluated node by
node with numpy below, gives what `trainer predict` gives on 1000 inputs within 1e-5.

Usage: onnx_export_test.py TRAINER WORK_DIR
"""
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

TOLERANCE = 1e-5
# A bf16 product is off by at most about 2^-7 of the magnitudes it multiplies (both operands
# rounded to 8 significant bits); through two small layers the logits move by a few 1e-3 of their
# scale, and a probability by less (softmax's slope is at most 1/2).
BF16_TOLERANCE = 0.02
BF16_CLASSES_AGREE = 0.98


def attribute(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def gemm(node, a, b, c):
    if attribute(node, "transA", 0):
        a = a.T
    if attribute(node, "transB", 0):
        b = b.T
    return attribute(node, "alpha", 1.0) * (a @ b) + attribute(node, "beta", 1.0) * c


# The operators the exporter may emit, each as the ONNX operator documentation defines it.
OPS = {
    "Sub": lambda n, a, b: a - b,
    "Div": lambda n, a, b: a / b,
    "Gemm": gemm,
    "Relu": lambda n, x: np.maximum(x, 0),
    "Tanh": lambda n, x: np.tanh(x),
    "Sigmoid": lambda n, x: 1 / (1 + np.exp(-x)),
    "Identity": lambda n, x: x,
    "Softmax": lambda n, x: softmax(x, attribute(n, "axis", -1)),
    "Concat": lambda n, *xs: np.concatenate(xs, axis=attribute(n, "axis", None)),
    "ArgMax": lambda n, x: np.argmax(x, axis=attribute(n, "axis", 0))
    if not attribute(n, "keepdims", 1)
    else np.expand_dims(np.argmax(x, axis=attribute(n, "axis", 0)), attribute(n, "axis", 0)),
}


def run_graph(model, x):
    """Every node in order over a dict of named values; float32 like the trainer."""
    values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    values[model.graph.input[0].name] = x
    for node in model.graph.node:
        if node.op_type not in OPS:
            raise AssertionError(f"operator {node.op_type} has no reference here")
        out = OPS[node.op_type](node, *[values[i] for i in node.input])
        values[node.output[0]] = out.astype(np.float32) if out.dtype.kind == "f" else out
    return {o.name: values[o.name] for o in model.graph.output}


class NoBf16(Exception):
    pass


def trainer(binary, *args):
    done = subprocess.run([binary, *args], capture_output=True, text=True)
    if done.returncode == 2 and "this CPU lacks" in done.stderr:
        raise NoBf16(done.stderr.strip())
    if done.returncode != 0:
        raise AssertionError(f"trainer {' '.join(args)} failed ({done.returncode}): {done.stderr}")


def write_csv(path, header, columns):
    np.savetxt(path, np.column_stack(columns), delimiter=",", header=",".join(header),
               comments="", fmt="%.6f")


def check(binary, work, name, train_flags, targets, outputs_key, tolerance=TOLERANCE,
          classes_agree=1.0):
    rng = np.random.default_rng(len(name))
    x = rng.normal(3.0, 2.0, size=(1000, 5)).astype(np.float32)
    score = np.stack([x[:, 0] - x[:, 1], x[:, 2] * 0.5, x[:, 3] - x[:, 4] + 1])
    if targets == "classes3":
        y = [np.argmax(score, axis=0)]
    elif targets == "classes2":
        y = [(score[0] > 0).astype(int)]
    else:
        y = [np.sin(x[:, 0]), x[:, 1] * 0.1]
    header = [f"y{i}" for i in range(len(y))] + [f"x{i}" for i in range(5)]
    train = os.path.join(work, f"{name}.csv")
    write_csv(train, header, y + [x])
    features = os.path.join(work, f"{name}_features.csv")
    write_csv(features, header[len(y):], [x])
    out = os.path.join(work, name)
    trainer(binary, "--train-csv", train, "--csv-header", "--csv-targets", str(len(y)),
            "--epochs", "3", "--progress", "none", "--out", out, *train_flags)
    model_file = os.path.join(out, "model.pb")
    predicted = os.path.join(work, f"{name}_predict.csv")
    trainer(binary, "predict", "--model", model_file, "--input", features, "--csv-header",
            "--output", predicted)
    exported = os.path.join(work, f"{name}.onnx")
    trainer(binary, "export", "--model", model_file, "--format", "onnx", "--output", exported)

    model = onnx.load(exported)
    onnx.checker.check_model(model)
    assert model.opset_import[0].version >= 13, model.opset_import
    graph_out = run_graph(model, x)

    table = np.genfromtxt(predicted, delimiter=",", names=True)
    columns = [c for c in table.dtype.names if c.startswith(outputs_key.split("_")[0])]
    ours = np.column_stack([table[c] for c in columns])
    theirs = graph_out["probabilities" if outputs_key == "prob" else "output"]
    difference = np.abs(ours - theirs).max()
    print(f"{name}: {len(x)} inputs, ops {[n.op_type for n in model.graph.node]}, "
          f"max |predict - onnx| = {difference:.3g}")
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    assert difference <= tolerance, difference
    if "predicted" in graph_out:
        agree = (graph_out["predicted"] == table["predicted"].astype(int)).mean()
        print(f"{name}: predicted classes agree on {agree:.4f} of the inputs")
        assert agree >= classes_agree, agree


def main():
    binary, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    check(binary, work, "softmax", ["--hidden", "16,8", "--standardize", "--lr", "0.01"],
          "classes3", "prob")
    check(binary, work, "logistic", ["--hidden", "8", "--activation", "tanh", "--loss", "logistic"],
          "classes2", "prob")
    check(binary, work, "regression",
          ["--hidden", "8", "--activation", "sigmoid", "--loss", "squared_error", "--standardize"],
          "regression", "output")
    try:
        check(binary, work, "softmax_bf16",
              ["--hidden", "16,8", "--standardize", "--lr", "0.01", "--precision", "bf16"],
              "classes3", "prob", BF16_TOLERANCE, BF16_CLASSES_AGREE)
    except NoBf16 as e:
        print(f"bf16 case left out: {e}")
    print("ok")


if __name__ == "__main__":
    main()
