"""What the graders' scripts and the project call things: the datasets, the weights and settings
files, and the scripts, and how a script finds the files beside it.

Standard library only (the Makefile asks pipeline.paths, which imports this module, for file names
with the system Python before any environment exists).
"""
from __future__ import annotations

from pathlib import Path

SCRIPT_KINDS = ("train", "eval")
# The datasets both tasks run on, by the name config.toml ([data] dataset) and the scripts'
# --dataset give them: torchvision's class for each, which is also its folder under a data root
# (torchvision's layout: <root>/<class>/raw/<file>).
DATASETS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
DEFAULT_DATASET = "mnist"   # the course's
SETTINGS_NAME = "settings.json"   # the hyperparameters and the student, beside the scripts


def weights_name(task: str, prefix: str = "") -> str:
    """`q1_weights.pkl` in results/q1/, `hw1_<id>_q1_weights.pkl` in the zip."""
    return f"{prefix}{task}_weights.pkl"


def script_name(task: str, kind: str, prefix: str = "") -> str:
    return f"{prefix}{task}_{kind}.py"


class ScriptFiles:
    """The files beside a grader's script, named after it: `hw1_<id>_q1_eval.py` finds
    `hw1_<id>_q1_weights.pkl` and `hw1_<id>_settings.json` in its own folder."""

    def __init__(self, script: str | Path, task: str, kind: str):
        path = Path(script).resolve()
        self.folder = path.parent
        suffix = script_name(task, kind)
        # a renamed script (say eval.py) takes the prefix of the one weights file beside it
        found = sorted(self.folder.glob(f"*{weights_name(task)}"))
        self.prefix = (path.name.removesuffix(suffix) if path.name.endswith(suffix) or len(found) != 1
                       else found[0].name.removesuffix(weights_name(task)))
        self.weights = self.folder / weights_name(task, self.prefix)
        self.settings = self.folder / f"{self.prefix}{SETTINGS_NAME}"
