"""Task 2: fixed seeded labels, the first 128 images in order, loss on logits, reproducibility."""
import dataclasses
import math

import pytest
import torch

from experiments import datasets, q2
from hw1 import task2
from hw1.random_label_net import build_net, random_labels
from pipeline import config, paths, tasks


def _data(n_train=16, n_test=40, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return {"x_train": torch.randn(n_train, 784, generator=gen),
            "digits_train": torch.randint(0, 10, (n_train,), generator=gen),
            "x_test": torch.randn(n_test, 784, generator=gen),
            "digits_test": torch.randint(0, 10, (n_test,), generator=gen),
            "input_mean": 0.0, "input_std": 1.0}


def _cfg(**changes):
    return dataclasses.replace(tasks.Q2(), **{"epochs": 30, "draft_epochs": 3, "seeds": [0],
                                               **changes})


def test_labels_are_reproducible_from_the_seed_and_balanced():
    train, test = random_labels(7, 128, 10000)
    again_train, again_test = random_labels(7, 128, 10000)
    assert torch.equal(train, again_train) and torch.equal(test, again_test)
    assert not torch.equal(train, random_labels(8, 128, 10000)[0])
    assert set(train.tolist()) <= {0, 1} and abs(test.float().mean().item() - 0.5) < 0.02


def test_labels_stay_fixed_across_epochs(monkeypatch):
    seen = []
    real_step = task2.full_batch_step
    monkeypatch.setattr(task2, "full_batch_step", lambda net, opt, x, y: (seen.append(y.clone()),
                                                                          real_step(net, opt, x, y)))
    q2.train_one("random", 3, _cfg(epochs=5), _data())
    assert len(seen) == 5 and all(torch.equal(seen[0], y) for y in seen)
    assert torch.equal(seen[0], random_labels(3, 16, 40)[0])


def test_the_first_images_in_dataset_order(monkeypatch):
    images = torch.arange(200 * 784, dtype=torch.float32).reshape(200, 784)
    digits = torch.arange(200) % 10
    monkeypatch.setattr(task2.data_io, "read_split", lambda root, train, download=False, dataset=None:
                        (images, digits) if train else (images[:50], digits[:50]))
    data = task2.prepare(task2.data_io.load("unused"), 128)
    restored = data["x_train"] * data["input_std"] + data["input_mean"]
    assert torch.allclose(restored, images[:128], rtol=1e-4, atol=1e-2)
    assert torch.equal(data["digits_train"], digits[:128])


def test_the_loss_is_computed_on_logits():
    net = build_net([128, 64])
    assert isinstance(net[-1], torch.nn.Linear), "no softmax may sit before CrossEntropyLoss"
    assert not any(isinstance(m, torch.nn.Softmax) for m in net.modules())
    # softmax before CrossEntropyLoss would floor the loss at ln(1 + 1/e) = 0.313
    run = q2.train_one("random", 0, _cfg(), _data())
    assert min(run["history"]["train_loss"]) < math.log(1 + math.exp(-1)) / 10


def test_a_short_run_memorises_and_the_same_seed_repeats_exactly():
    cfg, data = _cfg(), _data()
    first = q2.train_one("random", 0, cfg, data)
    second = q2.train_one("random", 0, cfg, data)
    assert first["history"] == second["history"]
    assert first["history"]["train_loss"][-1] < 0.01
    assert first["history"]["train_acc"][-1] == 1.0
    assert math.isfinite(first["history"]["test_loss"][-1])


def test_summary_has_the_contract_keys():
    cfg, data = _cfg(seeds=[0, 1]), _data()
    summary = q2.summarise([q2.train_one("random", s, cfg, data) for s in (0, 1)])
    for key in ("final_train_loss_mean", "test_loss_mean", "test_acc_mean",
                "test_loss_over_epochs_mean", "epochs_to_train_loss"):
        assert key in summary
    assert summary["epochs_to_train_loss"]["0.1"][0] is not None
    # the report places each seed's final test loss against ln 2
    assert len(summary["test_loss_per_seed"]) == 2
    assert summary["test_loss_mean"] == pytest.approx(sum(summary["test_loss_per_seed"]) / 2)


def test_control_labels_are_the_digit_parity():
    data = _data()
    train, test = task2.labels_for("parity", 0, data["digits_train"], data["digits_test"])
    assert torch.equal(train, data["digits_train"] % 2) and torch.equal(test, data["digits_test"] % 2)


@pytest.mark.slow
def test_the_smoke_run_writes_metrics_and_evaluate_reproduces_them(tmp_path, monkeypatch):
    cfg = _cfg(epochs=40)
    monkeypatch.setattr(q2.config, "read_sections", lambda *a, **k: {"q2": cfg, "data": config.Data()})
    out = tmp_path / "q2"
    metrics = q2.run(paths.QUICK_MODE, out)
    assert {"random", "control", "draft", "ln2", "provenance"} <= set(metrics)
    assert metrics["random"]["final_train_loss_max"] < 0.01
    weights = out / "q2_weights.pkl"
    assert (out / "metrics.json").exists() and weights.exists()
    assert datasets.evaluate_saved(q2.TASK, paths.QUICK_RESULTS, weights) == metrics["random"]["saved_test_acc"]


def test_a_diverging_run_stops_at_its_epoch():
    run = q2.train_one("random", 0, _cfg(optimizer="sgd", lr=1e30, epochs=10), _data())
    assert run["diverged_epoch"] is not None and run["diverged_epoch"] < 10
    assert len(run["history"]["train_loss"]) == run["diverged_epoch"]


@pytest.mark.parametrize("changes, key", [
    ({"optimizer": "sgd", "lr": 1e30}, "lower [q2] lr"),                 # the task's runs
    ({"draft_lr": 1e30}, "lower [q2] draft_lr"),                         # the draft's setting
])
def test_a_diverging_run_ends_in_one_line_and_keeps_the_previous_results(
        tmp_path, monkeypatch, capsys, changes, key):
    from pipeline import cli
    cfg = _cfg(**changes)
    monkeypatch.setattr(config, "read_sections", lambda *a, **k: {"q2": cfg, "data": config.Data()})
    monkeypatch.setattr(q2.datasets, "load_verified", lambda dataset: {})
    monkeypatch.setattr(q2.task2, "prepare", lambda loaded, n_train: {**_data(), "dataset": {}})
    out = tmp_path / "q2"
    out.mkdir()
    (out / "metrics.json").write_text("the previous run's")
    code = cli.main("experiments.q2", q2.__doc__, {"run": cli.Command(lambda args: q2.run(paths.QUICK_MODE, out), "")},
                    ["run"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "diverged at epoch" in err and key in err and "was left as it was" in err
    assert [p.name for p in tmp_path.iterdir()] == ["q2"], "no staging folder is left"
    assert [p.name for p in out.iterdir()] == ["metrics.json"]
    assert (out / "metrics.json").read_text() == "the previous run's"


@pytest.mark.slow
def test_through_make_a_diverging_task_2_keeps_the_last_good_results(tmp_path):
    import os
    import re
    import subprocess
    from conftest import repository_copy
    repo = repository_copy(tmp_path / "repo", linked=(".venv", "data"))
    make = ["make", "--no-print-directory", "results/quick/q2/metrics.json"]
    env = {**os.environ, "QUICK": "1"}
    first = subprocess.run(make, cwd=repo, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    folder = repo / "results" / "quick" / "q2"
    good = {p.name: p.read_bytes() for p in folder.iterdir()}
    config_file = repo / "config.toml"
    head, q2_part = config_file.read_text().split("[q2]\n", 1)
    q2_part = re.sub(r"(?m)^lr = .*$", "lr = 1e30", q2_part, count=1)
    q2_part = re.sub(r'(?m)^optimizer = .*$', 'optimizer = "sgd"', q2_part, count=1)
    config_file.write_text(f"{head}[q2]\n{q2_part}")
    failed = subprocess.run(make, cwd=repo, env=env, capture_output=True, text=True)
    errors = [line for line in failed.stderr.splitlines() if line.startswith("error: ")]
    assert failed.returncode != 0 and len(errors) == 1, failed.stderr
    assert "diverged at epoch" in errors[0] and "lower [q2] lr" in errors[0]
    assert "Traceback" not in failed.stderr and "Deleting file" not in failed.stderr
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == good
