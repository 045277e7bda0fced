"""The report: rendering, guards, error messages, page budget, and the Make graph.

The fast tests render from the recorded results (conftest.recorded_context). The slow ones
typeset, from the quick pipeline (results/quick/), built once per session with
`make experiments derivations QUICK=1` (a no-op when up to date).
"""
import dataclasses
import importlib
import json
import math
import os
import re
import shutil
import subprocess
import unicodedata

import pytest
import torch
from conftest import NAMES_BY_SCRIPT, recorded, repository_copy
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from experiments import q1 as task1_runs
from experiments.datasets import FASHION_MNIST
from hw1 import task1, weights
from pipeline import config, ledger, paths, provenance, tasks
from report.audit import run as audit
from report.tex import budget
from report.claims import wording as claims
from report.render import context
from report.tex import latexmk as latex
from report.render import jinja as render
from report.bundle import submission
from report.render import marks
from report.errors import ReportError
from report.bundle.submission import SubmissionError

QUICK_RESULTS = paths.ROOT / "results" / "quick"
HOSTILE = r"""O'Neil "Bo" & Sons_50% #1 {x} \ ~^ $5 \input{/etc/passwd}"""
# pdftotext wraps right-to-left runs in embedding marks
BIDI_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e"))


def _make(*targets, dry=False):
    cmd = ["make", "--no-print-directory", *(["-n"] if dry else []), *targets]
    return subprocess.run(cmd, cwd=paths.ROOT, env={**os.environ, "QUICK": "1"},
                          capture_output=True, text=True)


def _build(ctx, tmp_path, templates=paths.TEMPLATES):
    line_maps = render.render_all(ctx, tmp_path / "build", templates)
    pdf = tmp_path / "report.pdf"
    pages = latex.typeset(tmp_path / "build", pdf, line_maps)
    return pdf, pages


def _text(pdf):
    return "\n".join(page.extract_text() for page in PdfReader(pdf).pages)


def _first_page_text(pdf):
    done = subprocess.run(["pdftotext", "-l", "1", str(pdf), "-"], capture_output=True, text=True,
                          check=True)
    return done.stdout


def _flat(text):
    """Text compared without spaces or bidi marks; NFKC folds the Arabic presentation forms that
    pdftotext may give back into letters, and LaTeX sets ' as the typographic apostrophe."""
    text = unicodedata.normalize("NFKC", text).translate(BIDI_MARKS).replace("\u2019", "'")
    return "".join(text.split())


def _fonts(pdf):
    done = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    return done.stdout.lower()


@pytest.mark.slow
def test_pdf_holds_the_key_numbers_and_fits_two_pages(quick_context, tmp_path):
    pdf, body_pages = _build(quick_context, tmp_path)
    text = _text(pdf)
    q1, q2 = quick_context["q1"], quick_context["q2"]
    assert f"{100 * q1['main']['test_acc_mean']:.2f}" in text
    assert f"{q2['random']['test_loss_mean']:.3f}" in text
    assert f"{100 * q2['random']['test_acc_mean']:.1f}" in text
    for hidden in q1["ablations"]["hidden"]["variants"]:  # the width and depth ablation's rows
        assert hidden in text, hidden
    assert "QUICK RUN" in text.split("\n\n")[0] or "QUICK RUN" in PdfReader(pdf).pages[0].extract_text()
    assert 1 <= body_pages <= 2
    assert "Appendix" not in "".join(p.extract_text() for p in PdfReader(pdf).pages[:body_pages])


@pytest.mark.slow
def test_a_hostile_student_name_builds_and_reads_back(quick_context, tmp_path):
    ctx = {**quick_context, "student": {"name": HOSTILE, "id": "123456789"}}
    pdf, _ = _build(ctx, tmp_path)
    assert _flat(HOSTILE) in _flat(_first_page_text(pdf))


@pytest.mark.slow
def test_an_unset_student_shows_on_the_title(quick_context, tmp_path):
    ctx = {**quick_context, "student": dataclasses.asdict(config.Student()),
           "student_unset": config.unset_student_keys(config.Student())}
    pdf, _ = _build(ctx, tmp_path)
    assert _flat("[student] name and [student] id are not set in config.toml") in _flat(_first_page_text(pdf))


