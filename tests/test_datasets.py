"""The datasets' records and files: loading verified splits, refusing a corrupted file by name."""

import pytest
import torch

from experiments import datasets
from hw1 import names
from helpers import N_TEST, N_TRAIN, small_dataset
from pipeline import paths

@pytest.fixture
def small(tmp_path):
    return small_dataset(tmp_path)


def test_every_dataset_has_its_files_md5s_classes_and_a_source():
    assert set(datasets.DATASETS) == set(names.DATASETS) == {"mnist", "fashion-mnist"}
    for record in datasets.DATASETS.values():
        assert list(record.md5) == list(paths.DATA_FILES) and len(record.classes) == 10
        assert record.sources and all(len(md5) == 32 for md5 in record.md5.values())
    assert datasets.FASHION_MNIST.classes[0] == "T-shirt/top"
    assert datasets.FASHION_MNIST.raw == paths.DATA / "FashionMNIST" / "raw"


@pytest.mark.parametrize("record", [datasets.MNIST, datasets.FASHION_MNIST], ids=lambda r: r.name)
def test_load_returns_whole_scaled_tensors(tmp_path, record):
    raw, record, (train_images, train_labels), _ = small_dataset(tmp_path, record)
    images, labels = datasets.load(record, train=True, raw_dir=raw)
    assert images.shape == (N_TRAIN, 784) and images.dtype == torch.float32
    assert labels.shape == (N_TRAIN,) and labels.dtype == torch.int64
    assert images.min() == 0.0 and images.max() == 1.0
    assert torch.equal(images, torch.from_numpy(train_images.reshape(N_TRAIN, -1)).float() / 255)
    assert labels.tolist() == train_labels.tolist()
    test_images, _ = datasets.load(record, train=False, raw_dir=raw)
    assert test_images.shape == (N_TEST, 784)


def test_one_changed_byte_is_rejected_with_the_checksum_message(small):
    raw, record, _, _ = small
    path = raw / "train-images-idx3-ubyte"
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(datasets.DatasetError) as err:
        datasets.load(record, train=True, raw_dir=raw)
    message = str(err.value)
    assert str(path) in message and record.md5["train-images-idx3-ubyte"] in message
    assert datasets.md5_of(path) in message and "make data" in message

