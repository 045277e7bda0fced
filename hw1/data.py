"""MNIST or Fashion-MNIST for both tasks: a split as whole tensors, standardised with the training
set's statistics.

Reads torchvision's layout (<root>/MNIST/raw/*-ubyte, <root>/FashionMNIST/raw/*-ubyte) through
torchvision's dataset classes, never their per-sample PIL transforms. Training and every evaluation
standardise the same way, with the mean and std that the weights file records.
"""
from __future__ import annotations

from pathlib import Path

from .names import DATASETS, DEFAULT_DATASET


class DataError(Exception):
    """The dataset files are missing or unreadable, or the dataset is unknown."""
    exit_code = 1


def folder(root: str | Path, dataset: str) -> Path:
    """Where torchvision keeps `dataset` under `root`: root/MNIST/raw, root/FashionMNIST/raw."""
    if dataset not in DATASETS:
        raise DataError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
    return Path(root) / DATASETS[dataset] / "raw"


def read_split(root: str | Path, train: bool, download: bool = False,
               dataset: str = DEFAULT_DATASET):
    """root/<dataset folder>/raw -> images (N, 784) float32 in [0, 1], labels (N,) int64."""
    import torchvision.datasets
    raw = folder(root, dataset)
    reader = getattr(torchvision.datasets, DATASETS[dataset])
    try:
        split = reader(root=str(root), train=train, download=download)
    except RuntimeError as err:  # torchvision: "Dataset not found. You can use download=True ..."
        reason = " ".join(str(err).split())[:200]  # a failed download's reason spans lines
        raise DataError(f"{dataset} could not be read from {raw} ({reason}); copy the four IDX "
                        f"files there (or run where torchvision can download them)") from None
    except (AssertionError, ValueError, OSError) as err:  # a damaged file: torchvision asserts
        raise DataError(f"{dataset} in {raw} is damaged ({type(err).__name__}: {err}); replace the "
                        f"four IDX files with good copies") from None
    images = split.data.reshape(len(split.data), -1).float() / 255.0
    return images, split.targets.long()


def statistics(x_train, standardize: bool = True) -> tuple[float, float]:
    """The training set's pixel mean and std (or 0 and 1: no standardisation)."""
    if not standardize:
        return 0.0, 1.0
    return float(x_train.mean()), float(x_train.std())


def standardized(x, mean: float, std: float):
    return (x - mean) / std


def load(root: str | Path, standardize: bool = True, download: bool = False,
         dataset: str = DEFAULT_DATASET) -> dict:
    """Both splits, standardised with the training set's mean and std, those two numbers, and the
    dataset's name (the weights file records it)."""
    x_train, y_train = read_split(root, train=True, download=download, dataset=dataset)
    x_test, y_test = read_split(root, train=False, download=download, dataset=dataset)
    mean, std = statistics(x_train, standardize)
    return {"x_train": standardized(x_train, mean, std), "y_train": y_train,
            "x_test": standardized(x_test, mean, std), "y_test": y_test,
            "input_mean": mean, "input_std": std, "dataset": dataset}
