#!/usr/bin/python3
"""Writes the first samples of Fashion-MNIST as CSV files for the trainer's --train-csv and
--test-csv: one row per image, the label and then its 784 pixels (0-255), no header. The small
data set of halving_demo.txt (see README.md next to this file).
Usage: python3 experiments/studies/fashion_mnist_csv.py OUT_DIR [--train N] [--test M]
       [--data-dir /usr/share/datasets/fashion-mnist]   (writes OUT_DIR/train.csv, test.csv)
"""
import argparse
import gzip
import os
import struct


def read_idx(path, magic):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    found, count = struct.unpack(">II", data[:8])
    if found != magic:
        raise SystemExit(f"{path}: IDX magic {found:#010x}, expected {magic:#010x}")
    header = 8 if magic == 0x801 else 16
    size = 1 if magic == 0x801 else 28 * 28
    return count, data[header:], size


def write_csv(data_dir, split, out_path, limit):
    n, images, size = read_idx(os.path.join(data_dir, f"{split}-images-idx3-ubyte.gz"), 0x803)
    m, labels, _ = read_idx(os.path.join(data_dir, f"{split}-labels-idx1-ubyte.gz"), 0x801)
    if n != m:
        raise SystemExit(f"{split}: {n} images but {m} labels")
    count = min(limit, n)
    with open(out_path + ".tmp", "w") as out:
        for i in range(count):
            pixels = images[i * size:(i + 1) * size]
            out.write(str(labels[i]) + "," + ",".join(map(str, pixels)) + "\n")
    os.replace(out_path + ".tmp", out_path)
    print(f"wrote {out_path}: {count} samples")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--train", type=int, default=6000, help="training samples (first N)")
    parser.add_argument("--test", type=int, default=2000, help="test samples (first M)")
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    write_csv(args.data_dir, "train", os.path.join(args.out_dir, "train.csv"), args.train)
    write_csv(args.data_dir, "t10k", os.path.join(args.out_dir, "test.csv"), args.test)


if __name__ == "__main__":
    main()
