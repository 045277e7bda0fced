"""Task 1: train the from-scratch MLP on MNIST (or Fashion-MNIST) and evaluate it, for the report
and the graders alike.

    data = hw1.data.load(folder, dataset="mnist")                # standardised splits
    run = train(Settings(hidden=(128, 64), ...), data)           # params, per-epoch history
    save(path, run["model"], settings, data)                    # weights + what evaluation needs
    evaluate(path, folder)                                       # test accuracy, from the file alone

Torch tensor operations only (scratch_mlp): no autograd, torch.nn, built-in losses, activations or
optimisers. One thread throughout, so a later evaluation repeats training's arithmetic exactly.
train_together trains several seeds of one setting as one stack of networks (the experiments'
grid); train is a stack of one, so the graders' train script runs the same code.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import data as data_io
from . import scratch_mlp as mlp
from . import weights
from .names import DEFAULT_DATASET
from .settings import check_fields
from .threads import fixed_threads

TASK = "q1"
N_CLASSES = 10
THREADS = 1
# Per-epoch train metrics are measured on a fixed random 10,000 of the training images, the size of
# the test set: over all 60,000 the evaluation's products alone cost 0.38 of an epoch; over these,
# about 0.1. The subset is drawn once from its own seed, so it is the same in every run.
TRAIN_MONITOR_SIZE = 10_000
TRAIN_MONITOR_SEED = 12345
HISTORY_KEYS = ("train_loss", "train_acc", "test_loss", "test_acc")


@dataclass(frozen=True)
class Settings:
    """The hyperparameters of one training run."""
    hidden: tuple[int, ...]   # hidden layer sizes: 784-hidden-10
    activation: str           # relu | sigmoid | tanh, on the hidden layers; softmax output
    loss: str                 # mse | ce
    lr: float                 # plain SGD step
    batch_size: int
    epochs: int
    standardize: bool         # (x - mean) / std with the training set's pixel statistics
    seed: int                 # initialisation and batch order

    def __post_init__(self):
        check_fields(self, ints=("batch_size", "epochs", "seed"), numbers=("lr",),
                     choices={"activation": mlp.ACTIVATIONS, "loss": mlp.LOSSES,
                              "standardize": (True, False)})


def train_monitor(x, labels) -> tuple:
    """The fixed subset of the training set whose loss and accuracy are recorded every epoch."""
    import torch
    if len(x) <= TRAIN_MONITOR_SIZE:
        return x, labels
    chosen = torch.randperm(len(x), generator=torch.Generator().manual_seed(TRAIN_MONITOR_SEED))
    chosen = chosen[:TRAIN_MONITOR_SIZE].sort().values.to(x.device)
    return x.index_select(0, chosen), labels.index_select(0, chosen)


def _finite(params: dict, metrics: tuple) -> bool:
    import torch
    return all(math.isfinite(v) for v in metrics) and all(torch.isfinite(p).all() for p in params.values())


# A stack trains each of its networks bit for bit as that network trains alone only while each
# network's part of every tensor starts on a 64-byte boundary, as a tensor of its own does: MKL's
# small products round differently from other alignments (measured: batches of 3 or 7 rows, a
# 7-unit hidden layer, differ in the last bits). 16 float32 are 64 bytes: batches (the last one
# too) whose rows are a multiple of 16, and layers whose weights are, align every slice.
ALIGNED_FLOATS = 16


def stacks(runs: list[Settings], train_shape: tuple[int, int]) -> list[list[Settings]]:
    """`runs` grouped for train_together, in their order: the seeds of each setting as one stack
    where that trains every seed exactly as alone (ALIGNED_FLOATS), one run per stack otherwise.
    train_shape: the training images' (count, pixels)."""
    grouped = {}
    for settings in runs:
        key = dataclasses.replace(settings, seed=0) if _aligned(settings, *train_shape) else settings
        grouped.setdefault(key, []).append(settings)
    return list(grouped.values())


def _aligned(settings: Settings, n_train: int, n_inputs: int) -> bool:
    sizes = [n_inputs, *settings.hidden, N_CLASSES]
    rows = (settings.batch_size, n_train % settings.batch_size)
    return all(n % ALIGNED_FLOATS == 0 for n in (*rows, *(a * b for a, b in zip(sizes, sizes[1:]))))


def train(settings: Settings, data: dict, on_epoch: Callable[[int, dict], None] | None = None) -> dict:
    """Train one network (train_together with a stack of one): after every epoch record train/test
    loss and accuracy (train: on the fixed subset of train_monitor()).

    Stops at the first epoch whose metrics or weights are not finite (`diverged_epoch`).
    """
    report = on_epoch and (lambda epoch, each: on_epoch(epoch, each[0]))
    return train_together([settings], data, report)[0]


