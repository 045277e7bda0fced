"""Task 2: memorise random labels with torch.nn, and evaluate it, for the report and the graders alike.

    data = prepare(hw1.data.load(folder), n_train=128)
    run = train(Settings(hidden=(128, 64), ...), data)     # net, per-epoch history
    save(path, run["model"], settings, data)
    evaluate(path, folder)                                 # accuracy on the random-labelled test set

Labels: `random` draws Bernoulli(1/2) labels once from a seeded generator, the n_train training
labels first and then one per test image, so any seed reproduces both; `parity` (the control) is
the parity of the digit (of the class number, on Fashion-MNIST), a real binary label. Two threads
throughout: evaluation repeats training's arithmetic exactly.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import data as data_io
from . import weights
from .names import DEFAULT_DATASET
from .settings import check_fields
from .threads import fixed_threads
from .random_label_net import build_net, full_batch_step, make_optimizer, random_labels

TASK = "q2"
THREADS = 2
LABELS = ("random", "parity")
HISTORY_KEYS = ("train_loss", "train_acc", "test_loss", "test_acc")


@dataclass(frozen=True)
class Settings:
    hidden: tuple[int, ...]   # 784-hidden-2, ReLU
    n_train: int              # the first n_train training images, in dataset order: one batch
    optimizer: str            # sgd | adam
    lr: float
    epochs: int
    seed: int                 # initialisation and the random labels
    labels: str = "random"    # random | parity

    def __post_init__(self):
        check_fields(self, ints=("n_train", "epochs", "seed"), numbers=("lr",),
                     choices={"optimizer": ("sgd", "adam"), "labels": LABELS})


def prepare(data: dict, n_train: int) -> dict:
    """The first n_train training images (standardised with the whole training set's statistics)
    and the whole test set, with their digits (or classes)."""
    return {"x_train": data["x_train"][:n_train], "digits_train": data["y_train"][:n_train],
            "x_test": data["x_test"], "digits_test": data["y_test"],
            "input_mean": data["input_mean"], "input_std": data["input_std"],
            "dataset": data["dataset"]}


def labels_for(kind: str, seed: int, digits_train, digits_test):
    if kind == "parity":
        return digits_train % 2, digits_test % 2
    return random_labels(seed, len(digits_train), len(digits_test))


def train(settings: Settings, data: dict, on_epoch: Callable[[int, dict], None] | None = None) -> dict:
    """Full-batch training (no shuffling: the batch is the whole set); per-epoch train/test metrics.
    A non-finite training loss stops it: "diverged_epoch" is that epoch (None when it finished)."""
    import torch
    from torch import nn
    y_train, y_test = labels_for(settings.labels, settings.seed, data["digits_train"],
                                 data["digits_test"])
    with fixed_threads(THREADS):
        torch.manual_seed(settings.seed)
        net = build_net(settings.hidden, n_inputs=data["x_train"].shape[1])
        optimizer = make_optimizer(settings.optimizer, net.parameters(), settings.lr)
        loss_fn = nn.CrossEntropyLoss()
        history = {k: [] for k in HISTORY_KEYS}
        diverged_epoch = None
        for epoch in range(1, settings.epochs + 1):
            full_batch_step(net, optimizer, data["x_train"], y_train)
            with torch.no_grad():  # the loss after this epoch's step, on train and test
                for split, x, y in (("train", data["x_train"], y_train), ("test", data["x_test"], y_test)):
                    logits = net(x)
                    history[f"{split}_loss"].append(loss_fn(logits, y).item())
                    history[f"{split}_acc"].append((logits.argmax(1) == y).float().mean().item())
            if on_epoch:
                on_epoch(epoch, {k: v[-1] for k, v in history.items()})
            if not math.isfinite(history["train_loss"][-1]):  # overflowed: every later step is NaN
                diverged_epoch = epoch
                break
    return {"model": net, "history": history, "diverged_epoch": diverged_epoch}


def load_data(root: str | Path, settings: Settings, download: bool = False,
              dataset: str = DEFAULT_DATASET) -> dict:
    """The first n_train training images and the whole test set under root/MNIST/raw
    (root/FashionMNIST/raw)."""
    return prepare(data_io.load(root, download=download, dataset=dataset), settings.n_train)


def epoch_line(epoch: int, metrics: dict) -> str:
    return f"epoch {epoch}: train loss {metrics['train_loss']:.5f}, test loss {metrics['test_loss']:.4f}"


def save(path: str | Path, net, settings: Settings, data: dict) -> None:
    """The state dict and what evaluation needs: layer sizes, input statistics, label seed, and
    the dataset it was trained on."""
    meta = {"task": TASK, "hidden": list(settings.hidden), "n_inputs": data["x_train"].shape[1],
            "labels": settings.labels, "label_seed": settings.seed, "n_train": settings.n_train,
            "input_mean": data["input_mean"], "input_std": data["input_std"],
            "dataset": data["dataset"],
            "settings": {**dataclasses.asdict(settings), "hidden": list(settings.hidden)}}
    weights.save(path, {k: v.detach().cpu() for k, v in net.state_dict().items()}, meta)


def load(path: str | Path):
    """(net, meta) of a Task 2 weights file, its tensors checked against the architecture."""
    tensors, meta = weights.load(path, TASK, {
        "hidden": list, "n_inputs": int, "labels": str, "label_seed": int, "n_train": int,
        "input_mean": (int, float), "input_std": (int, float)})
    hidden = meta.get("hidden")
    if (not all(isinstance(h, int) and h > 0 for h in hidden) or meta["labels"] not in LABELS
            or meta["n_inputs"] < 1 or meta["n_train"] < 1):
        raise weights.WeightsError(path, "has no valid architecture or label kind")
    net = build_net(hidden, n_inputs=meta["n_inputs"])
    weights.check_shapes(path, tensors, {k: tuple(v.shape) for k, v in net.state_dict().items()})
    net.load_state_dict(tensors)
    return net, meta


def accuracy(net, meta: dict, x_test, digits_test) -> float:
    """Accuracy of loaded weights on raw [0, 1] test images, labelled as in training."""
    import torch
    x = data_io.standardized(x_test, meta["input_mean"], meta["input_std"])
    digits_train = torch.zeros(meta["n_train"], dtype=torch.long)  # only its length matters
    _, y_test = labels_for(meta["labels"], meta["label_seed"], digits_train, digits_test)
    with torch.no_grad(), fixed_threads(THREADS):
        return (net(x).argmax(1) == y_test).float().mean().item()


def evaluate(weights_path: str | Path, data_root: str | Path, download: bool = False,
             dataset: str | None = None) -> float:
    """Accuracy of a saved network on the 10,000 test images of `dataset` under data_root (by
    default the dataset it was trained on), labelled by the same seeded Bernoulli(1/2) draws as in
    training (or by the class's parity, for the control)."""
    net, meta = load(weights_path)
    x_test, digits_test = data_io.read_split(data_root, train=False, download=download,
                                             dataset=dataset or weights.trained_on(meta))
    return accuracy(net, meta, x_test, digits_test)
