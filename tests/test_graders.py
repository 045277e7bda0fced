"""The graders' scripts (hw1/scripts/ + the hw1 package), staged as the zip lays them out and run on
a small made-up dataset in MNIST's layout: no TeX, no real MNIST, no full training. The tests that
run a script in a fresh interpreter, as a grader does, are slow (each imports torch anew)."""
import errno
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch
from conftest import SHIPPED_CONFIG

from experiments import datasets, fetch, q1
from hw1 import atomic, messages, names, script_cli, settings, task1, task2, weights
from hw1.weights import WeightsError
from pipeline import config
from pipeline.tasks import BY_NAME
from report.bundle import submission

PREFIX = "hw1_123456789_"
HOSTILE_NAME = 'Ann \\xa Lee """ \'\'\' \\n {x} שלום Ёж'


@pytest.fixture(scope="module")
def mnist_slice(tmp_path_factory):
    """600 training and 200 test images in torchvision's MNIST layout: each digit a fixed random
    pattern under much noise, so that a network learns some of them in one epoch, not all."""
    root = tmp_path_factory.mktemp("slice")
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    generator = torch.Generator().manual_seed(0)
    patterns = torch.rand(10, 28 * 28, generator=generator)
    for split, n in (("train", 600), ("t10k", 200)):
        labels = torch.randint(0, 10, (n,), generator=generator)
        images = 0.2 * patterns[labels] + 0.8 * torch.rand(n, 28 * 28, generator=generator)
        pixels = (images * 255).round().to(torch.uint8)
        fetch.write_idx(raw / f"{split}-images-idx3-ubyte", pixels.numpy().tobytes(), (n, 28, 28))
        fetch.write_idx(raw / f"{split}-labels-idx1-ubyte",
                        labels.to(torch.uint8).numpy().tobytes(), (n,))
    return root


def _settings(student_name=HOSTILE_NAME, q1_epochs=1):
    cfg = config.load(SHIPPED_CONFIG, quick=True)
    q1_settings = q1.settings_for(cfg["q1"], 0, epochs=q1_epochs)
    from experiments import q2
    q2_settings = q2.settings_for("random", 0, cfg["q2"])
    as_json = lambda s: {**s.__dict__, "hidden": list(s.hidden)}  # noqa: E731
    return {"student": {"name": student_name, "id": "123456789"},
            "q1": as_json(q1_settings), "q2": {**as_json(q2_settings), "epochs": 30}}


@pytest.fixture()
def staged(tmp_path):
    """The zip's code and settings file, as `make submission` lays them out."""
    for name, source in submission.grader_code(PREFIX).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(source.read_bytes())
    (tmp_path / f"{PREFIX}settings.json").write_text(json.dumps(_settings(), ensure_ascii=False))
    return tmp_path


