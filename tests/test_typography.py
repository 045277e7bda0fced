"""What a grader reads off the page: figure text, the PDF's metadata, the reference list, numbers
set by siunitx, overfull lines reported at their template line, and the spread over seeds.

The report tests build on the quick pipeline's results (results/quick/), as tests/test_report.py.
"""
import re
import shutil
import statistics
import subprocess

import matplotlib.pyplot as plt
import pytest
from conftest import NAMES_BY_SCRIPT
from pypdf import PdfReader

from experiments import plots
from experiments import q1 as task1_runs
from experiments import q2 as task2_runs
from pipeline import paths
from report.tex import latexmk as latex
from report.render import jinja as render
from report.errors import ReportError

# a comma would end a key=value list; Hebrew and Chinese are stored in the PDF as UTF-16
METADATA_NAME = f"{NAMES_BY_SCRIPT['Hebrew']}, {NAMES_BY_SCRIPT['Chinese']} O'Neil & Sons_50% #1"
# inserted into copies of the templates: a rule wider than the text (an overfull line), numbers
# with their spread in a column too narrow for two of them, and a number in bold
WIDE_LINE = (r"\par\noindent\rule{1.1\textwidth}{1pt}\par", "q2.tex.j2", 12)
NARROW = r"\par\parbox{2.2cm}{" + " ".join([r"loss \num{3.960 +- 0.674} nats"] * 8) + r"}\par"
BOLD = r"\textbf{bold \num{42.125} and \qty{97.25 +- 0.5}{\percent}}\par"
TYPO_CITATION = (r"As shown \citep{zhang2071}.", "appendix.tex.j2", 5)


SLIVER_PT = 0.3


def _pdftotext(pdf, *options):
    done = subprocess.run(["pdftotext", *options, str(pdf), "-"], capture_output=True, text=True,
                          check=True)
    return done.stdout


# --- figures --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def figures(quick_context, tmp_path_factory):  # noqa: F811
    """The quick run's figures, drawn afresh into a copy of its results."""
    results = tmp_path_factory.mktemp("results")
    for task in ("q1", "q2"):
        shutil.copytree(paths.ROOT / "results" / "quick" / task, results / task)
    drawn = plots.q1_figures(results / "q1") + plots.q2_figures(results / "q2")
    return {path.stem: path for path in drawn}


def test_figure_text_reads_back_as_typed_minus_signs_included(figures):
    loss = _pdftotext(figures["q2_loss"])
    assert "¡" not in loss  # what cmsy10's minus sign read back as
    assert re.search(r"^10[−-]1$", loss, re.M), loss  # the log axis: 10^-1
    assert "cross-entropy (nats)" in loss and "ln 2" in loss
    ablations = _pdftotext(figures["q1_ablations"])
    for word in ("ReLU", "MSE", "cross-entropy", "by learning rate", "test accuracy (%)"):
        assert word in ablations, word
    assert re.search(r"^\d{2,3}(\.\d)?$", _pdftotext(figures["q1_accuracy"]), re.M)  # a y tick


def _word_boxes(pdf):
    """(word, x0, y0, x1, y1) of every word pdftotext finds, in points."""
    html = _pdftotext(pdf, "-bbox")
    found = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                       r"([^<]*)</word>", html)
    return [(word, float(a), float(b), float(c), float(d)) for a, b, c, d, word in found]


@pytest.mark.parametrize("name", ["q1_accuracy", "q1_ablations", "q2_loss"])
def test_no_two_labels_of_a_figure_touch(figures, name):
    words = _word_boxes(figures[name])
    assert len(words) > 10
    for i, (word, x0, y0, x1, y1) in enumerate(words):
        for other, u0, v0, u1, v1 in words[i + 1:]:
            # pdftotext's boxes span the font's ascent and descent: lines of a legend may share
            # a sliver of them (0.06 pt between "test" and the mathtext "ln 2")
            apart = min(x1 - u0, u1 - x0) < SLIVER_PT or min(y1 - v0, v1 - y0) < SLIVER_PT
            assert apart, f"{name}: {word!r} and {other!r} overlap"


