"""The datasets both tasks run on, MNIST and Fashion-MNIST: what each is, and its four IDX files
verified by MD5 and loaded as whole tensors.

    data = load_verified(DATASETS["fashion-mnist"])   # standardised splits, as hw1.data.load gives them

`[data] dataset` in config.toml chooses one by its name here. Each record holds everything the
project knows of a dataset: its title and class names (for the figures and the prose), the MD5 of
each uncompressed file (the gate every file passes before any run reads it) and where
experiments.fetch looks for the files. A wrong MD5 here changes the data, so this file is a
prerequisite of both tasks' results; the fetching code is not.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from hw1 import data, names
from hw1.atomic import running_pid
from pipeline import cli, config, paths
from pipeline.tasks import Task

FETCH_COMMAND = "make data"


@dataclass(frozen=True)
class Dataset:
    name: str                   # [data] dataset in config.toml, the scripts' --dataset
    title: str                  # as the report's prose names it
    noun: str                   # what a label is, in the figures and the prose
    classes: tuple[str, ...]    # the names of labels 0, 1, ..., 9
    md5: dict[str, str]         # MD5 of each uncompressed IDX file, by name (paths.DATA_FILES)
    sources: tuple[str, ...]    # where experiments.fetch looks, in order, after the files present

    @property
    def raw(self) -> Path:
        return paths.data_raw(self.name)

    def describe(self) -> dict:
        """What the figures and the report show of it; metrics.json records it."""
        return {"name": self.name, "title": self.title, "noun": self.noun,
                "classes": list(self.classes)}


MNIST = Dataset(
    "mnist", "MNIST", "digit", tuple("0123456789"),
    md5=dict(zip(paths.DATA_FILES, (  # LeCun's files, as torchvision's list gives them
        "6bbc9ace898e44ae57da46a324031adb", "a25bea736e30d166cdddb491f175f624",
        "2646ac647ad5339dbf082846283269ea", "27ae3e4e09519cfbb04c329615203637"))),
    sources=("torchvision", "mirror"))
FASHION_MNIST = Dataset(
    "fashion-mnist", "Fashion-MNIST", "class",
    ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
     "Ankle boot"),
    # Of the uncompressed files: Debian's package recompressed the .gz files, so the MD5s of those
    # differ from torchvision's list, while the content is Zalando's (60,000 + 10,000 images).
    md5=dict(zip(paths.DATA_FILES, (
        "f4a8712d7a061bf5bd6d2ca38dc4d50a", "9018921c3c673c538a1fc5bad174d6f9",
        "8181f5470baa50b63fa0f6fddb340f0a", "15d484375f8d13e6eb1aabb0c3f46965"))),
    sources=("debian", "torchvision"))
DATASETS = {dataset.name: dataset for dataset in (MNIST, FASHION_MNIST)}
assert set(DATASETS) == set(names.DATASETS), "hw1.names.DATASETS names the same datasets"


class DatasetError(cli.UserError):
    """A problem with a dataset's files that the user can fix; the message says how."""


def md5_of(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "md5").hexdigest()


# experiments/fetch.py stages a fetch in <dataset folder>/.fetch-<pid>-...: a running one is named
FETCHING = ".fetch-"


def check_file(path: Path, expected_md5: str) -> None:
    """Raise DatasetError unless `path` exists with the expected MD5."""
    if not path.exists():
        fetching = [pid for folder in path.parent.parent.glob(f"{FETCHING}*-*")
                    if (pid := running_pid(folder, FETCHING))]
        if fetching:
            raise DatasetError(f"{path} is missing: a fetch is under way (process {fetching[0]}); "
                               f"wait for it to finish, then run this again")
        raise DatasetError(f"{path} is missing. Fetch it with `{FETCH_COMMAND}`.")
    actual = md5_of(path)
    if actual != expected_md5:
        raise DatasetError(
            f"{path} is corrupted: MD5 {actual}, expected {expected_md5}. "
            f"Run `{FETCH_COMMAND}` to replace it with a verified copy.")


def verify(raw_dir: Path, expected: dict[str, str]) -> dict[str, str]:
    """Check every file; return {name: md5} or raise DatasetError for the first bad one."""
    for name, md5 in expected.items():
        check_file(raw_dir / name, md5)
    return dict(expected)


def verified(dataset: Dataset, splits=("train", "t10k"), raw_dir: Path | None = None) -> dict[str, str]:
    """Check the files of the given splits against their MD5s; return {name: md5}."""
    return verify(raw_dir or dataset.raw,
                  {name: md5 for name, md5 in dataset.md5.items() if name.startswith(splits)})


def load(dataset: Dataset, train: bool, raw_dir: Path | None = None):
    """One verified split: images (N, 784) float32 in [0, 1], labels (N,) int64."""
    raw_dir = raw_dir or dataset.raw
    verified(dataset, ("train",) if train else ("t10k",), raw_dir)
    return data.read_split(raw_dir.parent.parent, train, dataset=dataset.name)


def load_verified(dataset: Dataset, standardize: bool = True) -> dict:
    """Both splits, MD5-verified, standardised as the graders' code does (hw1.data.load), with
    the MD5s for provenance."""
    md5s = verified(dataset)
    return {**data.load(paths.DATA, standardize, dataset=dataset.name), "data_md5": md5s}


def evaluate_saved(task: Task, results: Path, weights_path: Path | None = None) -> float:
    """Test accuracy of a task's saved network (by default the one its run wrote for [data]
    dataset) on the dataset it was trained on, read from the weights file alone as the grader's
    eval script does; the test files' MD5s are checked first, so a corrupted test set gives no
    number."""
    from hw1 import weights
    grader = task.grader()
    path = weights_path or paths.weights(task.name, config.read_dataset(results), results)
    try:
        dataset = DATASETS[weights.trained_on(grader.load(path)[1])]
    except weights.WeightsError as err:  # the graders' advice, replaced by the project's
        # deleting comes first: a damaged file newer than its sources looks up to date to Make
        rebuild = paths.make_command("experiments", Path(path).parent.parent)
        raise err.advising(f"delete it and run `{rebuild}`") from None
    verified(dataset, splits=("t10k",))
    return grader.evaluate(path, paths.DATA)