def _python(folder, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return subprocess.run([sys.executable, "-E", "-s", *args], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow  # runs the scripts in fresh interpreters
@pytest.mark.parametrize("task", ["q1", "q2"])
def test_train_then_eval_scripts_run_from_the_unzipped_layout(staged, mnist_slice, task):
    trained = _python(staged, f"{PREFIX}{task}_train.py", "--data", str(mnist_slice))
    assert trained.returncode == 0, trained.stderr
    assert "epoch 1:" in trained.stdout
    weights = staged / f"{PREFIX}{task}_weights.pkl"
    expected = {"q1": task1, "q2": task2}[task].evaluate(weights, mnist_slice)
    runner = (f"import sys; sys.path.insert(0, '.'); import runpy; "
              f"m = runpy.run_path('{PREFIX}{task}_eval.py'); "
              f"print(repr(m['evaluate_hw1'](sys.argv[1])))")
    evaluated = _python(staged, "-c", runner, str(mnist_slice))
    assert evaluated.returncode == 0, evaluated.stderr
    assert float(evaluated.stdout.strip().splitlines()[-1]) == expected
    assert 0.0 <= expected <= 1.0


def test_the_scripts_compile_and_carry_the_name_only_as_data(staged):
    for script in staged.glob("*.py"):
        compile(script.read_bytes(), script.name, "exec")
        assert "שלום" not in script.read_text()
    shipped = json.loads((staged / f"{PREFIX}settings.json").read_text(encoding="utf-8"))
    files = names.ScriptFiles(staged / f"{PREFIX}q1_eval.py", "q1", "eval")
    assert settings.read_settings(files, "q1")["student"]["name"] == HOSTILE_NAME == shipped["student"]["name"]


def test_task1_scripts_obey_the_course_rules(staged):
    from helpers import rule_violations
    for name in (f"{PREFIX}q1_train.py", f"{PREFIX}q1_eval.py", "hw1/task1.py", "hw1/scratch_mlp.py"):
        assert rule_violations((staged / name).read_text()) == [], name


def _train_small(tmp_path, mnist_slice, activation):
    settings = task1.Settings(hidden=(32,), activation=activation, loss="mse", lr=0.1,
                              batch_size=32, epochs=2, standardize=True, seed=0)
    from hw1 import data
    run = task1.train(settings, data.load(mnist_slice))
    path = tmp_path / f"{activation}.pkl"
    task1.save(path, run["model"], settings, data.load(mnist_slice))
    return path, run


def test_evaluation_reads_the_activation_from_the_weights_not_the_config(tmp_path, mnist_slice):
    path, run = _train_small(tmp_path, mnist_slice, "tanh")
    assert task1.load(path)[1]["activation"] == "tanh"
    from hw1 import data
    x_test, y_test = data.read_split(mnist_slice, train=False)
    meta = task1.load(path)[1]
    as_trained = task1.accuracy(run["model"], meta, x_test, y_test)
    as_relu = task1.accuracy(run["model"], {**meta, "activation": "relu"}, x_test, y_test)
    assert task1.evaluate(path, mnist_slice) == as_trained != as_relu


def _damaged_weights(tmp_path, mnist_slice, damage, target):
    path, _ = _train_small(tmp_path, mnist_slice, "relu")
    content = {"truncated": path.read_bytes()[:100], "empty": b"", "not a pickle": b"hello"}
    if damage == "wrong task":
        torch.save({"W1": torch.zeros(2), "meta": {"task": "q2", "format": 1}}, target)
    else:
        target.write_bytes(content[damage])
    return target


@pytest.mark.parametrize("damage", ["truncated", "empty", "not a pickle", "wrong task"])
def test_a_damaged_weights_file_is_refused(tmp_path, mnist_slice, damage):
    target = _damaged_weights(tmp_path, mnist_slice, damage, tmp_path / "damaged.pkl")
    with pytest.raises(WeightsError, match="re-create it"):
        task1.load(target)


@pytest.mark.slow  # runs the script in a fresh interpreter
def test_a_damaged_weights_file_is_refused_by_the_eval_script_in_one_line(tmp_path, mnist_slice,
                                                                         staged):
    _damaged_weights(tmp_path, mnist_slice, "truncated", staged / f"{PREFIX}q1_weights.pkl")
    done = _python(staged, f"{PREFIX}q1_eval.py")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and len(done.stderr.strip().splitlines()) == 1


def test_the_evaluate_command_gives_one_line_for_missing_weights(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets.config, "read_dataset", lambda *a: "mnist")
    monkeypatch.setattr(datasets.paths, "weights", lambda *a: tmp_path / "absent.pkl")
    with pytest.raises(WeightsError, match="missing"):
        datasets.evaluate_saved(q1.TASK, tmp_path)


def test_truncated_weights_leave_no_zip(tmp_path, monkeypatch):
    results = tmp_path / "results"
    for task in ("q1", "q2"):
        (results / task).mkdir(parents=True)
        (results / task / f"{task}_weights.pkl").write_bytes(b"PK\x03\x04" + b"\0" * 96)
    student = {"name": "Ann Lee", "id": "123456789"}
    monkeypatch.setattr(submission, "check_report", lambda *a, **k: {"student": student})
    out = tmp_path / "hw1.zip"
    out.write_bytes(b"an older zip")
    with pytest.raises(submission.SubmissionError, match="q1_weights.pkl cannot be read"):
        submission.pack(out, results, tmp_path, tmp_path / "report.pdf", report=lambda line: None)
    assert not out.exists() and list(tmp_path.glob("*.zip*")) == []


@pytest.mark.parametrize("text, keys", [
    ("", ["[student] name", "[student] id"]),
    ('[student]\nname = "Ann Lee"\n', ["[student] id"]),
    ('[student]\nid = "123"\n', ["[student] name"]),
])
def test_an_unset_student_stops_the_submission_naming_the_key(tmp_path, text, keys):
    path = tmp_path / "config.toml"
    path.write_text(text + "[q1]\n[q2]\n[report]\n")  # every section but [student] is required
    student = config.load(path, quick=False)["student"]  # the report may still build, with the placeholder
    assert config.unset_student_keys(student) == keys
    with pytest.raises(submission.SubmissionError, match=keys[0].replace("[", r"\[")):
        submission.check_student(student)


@pytest.mark.slow  # runs the scripts in fresh interpreters
def test_a_shortened_training_run_keeps_the_submitted_weights(staged, mnist_slice):
    shipped = staged / f"{PREFIX}q2_weights.pkl"
    shipped.write_bytes(b"the submitted weights")
    done = _python(staged, f"{PREFIX}q2_train.py", "--epochs", "2", "--data", str(mnist_slice))
    assert done.returncode == 0, done.stderr
    assert shipped.read_bytes() == b"the submitted weights"
    assert (staged / f"{PREFIX}q2_weights_2epochs.pkl").is_file()
    for bad in (["--epochs", "0"], ["--epochs", "-3"], ["--data", str(staged / "absent")]):
        refused = _python(staged, f"{PREFIX}q2_train.py", *bad)
        assert refused.returncode == 2 if bad[0] == "--epochs" else refused.returncode == 1
        assert "Traceback" not in refused.stderr and shipped.read_bytes() == b"the submitted weights"


@pytest.mark.slow  # runs the scripts in fresh interpreters
def test_an_eval_script_loaded_from_another_folder_finds_its_package(staged, mnist_slice, tmp_path):
    trained = _python(staged, f"{PREFIX}q1_train.py", "--data", str(mnist_slice))
    assert trained.returncode == 0, trained.stderr
    elsewhere = tmp_path / "harness"
    elsewhere.mkdir()
    runner = ("import importlib.util, sys; spec = importlib.util.spec_from_file_location('e', sys.argv[1]);"
              "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m);"
              "import hw1; print(m.evaluate_hw1(sys.argv[2]), hw1.__file__)")
    done = _python(elsewhere, "-c", runner, str(staged / f"{PREFIX}q1_eval.py"), str(mnist_slice))
    assert done.returncode == 0, done.stderr
    accuracy, package = done.stdout.split()
    assert float(accuracy) == task1.evaluate(staged / f"{PREFIX}q1_weights.pkl", mnist_slice)
    assert package.startswith(str(staged))


@pytest.mark.slow  # runs the scripts in fresh interpreters
def test_edited_settings_are_refused_in_one_line(staged):
    path = staged / f"{PREFIX}settings.json"
    settings = json.loads(path.read_text(encoding="utf-8"))
    settings["q1"]["epochs"] = "5"
    path.write_text(json.dumps(settings))
    done = _python(staged, f"{PREFIX}q1_train.py")
    assert done.returncode == 1 and done.stderr.startswith("error: ") and "Traceback" not in done.stderr


# --- the dataset: recorded in the weights, chosen by the scripts' --dataset and --data ---------

@pytest.fixture(scope="module")
def two_datasets(tmp_path_factory):
    """One data folder holding a small random MNIST/raw and FashionMNIST/raw (12 + 5 images)."""
    from test_datasets import small_dataset
    root = tmp_path_factory.mktemp("two")
    for seed, name in enumerate(datasets.DATASETS):
        small_dataset(root, datasets.DATASETS[name], seed)
    return root


def _train_on(root, dataset, path):
    from hw1 import data
    settings = task1.Settings(hidden=(16,), activation="relu", loss="ce", lr=0.1, batch_size=4,
                              epochs=1, standardize=True, seed=0)
    images = data.load(root, dataset=dataset)
    task1.save(path, task1.train(settings, images)["model"], settings, images)
    return path


def _accuracy_on(path, root, dataset):
    from hw1 import data
    params, meta = task1.load(path)
    return task1.accuracy(params, meta, *data.read_split(root, train=False, dataset=dataset))


def test_evaluation_defaults_to_the_dataset_the_weights_were_trained_on(tmp_path, two_datasets):
    path = _train_on(two_datasets, "fashion-mnist", tmp_path / "fashion.pkl")
    assert task1.load(path)[1]["dataset"] == "fashion-mnist"
    on_fashion, on_mnist = (_accuracy_on(path, two_datasets, d) for d in ("fashion-mnist", "mnist"))
    assert task1.evaluate(path, two_datasets) == on_fashion
    assert task1.evaluate(path, two_datasets, dataset="mnist") == on_mnist


def test_weights_from_before_the_dataset_was_recorded_are_mnist_weights(tmp_path, two_datasets):
    path = _train_on(two_datasets, "mnist", tmp_path / "old.pkl")
    content = torch.load(path, weights_only=True)
    del content["meta"]["dataset"]
    torch.save(content, path)
    assert task1.evaluate(path, two_datasets) == _accuracy_on(path, two_datasets, "mnist")


@pytest.mark.slow  # runs the scripts in fresh interpreters
@pytest.mark.parametrize("task", ["q1", "q2"])
def test_the_eval_scripts_take_the_dataset_and_the_data_folder(staged, two_datasets, task):
    weights = staged / f"{PREFIX}{task}_weights.pkl"  # where the eval script looks
    trained = _python(staged, f"{PREFIX}{task}_train.py", "--epochs", "1", "--dataset",
                      "fashion-mnist", "--data", str(two_datasets), "--out", str(weights))
    assert trained.returncode == 0, trained.stderr
    assert "on fashion-mnist" in trained.stdout
    module = {"q1": task1, "q2": task2}[task]
    for chosen in (None, "mnist"):  # by default, the dataset the weights were trained on
        options = ["--dataset", chosen] if chosen else []
        done = _python(staged, f"{PREFIX}{task}_eval.py", "--data", str(two_datasets), *options)
        assert done.returncode == 0, done.stderr
        expected = module.evaluate(weights, two_datasets, dataset=chosen or "fashion-mnist")
        assert f"average test accuracy {expected:.4f}" in done.stdout


@pytest.mark.slow  # runs the scripts in fresh interpreters
def test_an_unknown_or_missing_dataset_is_one_line(staged, tmp_path, two_datasets):
    unknown = _python(staged, f"{PREFIX}q1_eval.py", "--dataset", "emnist")
    assert unknown.returncode == 2 and "invalid choice: 'emnist'" in unknown.stderr
    _train_on(two_datasets, "fashion-mnist", staged / f"{PREFIX}q1_weights.pkl")
    done = _python(staged, f"{PREFIX}q1_eval.py", "--data", str(tmp_path / "empty"))
    assert done.returncode == 1 and done.stderr.startswith("error: fashion-mnist could not be read from ")
    assert "FashionMNIST/raw" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_same_settings_and_seed_give_byte_identical_weights(tmp_path, mnist_slice):
    first, _ = _train_small(tmp_path / "a", mnist_slice, "relu")
    second, _ = _train_small(tmp_path / "b", mnist_slice, "relu")
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:  # no temporary file name inside the archive
        assert {name.split("/")[0] for name in archive.namelist()} == {"archive"}
    assert weights.sha256(first) == hashlib.sha256(first.read_bytes()).hexdigest()


@pytest.mark.slow  # runs the script in a fresh interpreter
def test_a_graders_weights_error_speaks_to_the_grader_and_the_projects_names_make(
        tmp_path, staged, monkeypatch):
    (staged / f"{PREFIX}q1_weights.pkl").write_bytes(b"hello")
    done = _python(staged, f"{PREFIX}q1_eval.py")
    assert done.returncode == 1 and "make" not in done.stderr, done.stderr
    assert "take it again from the submission zip, or re-create it with this task's train script" \
        in done.stderr
    damaged = tmp_path / "results" / "q1" / "q1_weights.pkl"
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"hello")
    with pytest.raises(WeightsError) as err:
        datasets.evaluate_saved(BY_NAME["q1"], tmp_path / "results", damaged)
    assert str(err.value).startswith(f"{damaged} cannot be read as a weights file")
    assert str(err.value).endswith("; delete it and run `make experiments`")
    assert "submission zip" not in str(err.value)


def test_a_results_folder_is_replaced_whole_with_ordinary_permissions(tmp_path):
    os.umask(0o022)
    target = tmp_path / "q1"
    with atomic.atomic_folder(target) as staging:
        atomic.write_text(staging / "metrics.json", "{}")
    assert oct(target.stat().st_mode & 0o777) == "0o755"
    assert oct((target / "metrics.json").stat().st_mode & 0o777) == "0o644"
    with pytest.raises(RuntimeError), atomic.atomic_folder(target) as staging:
        atomic.write_text(staging / "metrics.json", "half")
        raise RuntimeError("the run failed")
    assert (target / "metrics.json").read_text() == "{}"


def test_what_a_killed_run_left_is_swept_and_results_caught_between_renames_come_back(tmp_path):
    target = tmp_path / "q1"
    (tmp_path / ".q1.k1ll3d").mkdir()          # a staging folder of a kill -9 during the run
    (tmp_path / ".q1.old").mkdir()              # killed between the two renames: the last results
    (tmp_path / ".q1.old" / "metrics.json").write_text("last good")
    with atomic.atomic_folder(target) as staging:
        assert (target / "metrics.json").read_text() == "last good", "put back before the run"
        atomic.write_text(staging / "metrics.json", "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q1"]
    assert (target / "metrics.json").read_text() == "new"


@pytest.mark.parametrize("text, limit, cut", [
    ("name resolution failed for download.pytorch.org", 30, "name resolution failed for…"),
    ("short", 30, "short"),
    ("averyveryverylongwordwithoutspaces", 10, "averyvery…"),
    ("a,  b;   c", 30, "a, b; c"),
])
def test_reasons_are_cut_at_a_word(text, limit, cut):
    assert messages.cut(text, limit) == cut and len(messages.cut(text, limit)) <= limit


@pytest.mark.parametrize("code, advice", [
    (errno.EROFS, "it is on a read-only file system; work in a copy you can write to"),
    (errno.ENOSPC, "the disk is full; free some space, then run it again"),
    (errno.EACCES, "you have no permission to write there"),
])
def test_a_read_only_full_or_forbidden_place_is_one_line_in_a_graders_script(code, advice, capsys):
    def main():
        raise OSError(code, os.strerror(code), "/graders/hw1_1_q1_weights.pkl")
    assert script_cli.run_script(main) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot write /graders/hw1_1_q1_weights.pkl ({os.strerror(code)}): "
                          f"{advice}") and err.count("\n") == 1
    with pytest.raises(OSError):  # any other OSError is a bug: its traceback stays
        script_cli.run_script(lambda: (_ for _ in ()).throw(OSError(errno.EBADF, "Bad file")))


def test_a_write_to_a_full_disk_names_the_file_being_written(tmp_path, monkeypatch):
    def full(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(Path, "write_bytes", full)
    with pytest.raises(OSError) as err:
        atomic.write_bytes(tmp_path / "q1_weights.pkl", b"x")
    assert err.value.filename == str(tmp_path / "q1_weights.pkl") and err.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == [], "no temporary file is left"