@pytest.mark.slow
def test_names_in_every_covered_script_typeset_and_read_back(quick_context, tmp_path, script_fonts):
    # Latin and Cyrillic between the right-to-left names keep each one a run of its own
    order = ["Hebrew", "Cyrillic", "Arabic", "Greek", "Chinese", "Latin"]
    name = " ".join(NAMES_BY_SCRIPT[script] for script in order)
    ctx = {**quick_context, "student": {"name": name, "id": "123456789"}}
    pdf, _ = _build(ctx, tmp_path)
    title = _flat(_first_page_text(pdf))
    for script, each in NAMES_BY_SCRIPT.items():
        assert _flat(each) in title, f"the {script} name is not in the PDF's text"
    for locale, font, options in render.NAME_FONTS.values():
        assert font.replace(" ", "").lower() in _fonts(pdf), f"{font} is not embedded"


def _font_cmap(family: str) -> set[int]:
    """The characters of the font fontconfig finds for the family (LuaLaTeX finds the same)."""
    done = subprocess.run(["fc-match", "--format=%{family}|%{file}|%{index}", family],
                          capture_output=True, text=True, check=True)
    families, path, index = done.stdout.split("|")
    assert family in families.split(","), f"{family} is not installed"
    return set(TTFont(path, fontNumber=int(index)).getBestCmap())


def test_every_character_a_name_may_hold_is_in_the_font_of_its_script(script_fonts):
    assert set(render.NAME_FONTS) == set(config.NAME_SCRIPTS) - {"Latin"}
    for script, ranges in config.NAME_SCRIPTS.items():
        family = "Latin Modern Roman" if script == "Latin" else render.NAME_FONTS[script][1]
        cmap = _font_cmap(family)
        accepted = [code for low, high in ranges for code in range(low, high + 1)
                    if config.name_script(chr(code)) == script]
        missing = [f"U+{code:04X}" for code in accepted if code not in cmap]
        assert accepted and not missing, f"{family} lacks {missing[:10]} of the {script} names"


def _templates_with(tmp_path, name, line_no, text):
    folder = tmp_path / "templates"
    shutil.copytree(paths.TEMPLATES, folder)
    lines = (folder / name).read_text().split("\n")
    lines.insert(line_no - 1, text)
    (folder / name).write_text("\n".join(lines))
    return folder


@pytest.mark.slow
def test_a_latex_error_names_the_template_file_and_line(quick_context, tmp_path):
    templates = _templates_with(tmp_path, "q2.tex.j2", 12, r"\thismacroisnotdefined")
    with pytest.raises(ReportError) as err:
        _build(quick_context, tmp_path, templates)
    message = str(err.value)
    assert message.startswith("templates/q2.tex.j2:12: LaTeX error: Undefined control sequence")
    assert "q2.tex:" in message


@pytest.mark.slow
def test_an_over_long_body_still_builds_and_says_by_how_much(quick_context, tmp_path):
    templates = _templates_with(tmp_path, "summary.tex.j2", 2, r"\rule{1pt}{500pt}\par")
    pdf, body_pages = _build(quick_context, tmp_path, templates)
    layout = budget.measure(latex.read_log(tmp_path / "build"))
    message = budget.check({"body_pages": body_pages, "layout": layout})
    assert pdf.exists() and body_pages == layout["end_page"] == 3
    # the 500 pt rule cannot break, so it moves to page 3 whole with the rest of the summary
    over_pt = layout["end_depth_pt"] - 2 * layout["text_height_pt"]
    assert 500 < over_pt < 750
    lines = math.ceil(over_pt / layout["line_pt"])
    assert message.startswith(f"the main body runs {over_pt / layout['text_height_pt']:.2f} page "
                              f"(about {lines} lines) past its 2-page limit; longest sections: "
                              f"templates/summary.tex.j2 ")


def test_an_undefined_variable_names_itself_and_the_line(recorded_context, tmp_path):
    templates = _templates_with(tmp_path, "summary.tex.j2", 3, "((( q1.main.no_such_key )))")
    with pytest.raises(ReportError) as err:
        render.render_all(recorded_context, tmp_path / "build", templates)
    assert str(err.value).startswith("templates/summary.tex.j2:3: undefined variable:")
    assert "no_such_key" in str(err.value)


def test_line_map_points_each_rendered_line_at_its_template_line():
    source = "a\n((* if true *))\nb ((( 1 + 1 )))\n((* endif *))\nc"
    env = render.environment()
    rendered = env.from_string(render.add_sentinels(source)).render()
    text, origin = render.strip_sentinels(rendered)
    text = marks.strip(text)  # what LaTeX reads: the audit's marks taken out
    assert text.split("\n") == ["a", "b 2", "c"]
    assert origin == [1, 3, 5]


