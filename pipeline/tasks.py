"""The homework's tasks, each declared once; every consumer iterates TASKS.

A task's name ("q1") is its config.toml section, its results folder (results/q1/), the prefix of
its figures, weights and graders' scripts (hw1/scripts/q1_train.py, q1_eval.py), its experiment
module (experiments/q1.py), its figure command (`python -m experiments.plots q1`) and its template
(templates/q1.tex.j2). What differs between tasks is declared here: the section's keys and checks,
the graders' module, the code its numbers depend on, the files its run writes, its figures, and
where its metrics hold the accuracy of the weights the graders receive.

Standard library only (as is hw1.names): the Makefile reads these declarations with the system
Python, through `python3 -m pipeline.config makefile`, before any environment exists.

Adding a task: its entry in TASKS and its section class here, its section in config.toml, its
graders' module and two scripts in hw1/, experiments/<name>.py (run, evaluate), its figures in
experiments/plots.py and templates/<name>.tex.j2.
"""
from __future__ import annotations

import dataclasses
import importlib
import math
import os
from dataclasses import dataclass, field
from typing import Callable

from hw1.names import DATASETS, weights_name

ACTIVATIONS = ("relu", "sigmoid", "tanh")
LOSSES = ("mse", "ce")
DEVICES = ("cpu", "cuda")
OPTIMIZERS = ("sgd", "adam")

# A section's checks report through `require(ok, key, what)`: pipeline.config turns a failed one
# into the ConfigError that names the key and its value.
Require = Callable[[bool, str, str], None]


def _layer_sizes(sizes: list) -> bool:
    return bool(sizes) and all(type(size) is int and size > 0 for size in sizes)


# torch.manual_seed takes any 64-bit seed; a negative one is stored as its two's complement, so
# -1 and 2**64 - 1 would be one seed under two names: seeds are 0 .. 2**63 - 1
SEED_MAX = 2 ** 63 - 1
# what one training needs beside its parameters: every layer's activations for the 10,000 test
# images evaluated at once, a few times over (forward values, their gradients, the argmax)
EVALUATED_ROWS = 10_000
BYTES_PER_NUMBER = 4  # float32


def _rate(value) -> bool:
    """A step size: a finite number above 0 (TOML's inf and nan are numbers too)."""
    return math.isfinite(value) and value > 0


def training_bytes(hidden: list[int], n_inputs: int = 784, n_outputs: int = 10) -> int:
    """A lower bound on the memory one run of a network with these hidden layers takes: its
    parameters four times (weights, gradients, an optimiser's two moments) and its activations."""
    sizes = [n_inputs, *hidden, n_outputs]
    parameters = sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))
    return BYTES_PER_NUMBER * (4 * parameters + 3 * EVALUATED_ROWS * sum(sizes))


