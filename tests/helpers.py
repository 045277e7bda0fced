"""Helpers the test modules share (test modules never import each other): tiny datasets in
torchvision's layout, and the reader of Task 1's rules (what the from-scratch code may not use)."""
import ast
import dataclasses

import numpy as np

from experiments import datasets, fetch
from hw1 import names
from pipeline import paths

N_TRAIN, N_TEST = 12, 5


def write_split(folder, prefix, n, rng):
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255  # both ends of the scale, for the scaling check
    fetch.write_idx(folder / f"{prefix}-images-idx3-ubyte", images.tobytes(), (n, 28, 28))
    fetch.write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels.tobytes(), (n,))
    return images, labels


def md5s_of(folder):
    return {name: datasets.md5_of(folder / name) for name in paths.DATA_FILES}


def small_dataset(root, record=datasets.MNIST, seed=0):
    """A torchvision-layout copy of `record` with 12 training and 5 test images under root, the
    record with their MD5s, and the images and labels written."""
    raw = root / names.DATASETS[record.name] / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    train = write_split(raw, "train", N_TRAIN, rng)
    test = write_split(raw, "t10k", N_TEST, rng)
    return raw, dataclasses.replace(record, md5=md5s_of(raw)), train, test


FORBIDDEN_MODULES = ("torch.nn", "torch.optim", "torch.autograd", "torch.func")
FORBIDDEN_CALLS = {"backward", "relu", "sigmoid", "softmax", "log_softmax", "tanh", "grad",
                   "mse_loss", "cross_entropy", "nll_loss", "logsigmoid", "softplus", "Linear",
                   "SGD", "Adam"}
TORCH_ROOTS = {"torch", "F", "nn"}


def rule_violations(source: str) -> list[str]:
    """Imports of torch.nn/optim/autograd, .backward() calls, torch's own activations and losses."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [f"{node.module}.{a.name}" for a in node.names]
        else:
            names = []
        found += [f"import {n}" for n in names if n.startswith(FORBIDDEN_MODULES)]
        if isinstance(node, ast.Attribute):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if node.attr == "backward" or node.attr == "requires_grad_":
                found.append(f".{node.attr}")
            elif node.attr in FORBIDDEN_CALLS and isinstance(base, ast.Name) and base.id in TORCH_ROOTS:
                found.append(f"{base.id}...{node.attr}")
            elif node.attr in ("nn", "optim", "autograd") and isinstance(base, ast.Name) and base.id == "torch":
                found.append(f"torch.{node.attr}")
        if isinstance(node, ast.keyword) and node.arg == "requires_grad":
            found.append("requires_grad=")
    return found
