"""The reference for bench_step: the same MLP, batch and Adam step in PyTorch on one CPU thread,
printed as one key=value line. Start it with OPENBLAS_NUM_THREADS=1 and OMP_NUM_THREADS=1 in the
environment: Debian's torch links the system OpenBLAS, whose threads start before this runs."""
import argparse
import os
import statistics
import sys
import time

import torch
from torch.autograd import backward as backpropagate


def sgemm_gflops(size, repeats=5):
    """torch's BLAS on a size^3 product, best of repeats: it tells which BLAS torch really runs
    (Debian's reference netlib BLAS is some 50 times slower than OpenBLAS)."""
    a = torch.rand(size, size)
    b = torch.rand(size, size)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2.0 * size**3 / best / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hidden", default="1024,1024")
    parser.add_argument("--inputs", type=int, default=784)
    parser.add_argument("--outputs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(name) != "1":
            sys.exit(f"torch_reference.py: set {name}=1 before starting python")
    torch.set_num_threads(1)
    torch.manual_seed(7)

    widths = [args.inputs] + [int(w) for w in args.hidden.split(",") if w] + [args.outputs]
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(widths, widths[1:])):
        if i > 0:
            layers.append(torch.nn.ReLU())
        layers.append(torch.nn.Linear(fan_in, fan_out))
    model = torch.nn.Sequential(*layers)
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    # PyTorch keeps one sample per row: (N, I), the transpose of the C++ code's (I, N).
    x = torch.rand(args.batch, args.inputs)
    labels = torch.randint(0, args.outputs, (args.batch,))

    blas_gflops = sgemm_gflops(1024)
    # The median step, like bench_step: a neighbour's burst on the shared machine lengthens a few
    # steps and moves a mean, not a median.
    step_seconds = []
    for step in range(args.warmup + args.steps):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss = loss_fn(model(x), labels)
        backpropagate(loss)
        optimizer.step()
        if step >= args.warmup:
            step_seconds.append(time.perf_counter() - start)
    step_ms = statistics.median(step_seconds) * 1e3
    best_ms = min(step_seconds) * 1e3
    print(f"torch={torch.__version__} threads={torch.get_num_threads()} batch={args.batch} "
          f"samples_per_s={args.batch / (step_ms / 1e3):.1f} step_ms={step_ms:.3f} "
          f"best_step_ms={best_ms:.3f} best_samples_per_s={args.batch / (best_ms / 1e3):.1f} "
          f"blas_gflops={blas_gflops:.1f} final_loss={loss.item():.6f}")


if __name__ == "__main__":
    main()
