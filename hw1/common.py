"""What the graders' scripts and the project share: file names, atomic writes, a fixed thread count.

Standard library only at import time (the Makefile asks pipeline.paths, which imports this module,
for file names with the system Python before any environment exists).
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
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


@contextlib.contextmanager
def atomic_write(path: str | Path):
    """Yield a temporary path beside `path`; rename it over `path` only when the block succeeds.

    A reader never sees a half-written file: an error or Ctrl-C inside the block leaves the old
    file as it was and deletes the temporary one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; the result is an ordinary file
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | Path, text: str) -> None:
    with atomic_write(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


@contextlib.contextmanager
def atomic_folder(path: str | Path):
    """Yield an empty temporary folder; it replaces `path` as a whole only when the block succeeds,
    so a folder of results is either all from one run or all from the previous one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        yield staging
        old = path.with_name(f".{path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if path.exists():
            os.replace(path, old)
        os.replace(staging, path)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def fixed_threads(n: int):
    """Run torch with n threads, then restore: a matrix product's rounding depends on the thread
    count, so training and every later evaluation use the same one to get identical numbers."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def script_parser(doc: str, files: ScriptFiles, train: bool):
    """The graders' scripts' options they all share: the data folder and the dataset."""
    import argparse
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=files.folder, metavar="FOLDER",
                        help="the folder holding MNIST/raw or FashionMNIST/raw (default: this "
                             "script's folder); torchvision downloads missing files there")
    default, shown = ((DEFAULT_DATASET, "MNIST, the course's") if train
                      else (None, "the dataset the weights were trained on"))
    parser.add_argument("--dataset", choices=DATASETS, default=default,
                        help=f"the dataset to {'train' if train else 'evaluate'} on "
                             f"(default: {shown})")
    return parser


class SettingsError(Exception):
    exit_code = 1


def read_settings(files: ScriptFiles, task: str) -> dict:
    """The student and this task's hyperparameters, from the settings file beside the script.

    It is data (JSON), never code: the student's name reaches the scripts only this way."""
    import json
    try:
        content = json.loads(files.settings.read_text(encoding="utf-8"))
        return {"student": content["student"], "settings": content[task]}
    except FileNotFoundError:
        raise SettingsError(f"{files.settings} is missing; it comes in the submission zip "
                            f"beside this script") from None
    except (ValueError, KeyError, TypeError) as err:
        raise SettingsError(f"{files.settings} is damaged ({type(err).__name__}: {err}); "
                            f"take it again from the submission zip") from None


def settings_from(cls, values: dict, source: Path):
    """cls (a task's Settings dataclass) from the shipped values, refused in one line if they
    were edited into something else."""
    try:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{**{k: v for k, v in values.items() if k in names},
                      "hidden": tuple(values["hidden"])})
    except (TypeError, KeyError, ValueError) as err:
        raise SettingsError(f"{source} does not hold valid settings ({err}); take it again from "
                            f"the submission zip") from None


def check_fields(settings, ints=(), numbers=(), choices=None) -> None:
    """ValueError unless `hidden` is positive sizes, `ints` positive whole numbers (`seed` may be
    0), `numbers` positive numbers, and each `choices` field one of its values."""
    def whole(v):
        return isinstance(v, int) and not isinstance(v, bool)

    def value(name):
        return getattr(settings, name)
    ok = {"hidden": bool(settings.hidden) and all(whole(h) and h > 0 for h in settings.hidden)}
    ok.update({f: whole(value(f)) and value(f) >= (0 if f == "seed" else 1) for f in ints})
    ok.update({f: (whole(value(f)) or isinstance(value(f), float)) and value(f) > 0 for f in numbers})
    ok.update({f: value(f) in allowed for f, allowed in (choices or {}).items()})
    bad = [f for f, passed in ok.items() if not passed]
    if bad:
        raise ValueError("invalid " + ", ".join(f"{f}={value(f)!r}" for f in bad))


def run_script(main) -> int:
    """Run a script's main(): a user-fixable error (anything with an exit_code) is one line on
    stderr, Ctrl-C ends quietly; only a bug shows a traceback."""
    import sys
    try:
        return main() or 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if not hasattr(err, "exit_code"):
            raise
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