def test_a_legend_moves_off_a_curve_that_runs_under_every_corner():
    plt.rcParams.update(plots.STYLE)
    fig, (ax,) = plots._panels(1, 2.3, 1.7)
    # a curve along the bottom and one along the top: no corner is free until the range grows
    ax.plot([1, 2, 3, 4, 5], [0, 0, 0, 0, 0], label="low")
    ax.plot([1, 2, 3, 4, 5], [1, 1, 1, 1, 1], label="high")
    ax.plot([1, 2, 3, 4, 5], [0.5, 0.5, 0.5, 0.5, 0.5], label="middle")
    plots.legend_off_the_data(ax)
    fig.canvas.draw()
    box = ax.get_legend().get_window_extent()
    points = plots._outline(ax)
    under = points[(points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)]
    assert len(under) and not ((under[:, 1] >= box.y0) & (under[:, 1] <= box.y1)).any()
    assert ax.get_ylim()[0] < -0.1 or ax.get_ylim()[1] > 1.1  # it made room rather than cover
    plt.close(fig)


# --- the built PDF ----------------------------------------------------------------------------

def _templates_with(tmp_path, insertions):
    """A copy of the templates with each (text, template, line) inserted before that line."""
    folder = tmp_path / "templates"
    shutil.copytree(paths.TEMPLATES, folder)
    for text, name, line_no in insertions:
        lines = (folder / name).read_text().split("\n")
        lines.insert(line_no - 1, text)
        (folder / name).write_text("\n".join(lines))
    return folder


@pytest.fixture(scope="module")
def built(quick_context, script_fonts, tmp_path_factory):
    """One quick build with a name in Hebrew and Chinese and the lines above inserted."""
    tmp_path = tmp_path_factory.mktemp("build")
    templates = _templates_with(tmp_path, [WIDE_LINE, TYPO_CITATION,
                                           (NARROW + BOLD, "appendix.tex.j2", 5)])
    ctx = {**quick_context, "student": {"name": METADATA_NAME, "id": "123456789"}}
    line_maps = render.render_all(ctx, tmp_path / "build", templates)
    pdf = tmp_path / "report.pdf"
    body_pages = latex.typeset(tmp_path / "build", pdf, line_maps)
    return {"pdf": pdf, "body_pages": body_pages,
            "log": latex.read_log(tmp_path / "build"), "line_maps": line_maps}


@pytest.mark.slow
def test_the_pdf_metadata_hold_the_title_and_the_students_name_in_any_script(built):
    metadata = PdfReader(built["pdf"]).metadata
    assert metadata.title == "Machine Learning 2 — Homework 1"
    assert metadata.author == METADATA_NAME


@pytest.mark.slow
def test_the_citation_has_its_entry_in_a_reference_list_after_the_body(built):
    pages = [page.extract_text() for page in PdfReader(built["pdf"]).pages]
    body, rest = " ".join(pages[:built["body_pages"]]), " ".join(pages[built["body_pages"]:])
    assert "(Zhang et al., 2017)" in body
    flat = " ".join(rest.split())
    assert "References" in flat
    assert ("Chiyuan Zhang, Samy Bengio, Moritz Hardt, Benjamin Recht, and Oriol Vinyals. "
            "Understanding deep learning requires rethinking generalization") in flat
    assert "ICLR 2017" in flat


@pytest.mark.slow
def test_an_overfull_line_is_reported_at_its_template_line(built):
    warnings = latex.typeset_warnings(built["log"], built["line_maps"])
    text, name, line_no = WIDE_LINE
    ours = [w for w in warnings if w.startswith(f"templates/{name}:{line_no}: ")]
    assert ours, warnings
    assert re.search(r"a line is \d+\.\d pt wider than the text .*\(rendered as q2\.tex:\d+--\d+\)",
                     ours[0])


@pytest.mark.slow
def test_a_citation_with_no_entry_is_reported_at_its_template_line(built):
    warnings = latex.typeset_warnings(built["log"], built["line_maps"])
    # the line inserted above it, also at line 5, pushes it to line 6
    assert ("templates/appendix.tex.j2:6: no entry 'zhang2071' in templates/*.bib: the PDF shows "
            "(?) for it; add the entry or correct the key") in warnings, warnings


@pytest.mark.slow
def test_a_broken_bib_file_is_named_with_its_line(quick_context, tmp_path):  # noqa: F811
    templates = _templates_with(tmp_path, [])
    (templates / "references.bib").write_text("@inproceedings{zhang2017rethinking,\n title = {x\n")
    line_maps = render.render_all(quick_context, tmp_path / "build", templates)
    with pytest.raises(ReportError) as err:
        latex.typeset(tmp_path / "build", tmp_path / "report.pdf", line_maps)
    assert str(err.value).startswith("templates/references.bib:2: BibTeX error: "), err.value
    assert not (tmp_path / "report.pdf").exists()


@pytest.mark.slow
def test_a_value_and_its_spread_stay_on_one_line(built):
    text = _pdftotext(built["pdf"])
    assert text.count("3.960") == text.count("0.674") == 8
    assert text.count("3.960 ± 0.674") == 8, [line for line in text.splitlines() if "3.960" in line]


