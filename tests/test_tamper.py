"""Results are tamper-evident: each step records the sha256 of what it wrote (pipeline/ledger.py),
every reader checks it, and the PDF follows its inputs' content, not their time stamps."""
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import repository_copy
from hw1 import eval_script, names
from pipeline import ledger, paths


def _written(folder, **files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    ledger.record_folder(folder)
    return folder


def test_a_file_as_its_writer_left_it_passes(tmp_path):
    folder = _written(tmp_path / "q1", **{"metrics.json": '{"acc": 0.9408}'})
    ledger.check(folder / "metrics.json", "make experiments")


@pytest.mark.parametrize("change", [
    lambda p: p.write_text('{"acc": 0.9931}'),                 # a better number typed in
    lambda p: p.write_text(p.read_text()[:-3]),                # truncated
    lambda p: p.write_bytes(p.read_bytes() + b" "),            # a space added
])
def test_a_file_changed_by_hand_is_one_line_naming_it_and_the_command(tmp_path, change):
    folder = _written(tmp_path / "q1", **{"metrics.json": '{"acc": 0.9408}'})
    change(folder / "metrics.json")
    with pytest.raises(ledger.TamperedError) as err:
        ledger.check(folder / "metrics.json", "make experiments")
    message = str(err.value)
    assert "metrics.json was changed after the pipeline wrote it" in message
    assert "run `make experiments` to write it again" in message and "\n" not in message


def test_the_original_put_back_with_any_time_stamp_passes(tmp_path):
    folder = _written(tmp_path / "q1", **{"metrics.json": '{"acc": 0.9408}'})
    path = folder / "metrics.json"
    original = path.read_bytes()
    path.write_text('{"acc": 0.9931}')
    path.write_bytes(original)
    os.utime(path, (1, 1))  # 1970
    ledger.check(path, "make experiments")


def test_a_file_no_step_wrote_is_refused(tmp_path):
    folder = _written(tmp_path / "q1", **{"metrics.json": "{}"})
    (folder / "q1_accuracy.pdf").write_bytes(b"%PDF- a figure drawn elsewhere")
    with pytest.raises(ledger.TamperedError, match=r"q1_accuracy.pdf has no record in .*"
                                                   r"\.written\.json of the step that wrote it"):
        ledger.check(folder / "q1_accuracy.pdf", "make report")
    (folder / ledger.NAME).unlink()  # nor does deleting the record help
    with pytest.raises(ledger.TamperedError, match="metrics.json has no record"):
        ledger.check(folder / "metrics.json", "make experiments")


def test_a_later_record_keeps_the_earlier_entries(tmp_path):
    folder = _written(tmp_path / "q1", **{"metrics.json": "{}"})
    (folder / "q1_accuracy.pdf").write_bytes(b"%PDF- drawn")
    ledger.record(folder / "q1_accuracy.pdf")
    ledger.check(folder / "metrics.json", "make experiments")
    ledger.check(folder / "q1_accuracy.pdf", "make report")


# --- the graders' eval script: other weights are evaluated, and said to be other -----------------

def _script_files(tmp_path, recorded: str | None):
    (tmp_path / "hw1_1_q2_weights.pkl").write_bytes(b"the shipped weights")
    settings = {"student": {}, "q2": {}}
    if recorded is not None:
        settings["weights_sha256"] = {"q2": recorded}
    (tmp_path / "hw1_1_settings.json").write_text(json.dumps(settings))
    return names.ScriptFiles(tmp_path / "hw1_1_q2_eval.py", "q2", "eval")


class _Task:
    TASK = "q2"

    @staticmethod
    def evaluate(path, folder, download, dataset):
        return 0.5


def test_the_eval_script_says_in_one_line_when_the_weights_are_not_the_reported_ones(
        tmp_path, capsys):
    files = _script_files(tmp_path, recorded="0" * 64)
    assert eval_script.evaluate(_Task, files) == 0.5, "evaluated all the same"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "hw1_1_q2_weights.pkl is not the weights file the report " \
                                    "describes" in err and "evaluating it anyway" in err


def test_the_eval_script_is_silent_for_the_reported_weights(tmp_path, capsys):
    files = _script_files(tmp_path, recorded=None)
    files.settings.write_text(json.dumps({"weights_sha256": {
        "q2": ledger.sha256(tmp_path / "hw1_1_q2_weights.pkl")}}))
    assert eval_script.evaluate(_Task, files) == 0.5
    assert capsys.readouterr().err == ""
    files.settings.unlink()  # no record to compare with: nothing to say
    assert eval_script.evaluate(_Task, files) == 0.5 and capsys.readouterr().err == ""


# --- through make, on a copy of the quick results ---------------------------------------------------

def _make(repo, *targets):
    return subprocess.run(["make", "--no-print-directory", *targets], cwd=repo,
                          env={**os.environ, "QUICK": "1"}, capture_output=True, text=True)


@pytest.fixture
def quick_repo(tmp_path):
    """A repository copy with this checkout's quick results and report, times kept."""
    done = subprocess.run(["make", "--no-print-directory", "report"], cwd=paths.ROOT,
                          env={**os.environ, "QUICK": "1"}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    repo = repository_copy(tmp_path / "repo", linked=(".venv", "data"))
    for built in ("results", "report/build", "report/report-quick.pdf", "report/.written.json"):
        source = paths.ROOT / built
        if source.is_dir():
            shutil.copytree(source, repo / built, symlinks=True)
        else:
            shutil.copy2(source, repo / built)
    assert "is up to date" in _make(repo, "report").stdout
    return repo


@pytest.mark.slow
@pytest.mark.parametrize("target", ["q1/metrics.json", "q2/metrics.json", "q1/q1_accuracy.pdf",
                                    "derivations.json", "q2/q2_weights.pkl"])
def test_a_results_file_changed_by_hand_stops_the_report_and_its_original_rebuilds_it(
        quick_repo, target):
    path = quick_repo / "results" / "quick" / target
    original, stat = path.read_bytes(), path.stat()
    if target.endswith(".json"):
        forged = re.sub(rb"0\.9\d+", b"0.9931", original, count=1) if b"0.9" in original \
            else original.replace(b"verified", b"refuted", 1)
        path.write_bytes(forged if forged != original else original + b" ")
    else:
        path.write_bytes(original + b"\n% drawn by hand")
    pdf = quick_repo / "report" / "report-quick.pdf"
    pdf_before = pdf.read_bytes()
    done = _make(quick_repo, "report")
    assert done.returncode != 0
    error = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(error) == 1 and f"results/quick/{target}" in error[0], done.stderr
    assert "QUICK=1 make " in error[0] and "Traceback" not in done.stderr
    assert pdf.read_bytes() == pdf_before

    path.write_bytes(original)  # the original back, with its old time stamp
    os.utime(path, (stat.st_atime, stat.st_mtime))
    done = _make(quick_repo, "report")
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_a_pdf_input_put_back_with_an_old_time_stamp_rebuilds_the_pdf(quick_repo):
    """The issue's sequence: a PDF built from other content, then the original restored with its
    old mtime: Make alone said "Nothing to be done"."""
    template = quick_repo / "templates" / "summary.tex.j2"
    original, stat = template.read_bytes(), template.stat()
    pdf = quick_repo / "report" / "report-quick.pdf"
    template.write_bytes(original.replace(b"\\section", b"\\section*", 1))
    assert _make(quick_repo, "report").returncode == 0
    edited_build = pdf.read_bytes()
    template.write_bytes(original)
    os.utime(template, (stat.st_atime, stat.st_mtime))  # older than the PDF
    done = _make(quick_repo, "report")
    assert done.returncode == 0 and "report: wrote" in done.stdout, done.stdout + done.stderr
    assert pdf.read_bytes() != edited_build
    again = _make(quick_repo, "report")
    assert "is up to date" in again.stdout and "report: wrote" not in again.stdout
    pdf.write_bytes(pdf.read_bytes() + b"%% edited by hand")  # the PDF itself: built again
    done = _make(quick_repo, "report")
    assert done.returncode == 0 and "report: wrote" in done.stdout, done.stdout + done.stderr


def test_a_truncated_metrics_file_read_by_the_plots_is_one_line(tmp_path):
    from experiments import plots
    folder = _written(tmp_path / "q1", **{"metrics.json": '{"main": {"test_acc_mean": 0.9408}}'})
    path = folder / "metrics.json"
    path.write_text(path.read_text()[:12])
    with pytest.raises(ledger.TamperedError) as err:
        plots._read(path)
    assert "metrics.json was changed after the pipeline wrote it" in str(err.value)
    assert "\n" not in str(err.value)
