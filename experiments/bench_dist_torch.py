#!/usr/bin/python3
"""PyTorch DistributedDataParallel reference for bench_dist.sh: the same MLP, per-rank batch and
optimizer (Adam), gloo on localhost, one compute thread per rank. Prints one key=value line."""
import argparse
import os
import time

import torch
from torch.autograd import backward as backpropagate
import torch.distributed as dist
import torch.multiprocessing as mp


def worker(rank, args, results):
    torch.set_num_threads(1)
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(args.port))
    dist.init_process_group("gloo", rank=rank, world_size=args.np)
    torch.manual_seed(1)
    sizes = [784] + [int(h) for h in args.hidden.split(",")] + [10]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(torch.nn.ReLU())
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Sequential(*layers))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(1234 + rank)
    x = torch.rand(args.batch_per_rank, 784, generator=generator)
    y = torch.randint(0, 10, (args.batch_per_rank,), generator=generator)
    loss_fn = torch.nn.CrossEntropyLoss()
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            dist.barrier()
            start = time.perf_counter()
        optimizer.zero_grad(set_to_none=False)
        backpropagate(loss_fn(model(x), y))
        optimizer.step()
    dist.barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        results.put(args.batch_per_rank * args.np * args.steps / seconds)
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--np", type=int, default=1)
    parser.add_argument("--hidden", default="1024,1024")
    parser.add_argument("--batch-per-rank", type=int, default=128)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--port", type=int, default=29517)
    args = parser.parse_args()
    context = mp.get_context("spawn")
    results = context.Queue()
    mp.spawn(worker, args=(args, results), nprocs=args.np, join=True)
    print(f"np={args.np} samples_per_second={results.get():.0f}")


if __name__ == "__main__":
    main()