@pytest.mark.slow
def test_numbers_in_bold_text_are_bold(built):
    fonts = {}

    def visit(text, cm, tm, font, size):
        if font and text.strip():
            fonts.setdefault(text.strip(), set()).add(str(font.get("/BaseFont")))

    for page in PdfReader(built["pdf"]).pages:
        page.extract_text(visitor_text=visit)
    bold = {text: names for text, names in fonts.items() if "42.125" in text or "97.25" in text}
    assert bold, "the bold numbers are not in the PDF"
    assert all(all("Bold" in name for name in names) for names in bold.values()), bold


def test_overfull_lines_are_found_in_the_file_being_read():
    log = "\n".join([
        "(./main.tex (/usr/share/texlive/article.cls (size10.clo)) (./title.tex)",
        "(./q1.tex (/usr/share/fonts/t1lmr.fd)",
        "Overfull \\hbox (2.29797pt too wide) in paragraph at lines 4--6",
        "[]\\T1/lmr/m/n/10 text (a parenthesis the next line closes",
        "",
        ") (./q2.tex",
        "Overfull \\hbox (0.5pt too wide) in alignment at lines 3--3",
        "[]|",
        "",
        "Package natbib Warning: Citation `zhang2071' on page 2 undefined on input line 2.",
        ") (./main.bbl",
        "Overfull \\hbox (1.0pt too wide) in paragraph at lines 2--2",
        "[]\\T1/lmr/m/n/10 https://openreview.net/forum?id=Sy8gdB9xx",
        "",
        "))"])
    line_maps = {"q1.tex": ("templates/q1.tex.j2", [1, 2, 3, 9, 10, 12]),
                 "q2.tex": ("templates/q2.tex.j2", [5, 6, 7])}
    assert latex.typeset_warnings(log, line_maps) == [
        "templates/q1.tex.j2:9: a line is 2.3 pt wider than the text (overfull \\hbox), template "
        "lines 9-12 (rendered as q1.tex:4--6); reword or shorten it",
        "templates/q2.tex.j2:7: a line is 0.5 pt wider than the text (overfull \\hbox) "
        "(rendered as q2.tex:3--3); reword or shorten it",
        "templates/q2.tex.j2:6: no entry 'zhang2071' in templates/*.bib: the PDF shows (?) for "
        "it; add the entry or correct the key",
        "main.bbl:2--2: a line is 1.0 pt wider than the text (overfull \\hbox)"]


def test_a_number_with_its_spread_is_one_siunitx_value():
    assert render.num(3.96, 3, 0.674) == r"\num{3.960 +- 0.674}"
    assert render.num(3.96, 3, None) == r"\num{3.960}"
    assert render.pct(0.9663, 2, None) == r"\qty{96.63}{\percent}"


# --- spread over seeds ------------------------------------------------------------------------

def _task1_run(seed, final_test_acc):
    history = {key: [0.5, final_test_acc] for key in ("train_loss", "train_acc", "test_loss",
                                                      "test_acc")}
    return {"settings": {"seed": seed}, "diverged_epoch": None, "history": history,
            "wall_time_s": 1.0, "variant": "main"}


def _task2_run(seed, final_test_loss):
    history = {key: [0.7, final_test_loss] for key in ("train_loss", "train_acc", "test_loss",
                                                       "test_acc")}
    return {"seed": seed, "optimizer": "adam", "lr": 0.001, "epochs": 2, "history": history,
            "wall_time_s": 1.0}


def test_the_spread_over_seeds_is_the_sample_standard_deviation():
    accuracies, losses = [0.96, 0.97, 0.99], [3.1, 3.9, 4.4]
    task1 = task1_runs.summarise([_task1_run(s, a) for s, a in enumerate(accuracies)], 0.9)
    assert task1["test_acc_std"] == pytest.approx(statistics.stdev(accuracies))
    assert task1["test_acc_std"] > statistics.pstdev(accuracies)  # n - 1, not n
    task2 = task2_runs.summarise([_task2_run(s, v) for s, v in enumerate(losses)])
    assert task2["test_loss_std"] == pytest.approx(statistics.stdev(losses))


def test_one_seed_records_no_spread():
    assert task1_runs.summarise([_task1_run(0, 0.97)], 0.9)["test_acc_std"] is None
    task2 = task2_runs.summarise([_task2_run(0, 3.9)])
    assert task2["test_loss_std"] is None and task2["test_acc_std"] is None