def test_only_verified_identities_are_typeset(recorded_context):
    with pytest.raises(ReportError, match="'draft_diagonal' is refuted"):
        recorded_context["eq"]("draft_diagonal")
    with pytest.raises(ReportError) as err:
        recorded_context["eq"]("no_such_identity")
    message = str(err.value)
    assert "no such identity; the verified ones are softmax_jacobian, softmax_weight" in message
    assert "make derivations" not in message  # the id is a typo: re-running would not help
    assert recorded_context["eq"]("softmax_jacobian")["status"] == "verified"
    with pytest.raises(ReportError, match="the refuted ones are draft_diagonal, draft_offdiagonal"):
        recorded_context["refuted"]("no_such_claim")
    with pytest.raises(ReportError, match="'softmax_jacobian' is verified in results/derivations.json, not refuted"):
        recorded_context["refuted"]("softmax_jacobian")


def _recorded_results(folder, sections):
    """Task 2's recorded metrics in folder/q2/, as if made by this code from `sections`."""
    metrics = recorded("q2_metrics")
    metrics["provenance"].update(code_hash=provenance.code_hash("q2"),
                                 config_hash=config.section_hash(sections["q2"]), dataset="mnist")
    (folder / "q2").mkdir(parents=True)
    (folder / "q2" / "q2_weights.pkl").write_bytes(b"weights as recorded")
    metrics["weights_sha256"] = weights.sha256(folder / "q2" / "q2_weights.pkl")
    (folder / "q2" / "metrics.json").write_text(json.dumps(metrics))
    ledger.record_folder(folder / "q2")  # as the run records what it wrote
    return folder


def test_stale_and_missing_results_name_the_command_that_refreshes_them(tmp_path, shipped_sections):
    results = _recorded_results(tmp_path / "results", shipped_sections)
    assert context.load_results("q2", shipped_sections, results)["random"]
    changed = {**shipped_sections, "q2": tasks.Q2(lr=0.5)}
    with pytest.raises(ReportError, match=r"q2/metrics.json is stale: \[q2\] in config.toml changed "
                                          r"since it ran; run `make experiments` to refresh it"):
        context.load_results("q2", changed, results)
    fashion = {**shipped_sections, "data": config.Data(dataset="fashion-mnist")}
    (results / "fashion-mnist").mkdir()
    (results / "q2").rename(results / "fashion-mnist" / "q2")
    with pytest.raises(ReportError, match="holds results on mnist, but \\[data\\] dataset is fashion-mnist"):
        context.load_results("q2", fashion, results)
    with pytest.raises(ReportError, match="missing; run `make experiments`"):
        context.load_results("q1", shipped_sections, tmp_path)
    # the quick results are refreshed by the quick pipeline
    assert paths.make_command("experiments", paths.QUICK_RESULTS) == "QUICK=1 make experiments"


def test_changed_code_makes_results_stale(tmp_path, shipped_sections, monkeypatch):
    results = _recorded_results(tmp_path / "results", shipped_sections)
    monkeypatch.setattr(provenance, "code_hash", lambda name: "another")
    with pytest.raises(ReportError, match=r"stale: the code of q2 \(.*experiments/q2.py, .*hw1/task2.py.*\) "
                                          r"changed since it ran; run `make experiments`"):
        context.load_results("q2", shipped_sections, results)


def test_a_missing_student_section_is_marked_on_the_title(recorded_context, shipped_sections):
    sections = {**shipped_sections, "student": config.Student()}  # as without [student]
    ctx = context.context_from(sections, recorded("derivations"),
                               {"q1": recorded_context["q1"], "q2": recorded_context["q2"]},
                               recorded_context["figures"])
    assert ctx["student_unset"] == ["[student] name", "[student] id"]
    assert recorded_context["student_unset"] == []


# --- the prose of every valid configuration ------------------------------------------------------

# Made-up runs: each variant's test accuracy starts at its speed and gains a point an epoch; seeds
# sit 0.2 points apart, so learning rates 0.3 * lr apart (0.01 vs 0.05: 1.2 points) are told apart.
ACTIVATION_SPEED = {"relu": 0.90, "tanh": 0.86, "sigmoid": 0.60}


def _made_up_run(settings, lr_helps: bool) -> dict:
    speed = (ACTIVATION_SPEED[settings.activation] + (0.3 if lr_helps else -0.3) * settings.lr
             + (0.01 if settings.loss == "ce" else 0.0))
    acc = [speed + 0.01 * epoch + 0.002 * settings.seed for epoch in range(settings.epochs)]
    return {"settings": dataclasses.asdict(settings), "variant": task1_runs.variant(settings),
            "history": {key: acc for key in task1.HISTORY_KEYS}, "diverged_epoch": None,
            "wall_time_s": 1.0}


