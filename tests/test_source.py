"""`make source`: the LaTeX bundle builds from an empty folder to the report's pages and text, and a
bundle that would not is never left behind.

Built from the quick report (`QUICK=1 make report`, results/quick/).
"""
import os
import shutil
import subprocess
import zipfile

import pytest
from pypdf import PdfReader

from pipeline import config, paths
from pipeline.tasks import TASKS
from report.bundle import source
from report.bundle.submission import normalized, pdf_text

QUICK_BUILD = paths.ROOT / "report" / "build" / "quick"
QUICK_PDF = paths.ROOT / "report" / "report-quick.pdf"


def _make_quick(*targets):
    return subprocess.run(["make", "--no-print-directory", *targets], cwd=paths.ROOT,
                          env={**os.environ, "QUICK": "1"}, capture_output=True, text=True)


@pytest.fixture(scope="module")
def quick_report():
    done = _make_quick("report")
    assert done.returncode == 0, done.stderr
    return QUICK_PDF


@pytest.fixture
def build_copy(quick_report, tmp_path):
    """The quick report's rendered .tex files and the figures they include, to be edited by a
    test."""
    folder = tmp_path / "build"
    folder.mkdir()
    for tex in source.rendered_tex(QUICK_BUILD):
        shutil.copy2(tex, folder / tex.name)
    shutil.copytree(QUICK_BUILD / "figures", folder / "figures")
    for bib in QUICK_BUILD.glob("*.bib"):
        shutil.copy2(bib, folder / bib.name)
    return folder


def _append(path, text):
    path.write_text(path.read_text() + text)


def _one_word_changed(path, _):
    text = path.read_text()
    assert " the " in text
    path.write_text(text.replace(" the ", " thy ", 1))


@pytest.mark.slow
def test_the_bundle_compiles_from_an_empty_folder_to_the_reports_text(quick_report, tmp_path):
    done = _make_quick("source")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "LaTeX read no file of this repository" in done.stdout
    bundle = paths.ROOT / "report" / f"hw1_{config.load(quick=True)['student'].id}_source-quick.zip"
    assert f"source: wrote {paths.relative(bundle)}" in done.stdout

    folder = tmp_path / "elsewhere"
    with zipfile.ZipFile(bundle) as z:
        names = set(z.namelist())
        z.extractall(folder)
    templates = {t.name.removesuffix(".j2") for t in paths.TEMPLATES.glob("*.tex.j2")}
    figures = {f"figures/{name}.pdf" for task in TASKS for name in task.figures}
    bibliographies = {bib.name for bib in paths.TEMPLATES.glob("*.bib")}
    assert names == templates | figures | bibliographies | {"latexmkrc"}
    for tex in templates:
        assert str(paths.ROOT) not in (folder / tex).read_text(), f"{tex} names the repository"
    # as a co-author would: latexmk alone, in the unzipped folder, TeX's own environment
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TEX", "PYTHON"))}
    built = subprocess.run(["latexmk", "-interaction=nonstopmode"], cwd=folder, env=env,
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout[-2000:]
    pdf = folder / "main.pdf"
    assert len(PdfReader(pdf).pages) == len(PdfReader(quick_report).pages)
    text = normalized(pdf_text(pdf))
    assert text == normalized(pdf_text(quick_report))
    assert "QUICKRUN" in text and "q1_accuracy" not in text


def test_figures_are_rewritten_to_the_bundles_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("a.pdf", "sub/b.pdf"):
        (tmp_path / name).write_bytes(b"%PDF")
    tex = (rf"\includegraphics[width=0.5\textwidth]{{{tmp_path / 'a.pdf'}}}\hfill"
           "\n\\includegraphics{sub/b.pdf}\n"
           r"O'Neil \textbackslash{}includegraphics\{x\}")  # a name, escaped: left alone
    figures = {}
    rewritten = source.with_local_figures(tex, tmp_path, figures)
    assert rewritten == (r"\includegraphics[width=0.5\textwidth]{figures/a.pdf}\hfill"
                         "\n\\includegraphics{figures/b.pdf}\n"
                         r"O'Neil \textbackslash{}includegraphics\{x\}")
    assert figures == {"figures/a.pdf": tmp_path / "a.pdf", "figures/b.pdf": tmp_path / "sub" / "b.pdf"}
    (tmp_path / "b.pdf").write_bytes(b"%PDF")
    with pytest.raises(source.SourceError, match="two figures share the name b.pdf"):
        source.with_local_figures(r"\includegraphics{b.pdf}", tmp_path, figures)


@pytest.mark.slow  # packs and typesets the bundle
def test_a_bundle_that_cannot_be_packed_leaves_no_zip(build_copy, tmp_path):
    _append(build_copy / "summary.tex", "\\includegraphics{results/gone.pdf}\n")
    out = tmp_path / "hw1_1_source.zip"
    out.write_bytes(b"an older bundle")
    with pytest.raises(source.SourceError, match="includes the figure results/gone.pdf, which does not exist"):
        source.pack(paths.QUICK_MODE, build_copy, QUICK_PDF, out, report=lambda line: None)
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))


@pytest.mark.slow
@pytest.mark.parametrize("edit, text, message", [
    (_one_word_changed, None, "the bundle's PDF text differs from report/report-quick.pdf's after "
                              ".*th.: .y.* where the report has .e"),
    (_append, "\\newpage\\null\n", r"the bundle builds \d+ pages, report/report-quick.pdf has \d+;"),
    # TeX is confined as for the report: a file of this repository is not read, so not relied on
    (_append, f"\\input{{{paths.ROOT / 'README.md'}}}\n",
     r"does not build from an empty folder: summary.tex:\d+: .*README.md"),
    (_append, "\\undefinedmacro\n",
     r"does not build from an empty folder: summary.tex:\d+: Undefined control sequence"),
])
def test_a_bundle_unlike_the_report_is_refused_and_removed(build_copy, tmp_path, edit, text, message):
    edit(build_copy / "summary.tex", text)
    out = tmp_path / "hw1_1_source.zip"
    out.write_bytes(b"an older bundle")
    with pytest.raises(source.SourceError, match=message):
        source.pack(paths.QUICK_MODE, build_copy, QUICK_PDF, out, report=lambda line: None)
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.parametrize("lua", [
    'io.open("{m}", "w"):write("x")',
    'os.execute("touch {m}")',
    'local f = io.open("latexmkrc", "a") f:write([[system("touch {m}");]]) f:close()',
])
def test_the_bundles_verification_build_is_confined_as_the_report_is(build_copy, tmp_path, lua):
    marker = tmp_path / "outside-marker"
    _append(build_copy / "summary.tex", "\\directlua{" + lua.replace("{m}", str(marker)) + "}\n")
    out = tmp_path / "bundle.zip"
    try:
        source.pack(build_copy, QUICK_PDF, out, report=lambda line: None)
    except source.SourceError:
        pass
    assert not marker.exists()


def test_a_killed_source_builds_folder_is_swept(tmp_path, monkeypatch):
    from report.bundle import submission
    monkeypatch.setattr(submission.tempfile, "gettempdir", lambda: str(tmp_path))
    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / f"{source.SOURCE_PREFIX}{dead.pid}-ab12").mkdir()
    (tmp_path / f"{source.SOURCE_PREFIX}{os.getpid()}-cd34").mkdir()  # one still running
    submission.sweep_killed_runs(source.SOURCE_PREFIX)
    assert [p.name for p in tmp_path.iterdir()] == [f"{source.SOURCE_PREFIX}{os.getpid()}-cd34"]
