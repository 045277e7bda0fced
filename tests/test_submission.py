"""`make submission` end to end, from a quick report: the zip verifies itself from an empty folder
(every script compiles, every weights file loads, each evaluate_hw1() returns the PDF's number in a
fresh interpreter, the PDF holds the name and ID), and a hostile name changes none of that."""
import hashlib
import json
import os
import subprocess
import sys
import zipfile

import pytest
import torch
from conftest import SHIPPED_CONFIG, repository_copy

from hw1 import weights as hw1_weights

from pipeline import config, ledger, paths, provenance
from report.render import context
from report.tex import latexmk as latex
from report.render import jinja as render
from report.bundle import submission

QUICK = paths.ROOT / "results" / "quick"
HOSTILE = {"name": 'Ann \\xa Lee """ O\'Neil', "id": "A1b2C3"}


@pytest.fixture(scope="module")
def quick_results():
    built = subprocess.run(["make", "--no-print-directory", "experiments", "derivations"],
                           cwd=paths.ROOT, env={**os.environ, "QUICK": "1"},
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    return QUICK


@pytest.fixture(scope="module")
def hostile_report(quick_results, tmp_path_factory):
    """One quick report typeset for the HOSTILE student, shared by the packing tests."""
    sections = {**config.read_sections(QUICK), "student": config.Student(**HOSTILE)}
    ctx = context.build_context(sections, QUICK)
    folder = tmp_path_factory.mktemp("report")
    build, pdf = folder / "build", folder / "report.pdf"
    pages = latex.typeset(build, pdf, render.render_all(ctx, build))
    inputs = provenance.file_hashes(context.pdf_sources(QUICK, "mnist"))
    (build / "build.json").write_text(json.dumps({"quick": True, "body_pages": pages, "audit": "passed", "inputs": inputs}))
    ledger.record(pdf, build / "build.json")  # as the report step records them
    return build, pdf


@pytest.fixture
def as_hostile(hostile_report, monkeypatch):
    """The report, and the config sections answering with its student."""
    real_read = config.read_sections
    monkeypatch.setattr(submission.config, "read_sections", lambda *a, **k: {
        **real_read(*a, **k), "student": config.Student(**HOSTILE)})
    return hostile_report


@pytest.mark.slow
def test_a_hostile_name_packs_a_zip_that_verifies(quick_results, as_hostile, tmp_path):
    build, pdf = as_hostile
    lines = []
    out = submission.pack(tmp_path / "hw1.zip", quick_results, build, pdf, allow_quick=True,
                          report=lines.append)
    assert sum(line.startswith("  ok") for line in lines) == 8, lines  # compile, 2 loads, 2 evals, name, 2 trains
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        settings = json.loads(z.read(f"hw1_{HOSTILE['id']}_settings.json").decode("utf-8"))
    prefix = f"hw1_{HOSTILE['id']}_"
    assert {f"{prefix}{task}_{kind}.py" for task in ("q1", "q2") for kind in ("train", "eval")} <= names
    assert {f"{prefix}q1_weights.pkl", f"{prefix}q2_weights.pkl", f"{prefix}report.pdf",
            "hw1/task1.py", "hw1/task2.py"} <= names
    assert settings["student"] == HOSTILE
    with zipfile.ZipFile(out) as z:  # the zip's own record of the weights the PDF reports
        for task in ("q1", "q2"):
            shipped = hashlib.sha256(z.read(f"{prefix}{task}_weights.pkl")).hexdigest()
            assert settings["weights_sha256"][task] == shipped
        z.extractall(tmp_path / "unzipped")
    # a repacked zip with other weights: evaluated all the same, and said to be other, on stderr
    unzipped = tmp_path / "unzipped"
    weights_file = unzipped / f"{prefix}q2_weights.pkl"
    content = torch.load(weights_file, weights_only=True)
    meta = content.pop("meta")
    hw1_weights.save(weights_file, {k: v + 1e-3 for k, v in content.items()}, meta)
    done = subprocess.run([sys.executable, str(unzipped / f"{prefix}q2_eval.py"), "--data",
                           str(paths.DATA)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "average test accuracy" in done.stdout, done.stderr
    assert done.stderr.count("\n") == 1 and "is not the weights file the report describes" in \
        done.stderr and "evaluating it anyway" in done.stderr


@pytest.mark.slow
def test_an_eval_that_disagrees_with_the_pdf_leaves_no_zip(quick_results, as_hostile, tmp_path,
                                                           monkeypatch):
    build, pdf = as_hostile
    real_context = context.build_context

    def context_with_other_number(*args, **kwargs):
        ctx = real_context(*args, **kwargs)
        ctx["q1"]["main"]["saved_test_acc"] += 0.01
        return ctx
    monkeypatch.setattr(submission.context, "build_context", context_with_other_number)
    out = tmp_path / "hw1.zip"
    with pytest.raises(submission.SubmissionError, match="evaluate_hw1"):
        submission.pack(out, quick_results, build, pdf, allow_quick=True, report=lambda line: None)
    assert not out.exists() and not list(tmp_path.glob(".hw1.zip*"))


def test_a_quick_or_missing_report_is_refused(tmp_path, monkeypatch, shipped_sections):
    monkeypatch.setattr(submission.config, "read_sections", lambda *a, **k: {
        **shipped_sections, "student": config.Student(name="Ann", id="1")})
    build = tmp_path / "build"
    build.mkdir()
    (build / "build.json").write_text(json.dumps({"quick": True, "body_pages": 2, "audit": "passed"}))
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF")
    ledger.record(pdf, build / "build.json")
    with pytest.raises(submission.SubmissionError, match="quick run"):
        submission.check_report(QUICK, build, pdf)
    with pytest.raises(submission.SubmissionError, match="missing"):
        submission.check_report(QUICK, build, tmp_path / "absent.pdf")


def test_a_report_on_another_dataset_than_mnist_is_not_packed():
    with pytest.raises(submission.SubmissionError, match=r"\[data\] dataset = 'fashion-mnist'.*grades mnist"):
        submission.check_dataset(config.Data(dataset="fashion-mnist"))
    submission.check_dataset(config.Data())


def test_a_right_to_left_name_is_found_where_extraction_moves_its_neutrals():
    # pdftotext's reading of the title "שי \xa \"\"\" O'Neil": the backslash lands inside the RTL run
    extracted = submission.normalized('\u202b\\ שי\u202cxa """ O\u2019Neil    ID 123')
    assert submission.holds(extracted, 'שי \\xa """ O\'Neil')
    assert not submission.holds(extracted, 'שי \\xb """ O\'Neil')
    assert submission.holds(submission.normalized('Ann \\xa """ O\u2019Neil'), 'Ann \\xa """ O\'Neil')
    assert not submission.holds(submission.normalized('Ann xa \\ O\u2019Neil'), 'Ann \\xa O\'Neil')


def test_only_a_report_that_passed_its_audit_is_packed(tmp_path):
    submission.check_audit({"audit": "passed"}, tmp_path / "build.json")
    for info, said in (({"audit": "failed"}, "audit = 'failed'"), ({}, "no audit recorded")):
        with pytest.raises(submission.SubmissionError, match="did not pass its audit") as err:
            submission.check_audit(info, tmp_path / "build.json")
        assert said in str(err.value)


def test_a_report_that_did_not_pass_its_audit_is_refused(tmp_path, monkeypatch):
    build = tmp_path / "build"
    build.mkdir()
    for audit in ("failed", "warned"):
        info = {"quick": False, "body_pages": 2, "audit": audit}
        with pytest.raises(submission.SubmissionError) as err:
            submission.check_audit(info, build / "build.json")
        assert "did not pass its audit (" in str(err.value) and f"audit = {audit!r}" in str(err.value)
    submission.check_audit({"audit": "passed"}, build / "build.json")


@pytest.mark.parametrize("quick, student, data, refusal", [
    (True, {"name": "Ann", "id": "1"}, "mnist", "QUICK=1: the course receives the full report"),
    (False, {"name": "Ann", "id": "1"}, "fashion-mnist", "[data] dataset = 'fashion-mnist'"),
    (False, {}, "mnist", "[student] name and [student] id in config.toml still hold the placeholder"),
])
def test_what_no_report_could_fix_is_refused_before_any_work(monkeypatch, quick, student, data, refusal):
    real_load = config.load
    monkeypatch.setattr(submission.config, "load", lambda *a, **k: {
        **real_load(*a, **k), "student": config.Student(**student), "data": config.Data(dataset=data)})
    with pytest.raises(submission.SubmissionError) as err:
        submission.precheck(quick)
    assert str(err.value).startswith(refusal)


def test_a_killed_submissions_verification_folder_is_swept_and_a_running_ones_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(submission.tempfile, "gettempdir", lambda: str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / f"hw1-verify-{dead.pid}-ab12").mkdir()
    (tmp_path / f"hw1-verify-{os.getpid()}-cd34").mkdir()  # a submission still running
    (tmp_path / "hw1-verify-notapid").mkdir()  # not ours to judge
    submission.sweep_killed_runs()
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"hw1-verify-{os.getpid()}-cd34",
                                                          "hw1-verify-notapid"]


@pytest.mark.slow
@pytest.mark.parametrize("setup, refusal", [
    ("quick", "error: QUICK=1: the course receives the full report"),
    ("fashion-mnist", "error: [data] dataset = 'fashion-mnist' in config.toml, but the course grades mnist"),
])
def test_make_submission_refuses_quick_or_another_dataset_at_once_and_keeps_the_zip(
        tmp_path, setup, refusal):
    repo = repository_copy(tmp_path / "repo", linked=(".venv", "data"))
    verified = repo / "report" / "hw1_206202384.zip"
    verified.write_bytes(b"the last verified zip")
    env = {**os.environ, "QUICK": "1" if setup == "quick" else ""}
    if setup == "fashion-mnist":
        path = repo / "config.toml"
        path.write_text(path.read_text().replace('dataset = "mnist"', 'dataset = "fashion-mnist"'))
    done = subprocess.run(["make", "--no-print-directory", "submission"], cwd=repo, env=env,
                          capture_output=True, text=True)
    assert done.returncode != 0 and refusal in done.stderr, done.stderr
    assert verified.read_bytes() == b"the last verified zip"
    for work in ("experiments.q1", "experiments.fetch", "report build", "derivations build"):
        assert work not in done.stdout, done.stdout


def _built_from(tmp_path, sources):
    """A build.json recording `sources` (files in tmp_path) as what its PDF was built from."""
    (tmp_path / "build").mkdir()
    inputs = provenance.file_hashes(sources)
    (tmp_path / "build" / "build.json").write_text(json.dumps({"quick": False, "body_pages": 2, "audit": "passed",
                                                               "inputs": inputs}))
    (tmp_path / "report.pdf").write_bytes(b"%PDF")
    ledger.record(tmp_path / "report.pdf", tmp_path / "build" / "build.json")
    return tmp_path / "build", tmp_path / "report.pdf"


def test_a_report_whose_sources_changed_since_it_was_built_is_refused(tmp_path, monkeypatch,
                                                                      recorded_context):
    template = tmp_path / "q1.tex.j2"
    template.write_text("as built")
    build, pdf = _built_from(tmp_path, [template])
    monkeypatch.setattr(submission.config, "read_sections", lambda *a, **k: {
        **config.load(SHIPPED_CONFIG, quick=False),
        "student": config.Student(name="Ann", id="1")})
    monkeypatch.setattr(submission.context, "build_context", lambda *a: recorded_context)
    monkeypatch.setattr(submission.context, "pdf_sources", lambda *a: [template])
    submission.check_report(tmp_path, build, pdf)  # as built: accepted
    template.write_text("edited")
    with pytest.raises(submission.SubmissionError) as err:
        submission.check_report(tmp_path, build, pdf)
    assert str(err.value) == (f"{paths.relative(pdf)} is stale: {paths.relative(template)} changed "
                              f"since it ran; run `make report` to refresh it")


def test_a_build_json_or_pdf_edited_by_hand_is_not_packed(tmp_path, monkeypatch):
    """A draft that failed its audit ([report] audit = "warn"), its build.json edited to pass."""
    template = tmp_path / "q1.tex.j2"
    template.write_text("as built")
    build, pdf = _built_from(tmp_path, [template])
    info = json.loads((build / "build.json").read_text())
    (build / "build.json").write_text(json.dumps({**info, "audit": "passed"}) + " ")
    monkeypatch.setattr(submission.config, "read_sections", lambda *a, **k: {
        **config.load(SHIPPED_CONFIG, quick=False),
        "student": config.Student(name="Ann", id="1")})
    with pytest.raises(ledger.TamperedError, match=r"build.json was changed after the pipeline "
                                                   r"wrote it .*run `make report`"):
        submission.check_report(tmp_path, build, pdf)
    (build / "build.json").write_text(json.dumps(info))
    pdf.write_bytes(b"%PDF another")
    with pytest.raises(ledger.TamperedError, match=r"report.pdf was changed"):
        submission.check_report(tmp_path, build, pdf)


def test_ctrl_c_while_packing_says_the_older_zip_was_deleted(tmp_path, monkeypatch, capsys):
    from pipeline import cli
    out = tmp_path / "hw1_1.zip"
    out.write_bytes(b"an older zip")
    monkeypatch.setattr(submission, "check_report", lambda *a: {"student": {"id": "1"}, "q1": {}, "q2": {}})
    monkeypatch.setattr(submission, "contents", lambda *a: {})

    def interrupted(*args):
        raise KeyboardInterrupt
    monkeypatch.setattr(submission, "verify", interrupted)
    code = cli.main("report.bundle.submission", "", {"pack": cli.Command(
        lambda args: submission.pack(out, report=lambda line: None), "")}, ["pack"])
    err = capsys.readouterr().err
    assert code == 130 and err.count("\n") == 1 and "finished files are kept" not in err
    assert "the older" in err and "was deleted too" in err and "run `make submission` again" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []
