"""The zip from the grader's side: unzipped into an empty folder beside a copy of MNIST, each
eval script runs in a fresh interpreter without this repository and returns the report's number."""
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from pipeline import paths
from report import submission
from report.claims import ReportError

QUICK = paths.ROOT / "results" / "quick"
QUICK_BUILD = paths.ROOT / "report" / "build" / "quick"
QUICK_PDF = paths.ROOT / "report" / "report-quick.pdf"
RUN_EVAL = ("import importlib.util, sys; spec = importlib.util.spec_from_file_location('m', sys.argv[1]);"
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m);"
            "print(repr(m.evaluate_hw1()))")


@pytest.fixture(scope="module")
def unzipped(tmp_path_factory):
    built = subprocess.run(["make", "--no-print-directory", "report"], cwd=paths.ROOT,
                           env={**os.environ, "QUICK": "1"}, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    folder = tmp_path_factory.mktemp("grader")
    zip_path = submission.pack(folder / "hw1.zip", QUICK, QUICK_BUILD, QUICK_PDF, allow_quick=True)
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(folder)
    shutil.copytree(paths.MNIST_RAW, folder / "MNIST" / "raw")
    return folder


def _fresh_python(folder, *args):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([sys.executable, *args], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.slow
def test_zip_holds_the_report_scripts_and_weights(unzipped):
    names = sorted(p.name for p in unzipped.iterdir() if p.is_file() and p.name != "hw1.zip")
    sid = json.loads((QUICK / ".config" / "student.json").read_text())["id"]
    assert names == sorted([f"hw1_{sid}_report.pdf", f"hw1_{sid}_q1_train.py", f"hw1_{sid}_q1_eval.py",
                            f"hw1_{sid}_q2_train.py", f"hw1_{sid}_q2_eval.py",
                            f"hw1_{sid}_q1_weights.pkl", f"hw1_{sid}_q2_weights.pkl"])
    for script in unzipped.glob("*.py"):
        source = script.read_text()
        assert "from experiments" not in source and "import experiments" not in source
        if "_q1_" in script.name:
            assert "torch.nn." not in source and "import torch.nn" not in source
            assert "from torch import nn" not in source and ".backward(" not in source


@pytest.mark.slow
@pytest.mark.parametrize("task, key", [("q1", ("main", "saved_test_acc")),
                                       ("q2", ("random", "saved_test_acc"))])
def test_each_eval_script_returns_the_reports_accuracy(unzipped, task, key):
    script = next(unzipped.glob(f"*_{task}_eval.py"))
    done = _fresh_python(unzipped, "-c", RUN_EVAL, script.name)
    assert done.returncode == 0, done.stderr
    returned = float(done.stdout.strip().splitlines()[-1])
    metrics = json.loads((QUICK / task / "metrics.json").read_text())
    assert round(returned, 4) == round(metrics[key[0]][key[1]], 4)


@pytest.mark.slow
@pytest.mark.parametrize("task", ["q1", "q2"])
def test_each_train_script_runs_one_epoch(unzipped, task, tmp_path):
    work = tmp_path / task
    shutil.copytree(unzipped, work)
    script = next(work.glob(f"*_{task}_train.py"))
    done = _fresh_python(work, script.name, "--epochs", "1")
    assert done.returncode == 0, done.stderr
    assert "epoch 1:" in done.stdout and next(work.glob(f"*_{task}_weights.pkl")).stat().st_size > 0


def test_a_quick_report_is_refused(tmp_path):
    build = tmp_path / "build"
    build.mkdir()
    (build / "build.json").write_text(json.dumps({"quick": True, "body_pages": 2}))
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF")
    with pytest.raises(ReportError, match="quick run"):
        submission.check_report(QUICK, build, pdf)
    with pytest.raises(ReportError, match="missing"):
        submission.check_report(QUICK, build, tmp_path / "absent.pdf")
