"""`make bench`: one epoch of Task 1 three ways, side by side in one run -> results/bench.json.

    python -m experiments.bench

1. scratch: this project's trainer (hand-written forward/backward, whole-tensor batches);
2. torch_nn: the same network, loss, batch and batch order with torch.nn + autograd + optim.SGD;
3. dataloader: the torch.nn version fed the way typical solutions do it, a DataLoader over
   torchvision's MNIST with a per-sample ToTensor transform.
All use one thread (as the suite's runs do) and the main configuration of config.toml.
Budgets (DESIGN.md): scratch / torch_nn <= 1.0 and scratch / dataloader <= 0.2.
"""
from __future__ import annotations

import json
import statistics
import sys
import time

import torch
from torch import nn

from pipeline import config, paths, provenance
from experiments import mnist, q1
from hw1 import scratch_mlp as mlp

REPEATS = 3  # median of three epochs for the two fast pipelines


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def scratch_epoch(cfg, data, order):
    params = mlp.init_params([784, *cfg.hidden, 10], cfg.activation, torch.Generator().manual_seed(0))
    y = mlp.one_hot(data["y_train"], 10)
    for i in range(0, len(order), cfg.batch_size):
        batch = order[i:i + cfg.batch_size]
        cache = mlp.forward(params, data["x_train"][batch], cfg.activation)
        mlp.sgd_step(params, mlp.backward_pass(params, cache, y[batch], cfg.activation, cfg.loss),
                     cfg.lr)


def _torch_net(cfg):
    act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[cfg.activation]
    sizes, layers = [784, *cfg.hidden], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), act()]
    return nn.Sequential(*layers, nn.Linear(sizes[-1], 10), nn.Softmax(dim=1))


def _torch_step(net, optimizer, x, labels):
    y = nn.functional.one_hot(labels, 10).float()
    optimizer.zero_grad()
    loss = ((net(x) - y) ** 2).sum(dim=1).mean()  # the same MSE as the scratch trainer
    loss.backward()
    optimizer.step()


def torch_nn_epoch(cfg, data, order):
    net = _torch_net(cfg)
    optimizer = torch.optim.SGD(net.parameters(), lr=cfg.lr)
    for i in range(0, len(order), cfg.batch_size):
        batch = order[i:i + cfg.batch_size]
        _torch_step(net, optimizer, data["x_train"][batch], data["y_train"][batch])


def dataloader_epoch(cfg):
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms
    dataset = datasets.MNIST(str(paths.DATA), train=True, download=False,
                             transform=transforms.ToTensor())
    loader = DataLoader(dataset, batch_size=cfg.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    net = _torch_net(cfg)
    optimizer = torch.optim.SGD(net.parameters(), lr=cfg.lr)
    for images, labels in loader:
        _torch_step(net, optimizer, images.view(len(images), -1), labels)


def run() -> dict:
    cfg = config.load(quick=False)["q1"]
    torch.set_num_threads(1)
    data = q1.load_data(cfg.standardize)
    order = torch.randperm(len(data["x_train"]), generator=torch.Generator().manual_seed(0))
    start = time.perf_counter()
    with torch.no_grad():
        scratch = statistics.median(_timed(lambda: scratch_epoch(cfg, data, order))
                                    for _ in range(REPEATS))
    torch_nn = statistics.median(_timed(lambda: torch_nn_epoch(cfg, data, order))
                                 for _ in range(REPEATS))
    loader = _timed(lambda: dataloader_epoch(cfg))
    q1_metrics = paths.ROOT / "results" / "q1" / "metrics.json"
    result = {
        "scratch_epoch_s": scratch, "torch_nn_epoch_s": torch_nn, "dataloader_epoch_s": loader,
        "ratio_scratch_vs_torch_nn": scratch / torch_nn, "ratio_scratch_vs_dataloader": scratch / loader,
        "budget": {"ratio_scratch_vs_torch_nn": 1.0, "ratio_scratch_vs_dataloader": 0.2},
        "batch_size": cfg.batch_size, "threads": torch.get_num_threads(), "repeats": REPEATS,
        "q1_suite_wall_time_s": (json.loads(q1_metrics.read_text())["provenance"]["wall_time_s"]
                                 if q1_metrics.exists() else None),
        "provenance": provenance.record("q1", config.section_hash(cfg), [0],
                                        time.perf_counter() - start, data["data_md5"]),
    }
    provenance.write_json(paths.BENCH_JSON, result)
    return result


def main() -> int:
    try:
        r = run()
    except (config.ConfigError, mnist.MnistError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"bench: one epoch, batch {r['batch_size']}, {r['threads']} thread: "
          f"scratch {r['scratch_epoch_s']:.2f} s, torch.nn {r['torch_nn_epoch_s']:.2f} s "
          f"(ratio {r['ratio_scratch_vs_torch_nn']:.2f}, budget 1.0), DataLoader+ToTensor "
          f"{r['dataloader_epoch_s']:.2f} s (ratio {r['ratio_scratch_vs_dataloader']:.2f}, budget 0.2)")
    print(f"bench: wrote {paths.BENCH_JSON}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
