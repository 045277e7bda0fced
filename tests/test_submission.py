"""`make submission` end to end, from a quick report: the zip verifies itself from an empty folder
(every script compiles, every weights file loads, each evaluate_hw1() returns the PDF's number in a
fresh interpreter, the PDF holds the name and ID), and a hostile name changes none of that."""
import dataclasses
import json
import os
import subprocess
import zipfile

import pytest
from conftest import SHIPPED_CONFIG

from pipeline import config, paths, provenance
from report import context, latex, render, submission

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
    (build / "build.json").write_text(json.dumps({"quick": True, "body_pages": pages, "inputs": inputs}))
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
    (build / "build.json").write_text(json.dumps({"quick": True, "body_pages": 2}))
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF")
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


def _built_from(tmp_path, sources):
    """A build.json recording `sources` (files in tmp_path) as what its PDF was built from."""
    (tmp_path / "build").mkdir()
    inputs = provenance.file_hashes(sources)
    (tmp_path / "build" / "build.json").write_text(json.dumps({"quick": False, "body_pages": 2,
                                                               "inputs": inputs}))
    (tmp_path / "report.pdf").write_bytes(b"%PDF")
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