def memory_bytes() -> int | None:
    """This machine's physical memory (None where the system does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _fits(hidden: list[int]) -> bool:
    memory = memory_bytes()
    return memory is None or training_bytes(hidden) <= memory


def _memory_hint(hidden: list[int]) -> str:
    memory = memory_bytes() or 0
    return (f"a network with these layers needs at least {training_bytes(hidden) / 1e9:.3g} GB "
            f"to train, and this machine has {memory / 1e9:.3g} GB: choose smaller layers")


def _check_training(section, require: Require) -> None:
    """What every task's section must hold: layer sizes that fit in memory, a finite positive
    step size, epochs and distinct seeds."""
    require(bool(section.hidden) and all(h > 0 for h in section.hidden), "hidden", "positive sizes")
    require(_fits(section.hidden), "hidden", _memory_hint(section.hidden))
    require(_rate(section.lr), "lr", "a finite number > 0")
    require(section.epochs > 0, "epochs", "must be > 0")
    require(len(section.seeds) > 0, "seeds", "give at least one seed")
    require(all(0 <= seed <= SEED_MAX for seed in section.seeds), "seeds",
            f"each seed a whole number from 0 to 2**63 - 1 = {SEED_MAX}")
    require(len(set(section.seeds)) == len(section.seeds), "seeds",
            "each seed once: a repeated seed repeats the same run, and the report would count "
            "its copies as independent runs")


@dataclass(frozen=True)
class Q1:
    hidden: list[int] = field(default_factory=lambda: [128, 64])  # 784-128-64-10
    activation: str = "relu"          # hidden layers; the output is always softmax
    loss: str = "mse"                 # mse on the softmax outputs (sum over classes, mean over batch) or ce
    lr: float = 0.01                  # plain SGD step
    batch_size: int = 32
    epochs: int = 10
    standardize: bool = True          # (x - mean) / std with the training set's pixel mean and std
    # 5 seeds: the fewest at which the permutation test of report/claims/wording.py can reach alpha = 0.01
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 4])
    # "epochs to reach" this test accuracy, for the ablations, by dataset: Fashion-MNIST is harder
    # (an MLP ends near 87 % where MNIST's is near 97 %), and a 2-epoch QUICK run reaches 80 % there
    target_test_acc: dict[str, float] = field(
        default_factory=lambda: {"mnist": 0.9, "fashion-mnist": 0.8})
    device: str = "cpu"
    ablate_activation: list[str] = field(default_factory=lambda: ["sigmoid"])
    ablate_lr: list[float] = field(default_factory=lambda: [0.05, 0.1])
    ablate_loss: list[str] = field(default_factory=lambda: ["ce"])
    ablate_hidden: list[list[int]] = field(default_factory=lambda: [[64], [256, 128], [128, 64, 32]])

    def check(self, require: Require) -> None:
        _check_training(self, require)
        require(self.activation in ACTIVATIONS, "activation", f"one of {ACTIVATIONS}")
        require(self.loss in LOSSES, "loss", f"one of {LOSSES}")
        require(self.batch_size > 0, "batch_size", "must be > 0")
        require(self.device in DEVICES, "device", f"one of {DEVICES}")
        require(set(self.target_test_acc) <= set(DATASETS)
                and all(0 < v < 1 for v in self.target_test_acc.values()), "target_test_acc",
                f"a fraction for each dataset ({', '.join(DATASETS)}), "
                f"like {{mnist = 0.9, fashion-mnist = 0.8}}")
        require(set(self.ablate_activation) <= set(ACTIVATIONS), "ablate_activation",
                f"each one of {ACTIVATIONS}")
        require(set(self.ablate_loss) <= set(LOSSES), "ablate_loss", f"each one of {LOSSES}")
        require(all(_rate(v) for v in self.ablate_lr), "ablate_lr", "each a finite number > 0")
        require(all(_layer_sizes(h) for h in self.ablate_hidden), "ablate_hidden",
                "each a list of positive layer sizes, like [[64], [256, 128]]")
        too_big = next((h for h in self.ablate_hidden if not _fits(h)), None)
        require(too_big is None, "ablate_hidden", _memory_hint(too_big or [1]))

    def check_dataset(self, dataset: str, require: Require) -> None:
        """The keys given per dataset must give one for [data] dataset."""
        require(dataset in self.target_test_acc, "target_test_acc",
                f"it gives no target for [data] dataset = {dataset!r}; add {dataset} = <a fraction>")

    def quick(self) -> "Q1":
        """QUICK=1: the same runs with two epochs and one seed."""
        return dataclasses.replace(self, epochs=min(self.epochs, 2), seeds=self.seeds[:1])


@dataclass(frozen=True)
class Q2:
    hidden: list[int] = field(default_factory=lambda: [128, 64])  # 784-128-64-2
    n_train: int = 128
    optimizer: str = "adam"
    lr: float = 0.001
    epochs: int = 60
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    draft_optimizer: str = "sgd"      # the draft's stated setting, run as stated
    draft_lr: float = 0.01
    draft_epochs: int = 20

    def check(self, require: Require) -> None:
        _check_training(self, require)
        require(0 < self.n_train <= 60000, "n_train", "between 1 and 60000")
        require(self.optimizer in OPTIMIZERS, "optimizer", f"one of {OPTIMIZERS}")
        require(self.draft_optimizer in OPTIMIZERS, "draft_optimizer", f"one of {OPTIMIZERS}")
        require(_rate(self.draft_lr), "draft_lr", "a finite number > 0")
        require(self.draft_epochs > 0, "draft_epochs", "must be > 0")

    def check_dataset(self, dataset: str, require: Require) -> None:
        """No key of [q2] is given per dataset."""

    def quick(self) -> "Q2":
        """QUICK=1: one seed (its 60 full-batch epochs take seconds)."""
        return dataclasses.replace(self, seeds=self.seeds[:1])


@dataclass(frozen=True)
class Task:
    name: str                      # the section, folder and prefix (see the module's docstring)
    title: str                     # as the report names it
    section: type                  # the dataclass of its config.toml section
    grader_module: str             # what the graders receive: Settings, train, save, load, evaluate
    outputs: tuple[str, ...]       # what its run writes into its folder besides the weights
    figures: tuple[str, ...]       # drawn by `python -m experiments.plots <name>`, as <figure>.pdf
    saved_acc: tuple[str, str]     # metrics.json [section][key]: the shipped weights' accuracy

    @property
    def weights(self) -> str:
        return weights_name(self.name)

    @property
    def results(self) -> tuple[str, ...]:
        """Every file its run writes into results/<name>/, all or nothing."""
        return (*self.outputs, self.weights)

    def grader(self):
        """The graders' module (it imports torch: loaded only when needed)."""
        return importlib.import_module(self.grader_module)

    def saved_accuracy(self, metrics: dict) -> float:
        part, key = self.saved_acc
        return metrics[part][key]


TASKS = (
    Task("q1", "Task 1", Q1, "hw1.task1",
         outputs=("metrics.json", "history.json", "test_predictions.json"),
         figures=("q1_accuracy", "q1_ablations", "q1_confusion", "q1_misclassified"),
         saved_acc=("main", "saved_test_acc")),
    Task("q2", "Task 2", Q2, "hw1.task2",
         outputs=("metrics.json", "history.json"),
         figures=("q2_loss",),
         saved_acc=("random", "saved_test_acc")),
)
BY_NAME = {task.name: task for task in TASKS}
