"""Weights files: `torch.save` of a dict of tensors plus a `meta` dict with what evaluation needs.

    {"W1": tensor, "b1": tensor, ..., "meta": {"task": "q1", "format": 1, "layer_sizes": [...],
     "activation": "relu", "input_mean": 0.13, "input_std": 0.31, "dataset": "mnist", ...}}

Evaluation reads the architecture and the input normalisation from `meta`, never from a config
file that may have changed since training. Loading uses `weights_only=True`: a weights file is data,
and unpickling arbitrary objects from it could run code.
"""
from __future__ import annotations

from pathlib import Path

from .atomic import atomic_write
from .names import DEFAULT_DATASET

FORMAT = 1
# Deleting comes first: a damaged file newer than its sources looks up to date to Make.
REMEDY = "re-create it: delete it and run `make experiments` (or this task's train script)"


class WeightsError(Exception):
    """A weights file that is missing, unreadable or not what the task expects."""
    exit_code = 1


def save(path: str | Path, tensors: dict, meta: dict) -> None:
    import torch
    with atomic_write(path) as tmp:
        torch.save({**tensors, "meta": {**meta, "format": FORMAT}}, tmp)


def load(path: str | Path, task: str, required: dict[str, tuple] = None) -> tuple[dict, dict]:
    """(tensors, meta) of a weights file written by save() for `task`, its meta holding each
    `required` key with a value of the given types; WeightsError otherwise."""
    import torch
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path} is missing; {REMEDY}")
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, foreign pickle, ...: torch raises many kinds
        reason = " ".join(str(err).split()).split(". ")[0][:160] or type(err).__name__
        raise WeightsError(f"{path} cannot be read as a weights file ({reason}); {REMEDY}") from None
    meta = content.get("meta") if isinstance(content, dict) else None
    if not isinstance(meta, dict) or meta.get("task") != task or meta.get("format") != FORMAT:
        raise WeightsError(f"{path} is not a {task} weights file of format {FORMAT}; {REMEDY}")
    missing = [key for key, types in (required or {}).items()
               if not isinstance(meta.get(key), types) or isinstance(meta.get(key), bool)]
    if missing:
        raise WeightsError(f"{path} lacks what evaluation needs in its meta ({', '.join(missing)}); "
                           f"{REMEDY}")
    tensors = {k: v for k, v in content.items() if k != "meta"}
    if not all(isinstance(v, torch.Tensor) for v in tensors.values()):
        raise WeightsError(f"{path} holds values that are not tensors; {REMEDY}")
    return tensors, meta


def trained_on(meta: dict) -> str:
    """The dataset the weights were trained on: what evaluation reads unless told otherwise.
    Files written before the meta recorded it were all trained on MNIST."""
    return meta.get("dataset", DEFAULT_DATASET)


def check_shapes(path: str | Path, tensors: dict, expected: dict) -> None:
    """Every expected tensor present with its shape, and nothing else."""
    found = {k: tuple(v.shape) for k, v in tensors.items()}
    if found != {k: tuple(s) for k, s in expected.items()}:
        raise WeightsError(f"{path} holds tensors {found}, but its meta describes "
                           f"{expected}; {REMEDY}")