def train_together(seeds: list[Settings], data: dict,
                   on_epoch: Callable[[int, list], None] | None = None) -> list[dict]:
    """Train one network per Settings, all alike but for the seed, as one stack (scratch_mlp):
    each from its own seed's initialisation and batch order, as train() would alone. A network
    whose metrics or weights stop being finite keeps them as of that epoch (`diverged_epoch`);
    the rest train on. on_epoch gets each still-finite network's latest metrics."""
    import torch
    settings = seeds[0]
    if any(dataclasses.replace(s, seed=0) != dataclasses.replace(settings, seed=0) for s in seeds):
        raise ValueError("train_together: the settings differ in more than the seed")
    with torch.no_grad(), fixed_threads(THREADS):  # the course forbids autograd: off throughout
        torch.manual_seed(settings.seed)
        generators = [torch.Generator().manual_seed(s.seed) for s in seeds]  # init, then orders
        x, labels = data["x_train"], data["y_train"]
        sizes = [x.shape[1], *settings.hidden, N_CLASSES]
        stacked = mlp.stack([mlp.init_params(sizes, settings.activation, g, device=x.device)
                             for g in generators])
        y = mlp.one_hot(labels, N_CLASSES)
        x_monitor, labels_monitor = train_monitor(x, labels)
        runs = [{"model": None, "history": {k: [] for k in HISTORY_KEYS}, "diverged_epoch": None}
                for _ in seeds]
        for epoch in range(1, settings.epochs + 1):
            orders = torch.stack([torch.randperm(len(x), generator=g) for g in generators])
            mlp.train_epoch(stacked, x, y, orders.to(x.device), settings.batch_size,
                            settings.activation, settings.loss, settings.lr)
            for s, run in enumerate(runs):
                if run["diverged_epoch"] is None:
                    _record(run, epoch, mlp.network(stacked, s), settings, x_monitor, labels_monitor, data)
            live = [run for run in runs if run["diverged_epoch"] is None]
            if not live:
                break
            if on_epoch:
                on_epoch(epoch, [{k: v[-1] for k, v in run["history"].items()} for run in live])
        for s, run in enumerate(runs):
            run["model"] = run["model"] or mlp.network(stacked, s)
    return runs


def _record(run: dict, epoch: int, params: dict, settings: Settings, x_monitor, labels_monitor,
            data: dict) -> None:
    """One network's epoch: its metrics into its history, or, when they or its weights are not
    finite, its weights as they are and the epoch it diverged at. Evaluated alone, from a copy of
    its weights (mlp.network), as the graders' evaluation of its weights file would."""
    metrics = (*mlp.evaluate(params, x_monitor, labels_monitor, settings.activation, settings.loss),
               *mlp.evaluate(params, data["x_test"], data["y_test"], settings.activation,
                             settings.loss))
    if not _finite(params, metrics):
        run["model"], run["diverged_epoch"] = params, epoch
        return
    for key, value in zip(HISTORY_KEYS, metrics):
        run["history"][key].append(value)


def load_data(root: str | Path, settings: Settings, download: bool = False,
              dataset: str = DEFAULT_DATASET) -> dict:
    """Both splits under root/MNIST/raw (root/FashionMNIST/raw), standardised as the settings say."""
    return data_io.load(root, settings.standardize, download, dataset)


def epoch_line(epoch: int, metrics: dict) -> str:
    return (f"epoch {epoch}: train loss {metrics['train_loss']:.4f}, train accuracy "
            f"{metrics['train_acc']:.4f}, test accuracy {metrics['test_acc']:.4f}")


def save(path: str | Path, params: dict, settings: Settings, data: dict) -> None:
    """The weights and everything evaluation needs: layer sizes, activation, input statistics,
    and the dataset they were trained on."""
    sizes = [params["W1"].shape[0], *settings.hidden, N_CLASSES]
    meta = {"task": TASK, "layer_sizes": sizes, "activation": settings.activation,
            "input_mean": data["input_mean"], "input_std": data["input_std"],
            "dataset": data["dataset"],
            "settings": {**dataclasses.asdict(settings), "hidden": list(settings.hidden)}}
    weights.save(path, {k: v.detach().cpu() for k, v in params.items()}, meta)


def load(path: str | Path) -> tuple[dict, dict]:
    """(params, meta) of a Task 1 weights file, its tensors checked against its layer sizes."""
    params, meta = weights.load(path, TASK, {"layer_sizes": list, "activation": str,
                                             "input_mean": (int, float), "input_std": (int, float)})
    sizes = meta.get("layer_sizes")
    if meta.get("activation") not in mlp.ACTIVATIONS or not isinstance(sizes, list) or len(sizes) < 2:
        raise weights.WeightsError(path, "has no valid activation and layer sizes")
    expected = {}
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        expected[f"W{layer}"], expected[f"b{layer}"] = (fan_in, fan_out), (fan_out,)
    weights.check_shapes(path, params, expected)
    return params, meta


def accuracy(params: dict, meta: dict, x_test, y_test) -> float:
    """Test accuracy of loaded weights on raw [0, 1] images, standardised as in training."""
    import torch
    x = data_io.standardized(x_test, meta["input_mean"], meta["input_std"])
    with torch.no_grad(), fixed_threads(THREADS):
        return mlp.accuracy(mlp.predict(params, x, meta["activation"]), y_test)


def evaluate(weights_path: str | Path, data_root: str | Path, download: bool = False,
             dataset: str | None = None) -> float:
    """Average accuracy of a saved network on the 10,000 test images of `dataset` under data_root
    (data_root/MNIST/raw, data_root/FashionMNIST/raw); by default the dataset it was trained on."""
    params, meta = load(weights_path)
    x_test, y_test = data_io.read_split(data_root, train=False, download=download,
                                        dataset=dataset or weights.trained_on(meta))
    return accuracy(params, meta, x_test, y_test)