def _context_for(base_context, lr_helps=True, **q1_config):
    """The quick context with Task 1's metrics as experiments/q1.py summarises made-up runs of
    a [q1] section with these values."""
    cfg = dataclasses.replace(tasks.Q1(), epochs=4, **q1_config)
    runs = {}
    for settings in task1_runs.run_settings(cfg):
        runs.setdefault(task1_runs.variant(settings), []).append(_made_up_run(settings, lr_helps))
    target = cfg.target_test_acc["mnist"]
    summaries = {name: task1_runs.summarise(each, target) for name, each in runs.items()}
    main = summaries[task1_runs.variant(task1_runs.run_settings(cfg)[0])]
    q1 = {**base_context["q1"], "main": {**base_context["q1"]["main"], **main},
          "ablations": task1_runs.ablation_tables(summaries, cfg),
          "config": {**dataclasses.asdict(cfg), "target_test_acc": target}}
    return {**base_context, "q1": q1, "claims": claims.Claims(q1, base_context["q2"])}


# [q1] values, what Task 1's prose and the summary must say, and what they must not
VALID_Q1 = {
    "tanh only": ({"ablate_activation": ["tanh"]},
                  ["Of the activations, ReLU", "converged faster than tanh"], ["sigmoid"]),
    "no activation ablation": ({"ablate_activation": []}, ["Of the learning rates"],
                               ["Of the activations", "sigmoid"]),
    "no learning-rate ablation": ({"ablate_lr": []}, ["sigmoid claim is confirmed in direction"],
                                  ["Of the learning rates", "learning-rate claim"]),
    # ReLU ahead of sigmoid, over the seeds: said in the template's own words, as a declared claim
    "no loss ablation": ({"ablate_loss": []}, ["Saturating sigmoid units trailed ReLU"],
                         ["Of the losses", "Of the activations"]),
    "sigmoid main, ReLU ablated": ({"activation": "sigmoid", "ablate_activation": ["relu"]},
                                   ["sigmoid claim is confirmed in direction"], []),
    "sigmoid main alone": ({"activation": "sigmoid"}, ["Of the learning rates"],
                           ["Of the activations", "sigmoid claim"]),
    "the draft's rate fastest": ({"lr_helps": False}, ["learning-rate claim is confirmed"], []),
    "the draft's rate slowest": ({}, ["learning-rate claim is contradicted"], []),
    "no run at 0.01": ({"lr": 0.05, "ablate_lr": [0.1]}, ["Of the learning rates"],
                       ["learning-rate claim"]),
    "nothing ablated": ({"ablate_activation": [], "ablate_lr": [], "ablate_loss": [],
                         "ablate_hidden": []},
                        ["test accuracy"], ["Speed of convergence", "draft's claim", "fastest"]),
}


@pytest.mark.parametrize("case", VALID_Q1)
def test_every_valid_q1_section_renders_prose_that_follows_its_numbers(recorded_context, tmp_path,
                                                                      case):
    values, says, never = VALID_Q1[case]
    ctx = _context_for(recorded_context, **values)
    render.render_all(ctx, tmp_path)
    prose = " ".join((tmp_path / f"{name}.tex").read_text() for name in ("q1", "summary"))
    prose = " ".join(prose.split())
    for phrase in says:
        assert phrase in prose
    for phrase in never:
        assert phrase not in prose


@pytest.mark.slow
def test_every_valid_q1_section_typesets(quick_context, tmp_path):
    # One document holding every case's Task 1 section and summary: one LaTeX run, not one a case
    build = tmp_path / "build"
    line_maps = render.render_all(quick_context, build)
    sections = {"q1": [], "summary": []}
    for number, (values, _, _) in enumerate(VALID_Q1.values()):
        render.render_all(_context_for(quick_context, **values), build / f"case{number}")
        for name, inputs in sections.items():
            inputs.append(rf"\input{{case{number}/{name}}}")
    main = (build / "main.tex").read_text()
    for name, inputs in sections.items():
        assert main.count(rf"\input{{{name}}}") == 1, name
        main = main.replace(rf"\input{{{name}}}", "\n".join(inputs))
    (build / "main.tex").write_text(main)
    latex.typeset(build, tmp_path / "report.pdf", line_maps)
    text = _flat(_text(tmp_path / "report.pdf"))
    for case, (_, says, _) in VALID_Q1.items():
        assert all(_flat(phrase) in text for phrase in says), case


def test_escaping_and_number_filters():
    assert render.escape("50% & #1_x") == r"50\% \& \#1\_x"
    assert render.escape(r'\input{a} "b"') == r"{\textbackslash}input\{a\} \textquotedbl{}b\textquotedbl{}"
    # LuaLaTeX reads UTF-8: other scripts pass through, decomposed accents are composed
    assert render.escape("Анна שי Nguye\u0302\u0303n") == "Анна שי Nguyễn"
    assert render.pct(0.96774, 2, 0.0012) == r"\qty{96.77 +- 0.12}{\percent}"
    assert render.num(0.69314, 3) == r"\num{0.693}"
    with pytest.raises(ReportError):
        render.num(None)


def test_a_deleted_config_is_named_by_make_not_no_rule_to_make_target(tmp_path):
    for folder in ("pipeline", "hw1", "derivations", "experiments", "report", "templates"):
        shutil.copytree(paths.ROOT / folder, tmp_path / folder)
    shutil.copy(paths.ROOT / "Makefile", tmp_path)
    (tmp_path / ".venv").symlink_to(paths.ROOT / ".venv")
    # -o: take the environment as set up, so that make never reinstalls it from this copy
    done = subprocess.run(["make", "--no-print-directory", "-o", ".venv/.setup-done", "report"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode != 0 and "No rule to make target" not in done.stderr
    assert "error: config.toml is missing; `git checkout config.toml` restores" in done.stderr


@pytest.mark.slow
def test_a_template_edit_retypesets_without_rerunning_experiments(quick_context):
    assert _make("report").returncode == 0
    template = paths.TEMPLATES / "summary.tex.j2"
    os.utime(template)  # as if the prose were edited
    plan = _make("report", dry=True).stdout
    assert "report build" in plan
    assert "experiments.q1" not in plan and "experiments.q2" not in plan and "derivations" not in plan
    assert _make("report").returncode == 0


# --- the same report on another dataset, from one line of config.toml ---------------------------

def _switch_dataset(repo, dataset):
    path = repo / "config.toml"
    text, count = re.subn(r'(?m)^dataset = "[^"]*"', f'dataset = "{dataset}"', path.read_text())
    assert count == 1, "config.toml has one [data] dataset line"
    path.write_text(text)


def _make_in(repo, *targets, dry=False):
    cmd = ["make", "--no-print-directory", *(["-n"] if dry else []), *targets]
    return subprocess.run(cmd, cwd=repo, env={**os.environ, "QUICK": "1"}, capture_output=True,
                          text=True)


@pytest.mark.slow
def test_one_config_line_gives_the_whole_quick_report_on_fashion_mnist(tmp_path):
    repo = repository_copy(tmp_path / "repo", linked=(".venv", "data"))
    _switch_dataset(repo, "fashion-mnist")
    plan = _make_in(repo, "report", dry=True).stdout
    assert "ensure_tex" not in plan and "pip install" not in plan, "the copy must reuse .venv/"

    built = _make_in(repo, "report")
    assert built.returncode == 0, built.stderr + built.stdout
    results = repo / "results" / "quick"
    metrics = json.loads((results / "fashion-mnist" / "q1" / "metrics.json").read_text())
    assert metrics["provenance"]["dataset"] == "fashion-mnist"
    assert metrics["provenance"]["data_md5"] == FASHION_MNIST.md5, "verified before the run"
    assert not (results / "q1").exists(), "no MNIST results were made, none were mixed in"

    text = _flat(subprocess.run(["pdftotext", str(repo / "report" / "report-quick.pdf"), "-"],
                                capture_output=True, text=True, check=True).stdout)
    for shown in ("Homework1,onFashion-MNIST", "anMLPtrainedfromscratchonFashion-MNIST",
                  "128Fashion-MNISTtrainingimages", "theclass'sparity", "Fashion-MNISTfile",
                  "T-shirt/top", "Ankleboot",  # the figures' class names
                  f"{100 * metrics['main']['test_acc_mean']:.2f}"):
        assert shown in text, shown
    for mnist_only in ("thedraftreportedabout", "Thedraft'sclaims,measured", "onMNIST"):
        assert mnist_only not in text, mnist_only

    # Back to MNIST: its own results are made, Fashion-MNIST's never shown; then to Fashion-MNIST
    # again: its results are reused and the PDF re-typeset from them.
    for dataset, experiments_run in (("mnist", True), ("fashion-mnist", False)):
        _switch_dataset(repo, dataset)
        assert _make_in(repo, "results/quick/.config/data.json").returncode == 0
        plan = _make_in(repo, "report", dry=True).stdout
        assert ("experiments.q1 run" in plan) is experiments_run, plan
        assert "report build" in plan and "derivations build" not in plan, plan


# --- template text is prose: the sandbox, TeX's confinement, deleted templates -------------------

SANDBOX_ESCAPES = [
    '((( cycler.__init__.__globals__.os.popen("touch {marker}").read() )))',
    '((( joiner.__init__.__globals__.os.popen("touch {marker}").read() )))',
    '((( namespace.__init__.__globals__.os.popen("touch {marker}").read() )))',
    '((( "".__class__.__mro__[1].__subclasses__() )))',
    '((( claims.__init__.__globals__ )))',
    '((( eq.__globals__ )))',
    '((( self.__init__ )))',
    '((( "{{0.__class__}}".format(q1) )))',
    '((( q1.main.update({{"saved_test_acc": 1.0}}) )))',
]


@pytest.mark.parametrize("line", SANDBOX_ESCAPES)
def test_a_template_cannot_reach_python_internals(recorded_context, tmp_path, line):
    marker = tmp_path / "ran"
    templates = _templates_with(tmp_path, "summary.tex.j2", 3, line.format(marker=marker))
    with pytest.raises(ReportError) as err:
        render.render_all(recorded_context, tmp_path / "build", templates)
    assert str(err.value).startswith("templates/summary.tex.j2:3: refused: access to attribute")
    assert str(err.value).endswith("not Python's internals")
    assert not marker.exists()


@pytest.mark.parametrize("name", ["lipsum", "range", "dict", "cycler"])
def test_jinjas_default_globals_are_gone(recorded_context, tmp_path, name):
    templates = _templates_with(tmp_path, "summary.tex.j2", 3, f"((( {name} )))")
    with pytest.raises(ReportError, match=f"summary.tex.j2:3: undefined variable: '{name}'"):
        render.render_all(recorded_context, tmp_path / "build", templates)


def test_an_include_of_a_system_file_is_refused(recorded_context, tmp_path):
    templates = _templates_with(tmp_path, "summary.tex.j2", 3, '((* include "/etc/passwd" *))')
    with pytest.raises(ReportError, match=r"summary.tex.j2:3: no template '/etc/passwd'"):
        render.render_all(recorded_context, tmp_path / "build", templates)


def test_counts_have_their_noun_in_the_right_number():
    assert render.counted(1, "seed") == "1 seed" and render.counted(3, "seed") == "3 seeds"


OUTSIDE = "TeX reads only the build folder, the figures and TeX's own files"


@pytest.mark.slow
@pytest.mark.parametrize("line, refused", [
    (r"{\catcode`\_=12 \ttfamily \input{/etc/passwd}}", "/etc/passwd.tex is outside the build folder"),
    (r"\input{/etc/hostname}", "/etc/hostname.tex is outside the build folder"),
    (r"\input{../../config.toml}", "../../config.toml is outside the build folder"),
    (r'\directlua{tex.print(io.open("/etc/passwd"):read("a"))}', "TeX may not read /etc/passwd"),
    (r'\directlua{for l in io.lines("/etc/hostname") do tex.print(l) end}',
     "TeX may not read /etc/hostname"),
    (r'\directlua{dofile("/etc/passwd")}', "TeX may not read /etc/passwd"),
])
def test_tex_reads_nothing_outside_the_build(quick_context, tmp_path, line, refused):
    templates = _templates_with(tmp_path, "summary.tex.j2", 3, line)
    with pytest.raises(ReportError) as err:
        _build(quick_context, tmp_path, templates)
    message = str(err.value)
    assert message.startswith(f"templates/summary.tex.j2:3: LaTeX error: {refused}"), message
    assert OUTSIDE in message
    assert not (tmp_path / "report.pdf").exists()


@pytest.mark.slow
@pytest.mark.parametrize("lua", [
    'local f = io.open("{marker}", "w") f:write("x") f:close()',
    'os.rename("main.tex", "{marker}")',
    'os.execute("touch {marker}")',
    'io.popen("touch {marker}")',
    'local open = debug.getupvalue(io.open, 1) open("{marker}", "w"):close()',
    'lfs.chdir("/") io.open("{marker}", "w"):close()',
    'load(string.dump(function() io.open("{marker}", "w"):close() end))()',
])
def test_directlua_writes_nothing_outside_the_build(quick_context, tmp_path, lua):
    marker = tmp_path / "outside"
    templates = _templates_with(tmp_path, "summary.tex.j2", 3,
                                r"\directlua{" + lua.replace("{marker}", str(marker)) + "}")
    with pytest.raises(ReportError, match=r"^templates/summary.tex.j2:3: LaTeX error: "):
        _build(quick_context, tmp_path, templates)
    assert not marker.exists()


@pytest.mark.slow
def test_tex_still_writes_and_reads_its_own_build_folder(quick_context, tmp_path):
    templates = _templates_with(tmp_path, "summary.tex.j2", 2,
                                r'\directlua{local f = io.open("own.txt", "w") f:write("kept") '
                                r'f:close() tex.print(io.open("own.txt"):read("a"))}')
    pdf, _ = _build(quick_context, tmp_path, templates)
    assert (tmp_path / "build" / "own.txt").read_text() == "kept" and "kept" in _text(pdf)


def test_a_deleted_template_is_named_and_its_old_rendering_never_typeset(recorded_context, tmp_path):
    build = tmp_path / "build"
    render.render_all(recorded_context, build)
    templates = tmp_path / "templates"
    shutil.copytree(paths.TEMPLATES, templates)
    (templates / "summary.tex.j2").unlink()
    with pytest.raises(ReportError) as err:
        render.render_all(recorded_context, build, templates)
    assert re.match(r"templates/main.tex.j2:\d+: \\input\{summary\}, but there is no "
                    r"templates/summary.tex.j2 \(deleted or renamed\?\); restore it", str(err.value))
    assert not (build / "summary.tex").exists(), "the stale rendering is gone"
    (templates / "q2.tex.j2").rename(templates / "random_labels.tex.j2")  # renamed: also named
    with pytest.raises(ReportError, match=r"\\input\{q2\}, but there is no templates/q2.tex.j2"):
        render.render_all(recorded_context, build, templates)


@pytest.mark.slow
def test_make_notices_a_deleted_template(quick_context, tmp_path):
    assert _make("report").returncode == 0
    repo = repository_copy(tmp_path / "repo", linked=(".venv", "data"))
    for built in ("results", "report/build", "report/report-quick.pdf",  # with their times
                  "report/.written.json"):
        copy = shutil.copytree if (paths.ROOT / built).is_dir() else shutil.copy2
        copy(paths.ROOT / built, repo / built, **({"symlinks": True} if copy is shutil.copytree else {}))
    assert "is up to date" in _make_in(repo, "report").stdout, "up to date at first"
    (repo / "templates" / "summary.tex.j2").unlink()
    assert "report build" in _make_in(repo, "report", dry=True).stdout
    done = _make_in(repo, "report")
    assert done.returncode != 0
    assert re.search(r"error: templates/main.tex.j2:\d+: \\input\{summary\}, but there is no "
                     r"templates/summary.tex.j2", done.stderr), done.stderr


@pytest.mark.slow
def test_figures_are_copied_into_the_build_where_tex_may_read_them(quick_context, tmp_path):
    render.render_all(quick_context, tmp_path / "build")
    q2 = (tmp_path / "build" / "q2.tex").read_text()
    assert r"\includegraphics[width=\textwidth]{figures/q2_loss.pdf}" in q2
    assert (tmp_path / "build" / "figures" / "q2_loss.pdf").read_bytes() == \
        paths.figures(tasks.BY_NAME["q2"], "mnist", QUICK_RESULTS)["q2_loss"].read_bytes()


# --- the audit of the shipped templates and of a student's edit ------------------------------------

report_build = importlib.import_module("report.__main__")


def test_the_shipped_templates_pass_the_audit_with_zero_findings(recorded_context, tmp_path):
    found = audit.Audit()
    render.render_all({**recorded_context, "typed_numbers": found.typed_table}, tmp_path, audit=found)
    assert [str(f) for f in found.sorted_findings()] == []
    assert found.count("relation", "definition") >= 20 and found.count("claim") >= 10
    # the two facts from elsewhere, listed in the appendix with their template lines
    assert [r.source for _, _, r in found.typed_numbers()] == ["the draft's test accuracy", "the course's number"]
    assert "the draft's test accuracy" in (tmp_path / "appendix.tex").read_text()


@pytest.mark.parametrize("name, line_no, text, expected", [
    ("q1.tex.j2", 30, r"We reached 97~\% test accuracy.",
     '"97 %" is typed by hand and will not follow the results; write ((( q1.'),
    ("q2.tex.j2", 12, r"Sigmoid converged faster than ReLU.",
     "a comparison of this report's variants typed by hand (it names two activations"),
    ("theory.tex.j2", 32, r"Also $\frac{\partial L_{\mathrm{CE}}}{\partial z_k} = \hat{y}_k + y_k$.",
     r"the typed step `\frac{\partial L_{\mathrm{CE}}}{\partial z_k} = \hat{y}_k + y_k` is wrong: at n = 2"),
])
def test_make_report_stops_with_every_finding_and_typesets_nothing(recorded_context, tmp_path, name,
                                                                    line_no, text, expected):
    templates = _templates_with(tmp_path, name, line_no, text)
    pdf = tmp_path / "report.pdf"
    with pytest.raises(report_build.AuditError) as err:
        report_build.build(paths.QUICK_MODE, recorded_context, templates, tmp_path / "build", pdf)
    first, *rest = str(err.value).split("\n")
    findings = [line for line in rest if line.startswith("  ")]
    assert first.startswith("the audit found 1 thing(s) typed by hand in the templates, so no PDF")
    assert len(findings) == 1 and findings[0].startswith(f"  templates/{name}:{line_no}: ")
    assert expected in findings[0]
    assert not pdf.exists()
    assert "FAILED with 1 findings" in (tmp_path / "build" / "audit.txt").read_text()


@pytest.mark.slow
def test_warn_mode_typesets_a_draft_that_says_it_failed_the_audit(quick_context, tmp_path):
    templates = _templates_with(tmp_path, "q1.tex.j2", 30, r"We reached 97~\% test accuracy.")
    ctx = {**quick_context, "report": {**quick_context["report"], "audit": "warn"}}
    info = report_build.build(paths.QUICK_MODE, ctx, templates, tmp_path / "build", tmp_path / "report.pdf")
    assert info["audit"] == "failed"
    assert _flat("AUDIT FAILED: 1 number(s), relation(s) or comparison(s)") in _flat(_first_page_text(tmp_path / "report.pdf"))
    with pytest.raises(SubmissionError, match="did not pass its audit"):
        submission.check_audit(info, tmp_path / "build" / "build.json")


# --- the saved weights' numbers are stated only for the weights they describe -------------------

def _results_copy(tmp_path):
    copy = tmp_path / "results"
    shutil.copytree(QUICK_RESULTS, copy, symlinks=True)
    return copy


@pytest.mark.parametrize("task", ["q1", "q2"])
def test_missing_or_other_weights_stop_the_report_with_a_hint_that_works(quick_context, tmp_path, task):
    results = _results_copy(tmp_path)
    sections = config.load(quick=True)
    context.load_results(task, sections, results)  # as written: accepted
    weights_file = results / task / f"{task}_weights.pkl"
    shown = paths.relative(weights_file)
    weights_file.unlink()
    with pytest.raises(ReportError) as err:
        context.load_results(task, sections, results)
    assert str(err.value) == (f"{shown} is missing, so {paths.relative(results / task / 'metrics.json')} "
                              f"describes weights that are not there; run `make experiments` to "
                              f"train them again")
    # valid weights, but not these: every tensor moved a little, saved as the project saves
    content = torch.load(paths.weights(task, "mnist", QUICK_RESULTS), weights_only=True)
    meta = content.pop("meta")
    weights.save(weights_file, {k: v + 1e-3 for k, v in content.items()}, meta)
    os.utime(weights_file, (0, 0))  # older than everything: Make would see nothing to do
    with pytest.raises(ReportError) as err:
        context.load_results(task, sections, results)
    assert str(err.value) == (f"{shown} is not the weights file {paths.relative(results / task / 'metrics.json')} "
                              f"describes (its sha256 differs); delete {shown} and run `make "
                              f"experiments` to train it again")


def test_a_template_saved_in_another_encoding_is_one_line_naming_its_line(recorded_context, tmp_path):
    folder = tmp_path / "templates"
    shutil.copytree(paths.TEMPLATES, folder)
    with open(folder / "q2.tex.j2", "ab") as q2:
        q2.write("The network\u2019s loss.\n".encode("cp1252"))  # a Windows export's apostrophe
    lines = (folder / "q2.tex.j2").read_bytes().count(b"\n")
    with pytest.raises(ReportError) as err:
        render.render_all(recorded_context, tmp_path / "build", folder)
    assert str(err.value) == (f"templates/q2.tex.j2:{lines} is not UTF-8 (byte 0x92); save it as "
                              f"UTF-8 (an export in Latin-1 or UTF-16 is not)")
