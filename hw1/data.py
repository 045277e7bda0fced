"""MNIST for both tasks: a split as whole tensors, standardised with the training set's statistics.

Reads torchvision's layout (<root>/MNIST/raw/*-ubyte) through torchvision's MNIST class, never its
per-sample PIL transforms. Training and every evaluation standardise the same way, with the mean and
std that the weights file records.
"""
from __future__ import annotations

from pathlib import Path


class DataError(Exception):
    """The dataset files are missing or unreadable."""
    exit_code = 1


def read_split(root: str | Path, train: bool, download: bool = False):
    """root/MNIST/raw -> images (N, 784) float32 in [0, 1], labels (N,) int64."""
    from torchvision.datasets import MNIST
    raw = Path(root) / "MNIST" / "raw"
    try:
        dataset = MNIST(root=str(root), train=train, download=download)
    except RuntimeError as err:  # torchvision: "Dataset not found. You can use download=True ..."
        reason = " ".join(str(err).split())[:200]
        raise DataError(f"MNIST could not be read from {raw} ({reason}); copy the four IDX files "
                        f"there (or run where torchvision can download them)") from None
    except (AssertionError, ValueError, OSError) as err:  # a damaged file: torchvision asserts
        raise DataError(f"MNIST in {raw} is damaged ({type(err).__name__}: {err}); replace the "
                        f"four IDX files with good copies") from None
    images = dataset.data.reshape(len(dataset.data), -1).float() / 255.0
    return images, dataset.targets.long()


def statistics(x_train, standardize: bool = True) -> tuple[float, float]:
    """The training set's pixel mean and std (or 0 and 1: no standardisation)."""
    if not standardize:
        return 0.0, 1.0
    return float(x_train.mean()), float(x_train.std())


def standardized(x, mean: float, std: float):
    return (x - mean) / std


def load(root: str | Path, standardize: bool = True, download: bool = False) -> dict:
    """Both splits, standardised with the training set's mean and std, and those two numbers."""
    x_train, y_train = read_split(root, train=True, download=download)
    x_test, y_test = read_split(root, train=False, download=download)
    mean, std = statistics(x_train, standardize)
    return {"x_train": standardized(x_train, mean, std), "y_train": y_train,
            "x_test": standardized(x_test, mean, std), "y_test": y_test,
            "input_mean": mean, "input_std": std}
