"""Weights files: `torch.save` of a dict of tensors plus a `meta` dict with what evaluation needs.

    {"W1": tensor, "b1": tensor, ..., "meta": {"task": "q1", "format": 1, "layer_sizes": [...],
     "activation": "relu", "input_mean": 0.13, "input_std": 0.31, "dataset": "mnist", ...}}

Evaluation reads the architecture and the input normalisation from `meta`, never from a config
file that may have changed since training. Loading uses `weights_only=True`: a weights file is data,
and unpickling arbitrary objects from it could run code.
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

from .atomic import write_bytes
from .messages import cut
from .names import DEFAULT_DATASET

FORMAT = 1
# Said to whoever holds the file beside the graders' scripts; the project's own commands
# (experiments, report, submission) replace it with the make command that rebuilds the file.
REMEDY = "take it again from the submission zip, or re-create it with this task's train script"


class WeightsError(Exception):
    """A weights file that is missing, unreadable or not what the task expects: `problem` says
    what, `remedy` what to do (the grader's by default)."""
    exit_code = 1

    def __init__(self, path: str | Path, problem: str, remedy: str = REMEDY):
        self.path, self.problem = Path(path), problem
        super().__init__(f"{path} {problem}; {remedy}")

    def advising(self, remedy: str) -> "WeightsError":
        """The same problem with another remedy (the project's make command)."""
        return WeightsError(self.path, self.problem, remedy)


def save(path: str | Path, tensors: dict, meta: dict) -> None:
    """Written through a buffer: torch.save names the archive's folder after the file it writes,
    and the atomic write's temporary name would make two identical runs' files differ."""
    import torch
    buffer = io.BytesIO()
    torch.save({**tensors, "meta": {**meta, "format": FORMAT}}, buffer)
    write_bytes(path, buffer.getvalue())


def sha256(path: str | Path) -> str:
    """The file's sha256: metrics.json records it, so that numbers are never stated for other
    weights than the ones they were computed from."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load(path: str | Path, task: str, required: dict[str, tuple] = None) -> tuple[dict, dict]:
    """(tensors, meta) of a weights file written by save() for `task`, its meta holding each
    `required` key with a value of the given types; WeightsError otherwise."""
    import torch
    path = Path(path)
    if not path.is_file():
        raise WeightsError(path, "is missing")
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, foreign pickle, ...: torch raises many kinds
        reason = cut(str(err).split(". ")[0], 160) or type(err).__name__
        raise WeightsError(path, f"cannot be read as a weights file ({reason})") from None
    meta = content.get("meta") if isinstance(content, dict) else None
    if not isinstance(meta, dict) or meta.get("task") != task or meta.get("format") != FORMAT:
        raise WeightsError(path, f"is not a {task} weights file of format {FORMAT}")
    missing = [key for key, types in (required or {}).items()
               if not isinstance(meta.get(key), types) or isinstance(meta.get(key), bool)]
    if missing:
        raise WeightsError(path, f"lacks what evaluation needs in its meta ({', '.join(missing)})")
    tensors = {k: v for k, v in content.items() if k != "meta"}
    if not all(isinstance(v, torch.Tensor) for v in tensors.values()):
        raise WeightsError(path, "holds values that are not tensors")
    return tensors, meta


def trained_on(meta: dict) -> str:
    """The dataset the weights were trained on: what evaluation reads unless told otherwise.
    Files written before the meta recorded it were all trained on MNIST."""
    return meta.get("dataset", DEFAULT_DATASET)


def check_shapes(path: str | Path, tensors: dict, expected: dict) -> None:
    """Every expected tensor present with its shape, and nothing else."""
    found = {k: tuple(v.shape) for k, v in tensors.items()}
    if found != {k: tuple(s) for k, s in expected.items()}:
        raise WeightsError(path, f"holds tensors {found}, but its meta describes {expected}")
