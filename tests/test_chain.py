"""Typed derivation chains (derivations/chain*.py, report/audit/derivation_steps.py): every step
proven by SymPy and compared with autograd, the first wrong one named with a counterexample, what
cannot be read refused by its token. Pure functions and the audit's renderer; no LaTeX."""
import json
import re

import pytest

from derivations import chain, chain_cli
from derivations.chain_ast import ChainError
from report.audit import derivation_steps as steps_mod
from report.errors import ReportError

QUOTIENT = r"\frac{\partial}{\partial z_k} \frac{e^{z_i}}{\sum_{j=1}^{n} e^{z_j}}"
JACOBIAN = r"\frac{\partial \hat{y}_i}{\partial z_k}"
THREE_STEPS = (rf"{JACOBIAN} = {QUOTIENT} = \frac{{\delta_{{ik}} e^{{z_i}} \sum_j e^{{z_j}} - "
               r"e^{z_i} e^{z_k}}{\left(\sum_j e^{z_j}\right)^2} = \hat{y}_i (\delta_{ik} - \hat{y}_k)")
WRONG_MIDDLE = THREE_STEPS.replace(r"- e^{z_i} e^{z_k}}", r"+ e^{z_i} e^{z_k}}")

# The draft's derivation as it typed it (seed), in its setting z_k = f_k(w_k)
DRAFT_DIAGONAL = (
    r"\frac{\partial \hat{y}_i}{\partial w_i} &= \frac{e^{f(w,x)_i} \cdot f'(w,x)_i \cdot "
    r"\sum_{j=0}^n e^{f(w,x)_j} - e^{f(w,x)_i} \cdot e^{f(w,x)_i} \cdot f'(w,x)_i}{\left(\sum_{j=0}^n "
    r"e^{f(w,x)_j}\right)^2} = \\ &= \frac{f'(w,x)_i \cdot e^{f(w,x)_i}}{\sum_{j=0}^n e^{f(w,x)_j}} - "
    r"\frac{(e^{f(w,x)_i})^2}{\sum_{j=0}^n e^{f(w,x)_j}} = SM(x)_i (f'(w,x)_i - SM(x)_i)")
DRAFT_OFFDIAGONAL = (
    r"\frac{\partial \hat{y}_i}{\partial w_k} &= \frac{0 - e^{f(w,x)_i} \cdot e^{f(w,x)_k} \cdot "
    r"f'(w,x)_k}{\left(\sum_{j=0}^n e^{f(w,x)_j}\right)^2} = \frac{e^{f(w,x)_i}}{\sum_{j=0}^n "
    r"e^{f(w,x)_j}} \cdot \frac{f'(w,x)_k \cdot e^{f(w,x)_k}}{\sum_{j=0}^n e^{f(w,x)_j}} \\ &= "
    r"SM(x)_i \cdot SM(x)_k \cdot f'(w,x)_k \quad (k \neq i)")


def _statuses(math: str) -> list[str]:
    return ["verified" if s.verified else "refuted" if s.refuted else "unproven"
            for s in chain.check_math(math)]


def test_a_correct_three_step_derivation_is_verified_step_by_step():
    verdict = steps_mod.judge(THREE_STEPS)
    assert verdict.problem is None and len(verdict.steps) == 3
    assert all(s.verified and s.detail.startswith("max |autograd - formula| = ") for s in verdict.steps)
    assert [s.offset for s in verdict.steps] == [m.start() + 1 for m in re.finditer(" = ", THREE_STEPS)]


def test_a_wrong_middle_step_is_refuted_at_its_sign_with_a_counterexample():
    verdict = steps_mod.judge(WRONG_MIDDLE)
    assert [s.verified for s in verdict.steps] == [True, False, False]
    second_sign = [m.start() + 1 for m in re.finditer(" = ", WRONG_MIDDLE)][1]
    assert verdict.problem_offset == second_sign
    assert re.search(r"is wrong: at n = \d, i = \d, k = \d, z = \(.*\): the left side is -?[\d.]+, "
                     r"the right side -?[\d.]+", verdict.problem)


def test_the_drafts_derivation_typed_as_written_goes_wrong_where_it_does():
    """k = i: the quotient rule is right, splitting the fraction drops f' (wrong), and its last
    step does not follow either; k != i: the split loses the minus sign, the rest follows."""
    assert _statuses(DRAFT_DIAGONAL) == ["verified", "refuted", "refuted"]
    assert _statuses(DRAFT_OFFDIAGONAL) == ["verified", "refuted", "verified"]


VALID_STEPS = [  # other notations, each a step that holds
    r"\hat{y}_i = \frac{\exp(z_i)}{\sum_{j=1}^{n} \exp(z_j)}",
    r"\hat{y}_i = e^{f(x; w)_i} / \sum_j e^{f_j}",
    r"\log \hat{y}_i = z_i - \ln \sum_j e^{z_j}",
    r"L_{\mathrm{CE}} = -\sum_{j=1}^{n} y_j \log \hat{y}_j",
    r"L_{\mathrm{MSE}} = \sum_j (\hat{y}_j - y_j)^2",
    r"\hat{y}_i (1 - \hat{y}_i) = \hat{y}_i - \hat{y}_i^2 = \hat{y}_i \cdot (1 - \hat{y}_i)",
    r"\frac{\partial L_{\mathrm{MSE}}}{\partial \hat{y}_j} = 2 (\hat{y}_j - y_j)",
    r"\frac{\partial \hat{y}_i}{\partial w} = \hat{y}_i \left(f'_i - \sum_j \hat{y}_j f'_j\right)",
    r"\frac{\partial \hat{y}_i}{\partial w_k} = \hat{y}_i (\delta_{ik} - \hat{y}_k) f'_k",
    r"\frac{\partial}{\partial w}\left(e^{z_i}\right) = e^{z_i} f'_i",
    r"\frac{\partial L}{\partial z_k} = \sum_j \frac{\partial L}{\partial \hat{y}_j} \hat{y}_j (\delta_{jk} - \hat{y}_k)",
    r"\frac{\partial \hat{y}_i}{\partial z_k} = \begin{cases} \hat{y}_i (1 - \hat{y}_i), & k = i, \\ "
    r"-\hat{y}_i \hat{y}_k, & \text{otherwise} \end{cases}",
    r"\frac{\partial L_{\mathrm{CE}}}{\partial z_k} = \hat{y}_k - y_k \quad \text{since } \sum_j y_j = 1",
    r"\mathrm{softmax}(z)_i \times \delta_{ii} = \hat{y}_i",
    r"\hat{y}_i = e^{z_i} / \sum_j e^{z_j}, \quad k = 1, \dots, n.",
    r"\hat{y}_i = e^{z_i} / \sum_j e^{z_j} \in (0, 1) \quad \forall i",
    r"\frac{\partial L_{\mathrm{MSE}}}{\partial z_k} = 2 \hat{y}_k (\hat{y}_k - y_k) - \\ "  # multline
    r"2 \hat{y}_k \sum_j \hat{y}_j (\hat{y}_j - y_j)",
    r"\hat y_i = \dfrac{\exp\left(z_i\right)}{\sum\limits_{j = 1}^{n} \exp(z_j)}",
    r"\hat{y_i} = \tfrac{\text{e}^{z_{i}}}{\sum^{n}_{j=1} \mathrm{e}^{z_{j}}}",
    r"\frac{\partial \hat{y}_{i}}{\partial z_{k}} = \hat{y}_{i} \left[\delta_{i k} - \hat{y}_{k}\right]",
    r"\frac{\partial \hat{y}_i}{\partial z_k} = \hat{y}_i(1-\hat{y}_k) \quad \text{for } k = i",
    r"\log\left(\sum_j e^{z_j}\right) = \ln \sum_{j=1}^{n} \exp(z_j)",
    r"-\frac{\partial}{\partial z_k} \sum_j y_j \log \hat{y}_j = \hat{y}_k \sum_j y_j - y_k",
    r"\frac{\partial L_{\text{MSE}}}{\partial z_k} = 2 \hat{y}_k \Big(\hat{y}_k - y_k - \sum_j "
    r"\hat{y}_j (\hat{y}_j - y_j)\Big)",
]


@pytest.mark.parametrize("math", VALID_STEPS)
def test_no_valid_step_is_refused(math):
    verdict = steps_mod.judge(math)
    assert verdict.problem is None and verdict.steps, verdict.problem


WRONG_STEPS = [  # hidden variants: each wrong somewhere
    (r"\frac{\partial \hat{y}_i}{\partial z_k} = \begin{cases} \hat{y}_i (1 - \hat{y}_i) & k = i \\ "
     r"\hat{y}_i \hat{y}_k & k \neq i \end{cases}", [True, False]),       # a wrong case
    (r"\frac{\partial \hat{y}_i}{\partial z_k} = -\hat{y}_i \hat{y}_k", [False]),  # needs k != i
    (r"\frac{\partial L_{\mathrm{CE}}}{\partial z_k} = \hat{y}_k - y_k", [False]),  # needs sum y = 1
    (r"\frac{\partial L}{\partial w} = \sum_j \frac{\partial L}{\partial \hat{y}_j} f'_j", [False]),
    (r"\log \hat{y}_i = z_i - \sum_j z_j", [False]),
]


@pytest.mark.parametrize("math, verified", WRONG_STEPS)
def test_wrong_variants_are_refuted_where_they_go_wrong(math, verified):
    verdict = steps_mod.judge(math)
    assert [s.verified for s in verdict.steps] == verified and "is wrong: at n = " in verdict.problem


def test_a_step_that_needs_the_targets_to_sum_to_one_says_how_to_declare_it():
    verdict = steps_mod.judge(r"\frac{\partial L_{\mathrm{CE}}}{\partial z_k} = \hat{y}_k - y_k")
    assert r"declare it, \text{since } \sum_j y_j = 1" in verdict.problem


UNREADABLE = [  # (math, what the message names)
    (r"\nabla_w L = 0", r"`\nabla` is not in the derivation language; write"),
    (r"\mathbf{y} = \hat{y}_i", r"`\mathbf`"),
    (r"x_i = \hat{y}_i", "`x_i` is not in the derivation language"),
    (r"\hat{y}_i = \input{/etc/passwd}", r"`\input` is not in the derivation language"),
    (r"\hat{y}_i \approx z_i", r"`\approx` is not in the derivation language"),
    (r"\hat{y} = z", r"\hat{y} needs its index"),
    (r"\hat{y}_i = \foo{z_i}", r"`\foo` is not in the derivation language"),
    (r"\hat{y}_i^{100000} = 1", "exponents are whole numbers"),
    ("(" * 40 + r"\hat{y}_i" + ")" * 40 + " = 1", "nested more than"),
    (" + ".join([r"\hat{y}_i"] * 10_000) + " = 1", "at most"),
    (r"\hat{y}_i^{12}\hat{y}_k^{12}\hat{y}_i^{12} = 1", "too large to prove exactly"),
    (r"\sum_{j=1}^{n} \hat{y}_j = \sum_{j=0}^{n} \hat{y}_j", "number the classes differently"),
    (r"\frac{\partial f'_k}{\partial w_k} = 0", "second derivative"),
    (r"\frac{\partial}{\partial w} \frac{\partial \hat{y}_i}{\partial w} = 0", "second derivative"),
    (r"\hat{y}_i = ", "ends with `=`"),
    (r"\hat{y}_i = e^{z_i} / \sum_j e^{z_j}, \quad \nabla L", "stands beside the chain"),
]


@pytest.mark.parametrize("math, named", UNREADABLE)
def test_what_cannot_be_read_is_refused_naming_its_token(math, named):
    verdict = steps_mod.judge(math)
    assert verdict.problem and named in verdict.problem and not verdict.steps
    assert "\n" not in verdict.problem


def test_math_without_a_chain_is_nothing_to_check():
    for math in (r"k \neq i", r"\sum_j y_j = 1", r"\hat{y}_i (\delta_{ik} - \hat{y}_k)"):
        assert steps_mod.judge(math) is None


def test_outcomes_are_cached_on_disk_by_text_and_code(tmp_path):
    steps_mod.use_cache(tmp_path)
    try:
        first = steps_mod.judge(THREE_STEPS)
        assert (tmp_path / steps_mod.CACHE_FILE).is_file()
        steps_mod.use_cache(tmp_path)          # a new build reads the file
        again = steps_mod.judge("  " + THREE_STEPS)
        assert steps_mod.cache_stats() == {"hits": 1, "misses": 0}
        assert [s.verified for s in again.steps] == [s.verified for s in first.steps]
        assert [s.offset for s in again.steps] == [s.offset + 2 for s in first.steps]
    finally:
        steps_mod.use_cache(None)


def test_a_damaged_cache_is_checked_again(tmp_path):
    (tmp_path / steps_mod.CACHE_FILE).write_text('{"code": "x", "chains": ')
    steps_mod.use_cache(tmp_path)
    try:
        assert steps_mod.judge(THREE_STEPS).problem is None
        stored = json.loads((tmp_path / steps_mod.CACHE_FILE).read_text())
        for key in stored["chains"]:
            stored["chains"][key] = [{"verified": "yes"}]   # edited by hand
        (tmp_path / steps_mod.CACHE_FILE).write_text(json.dumps(stored))
        steps_mod.use_cache(tmp_path)
        assert steps_mod.judge(THREE_STEPS).problem is None
        assert steps_mod.cache_stats() == {"hits": 0, "misses": 1}
    finally:
        steps_mod.use_cache(None)


def test_the_command_line_reads_a_chain_with_or_without_its_left_side():
    text, code = chain_cli.run(THREE_STEPS)
    assert code == 0 and text.endswith("all 3 steps verified (SymPy, n = 2..6; autograd)")
    text, code = chain_cli.run(r"= \hat{y}_i \delta_{ik} - \hat{y}_i \hat{y}_k = \hat{y}_i (\delta_{ik} + \hat{y}_k)")
    assert code == 1 and "step 2 refuted" in text and text.endswith("fails at step 2 of 2")
    text, code = chain_cli.run(r"-\hat{y}_i \hat{y}_k f'_k", wrt="w", cases="offdiagonal")
    assert code == 0
    text, code = chain_cli.run(f"$${THREE_STEPS}$$")   # pasted with its delimiters
    assert code == 0
    with pytest.raises(ChainError) as err:
        chain_cli.run(r"\nabla L = 0")
    assert err.value.exit_code == 2 and r"`\nabla`" in str(err.value)


# --- in a template: the audit and a chain shown wrong on purpose --------------------------------

def _render(tmp_path, body: str):
    from report.audit import run as audit
    from report.render import jinja as render
    from report.render.context import derivation_steps
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "theory.tex.j2").write_text(body)
    found = audit.Audit()
    render.render_all({"shown_wrong": derivation_steps.shown_wrong}, tmp_path / "build", folder,
                      audit=found)
    return [str(f) for f in found.sorted_findings()], found


def test_a_template_derivation_is_counted_and_a_wrong_step_stops_at_its_line(tmp_path):
    rows = THREE_STEPS.replace(" = ", "\n  &= ")
    findings, found = _render(tmp_path, f"Text\n\\begin{{align*}}\n{rows}\n\\end{{align*}}\n")
    assert findings == [] and found.typed_steps.record()["steps"] == 3
    assert "3 typed derivation steps in 1 chains" in found.summary(0.01)
    wrong = WRONG_MIDDLE.replace(" = ", "\n  &= ")
    (tmp_path / "templates").rename(tmp_path / "old")
    findings, _ = _render(tmp_path, f"Text\n\\begin{{align*}}\n{wrong}\n\\end{{align*}}\n")
    assert len(findings) == 1 and findings[0].startswith("templates/theory.tex.j2:5: the typed step")


def test_a_typed_step_beside_an_inserted_identity_is_checked_with_its_latex(tmp_path):
    from tests.test_audit import _context
    from report.audit import run as audit
    from report.render import jinja as render
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "theory.tex.j2").write_text(
        '$((( eq("ce_logits").lhs ))) = -\\sum_j y_j (\\delta_{jk} - \\hat{y}_k)$ and\n'
        '$((( eq("ce_logits").lhs ))) = \\hat{y}_k + y_k$\n')
    found = audit.Audit()
    render.render_all({**_context(), "typed_numbers": found.typed_table}, tmp_path / "build", folder,
                      audit=found)
    findings = [str(f) for f in found.sorted_findings()]
    assert len(findings) == 1 and findings[0].startswith("templates/theory.tex.j2:2: the typed step")
    assert found.typed_steps.record()["steps"] == 1


def test_a_chain_shown_wrong_must_go_wrong_at_the_declared_step(tmp_path):
    block = "((* call shown_wrong(2) *))\n\\begin{align*}\n" + DRAFT_OFFDIAGONAL + "\n\\end{align*}\n((* endcall *))\n"
    findings, _ = _render(tmp_path, block)
    built = (tmp_path / "build" / "theory.tex").read_text()
    assert findings == [] and "step~2 (equality sign 2) is where it goes wrong" in built
    (tmp_path / "templates").rename(tmp_path / "old")
    with pytest.raises(ReportError, match=r"declared wrong at step 3, but step 2 is the first"):
        _render(tmp_path, block.replace("shown_wrong(2)", "shown_wrong(3)"))
    (tmp_path / "templates").rename(tmp_path / "older")
    with pytest.raises(ReportError, match=r"shown_wrong holds math only"):  # prose would pass unaudited
        _render(tmp_path, block.replace("\\begin{align*}", "We reached 97 %. \\begin{align*}"))


def test_the_shipped_report_counts_an_added_derivation_and_stops_at_a_wrong_step(recorded_context,
                                                                                 tmp_path):
    """The shipped templates with a three-step derivation added to the theory: counted beside
    the shipped ones; with its middle step wrong, the build stops at that step's line."""
    import shutil

    from pipeline import paths
    from report import __main__ as report_build
    from report.audit import run as audit
    from report.render import jinja as render

    def templates_with(folder, derivation):
        shutil.copytree(paths.TEMPLATES, folder)
        theory = folder / "theory.tex.j2"
        rows = derivation.replace(" = ", "\n  &= ")
        theory.write_text(theory.read_text() + f"\\begin{{align*}}\n{rows}\n\\end{{align*}}\n")
        lines = theory.read_text().split("\n")
        return folder, [n for n, line in enumerate(lines, start=1) if "&=" in line][-2]

    shipped = audit.Audit()
    render.render_all(recorded_context, tmp_path / "shipped", paths.TEMPLATES, audit=shipped)
    folder, _ = templates_with(tmp_path / "right", THREE_STEPS)
    added = audit.Audit()
    render.render_all(recorded_context, tmp_path / "build", folder, audit=added)
    assert added.findings == [] and shipped.findings == []
    assert added.typed_steps.steps == shipped.typed_steps.steps + 3
    assert added.typed_steps.chains == shipped.typed_steps.chains + 1
    folder, second = templates_with(tmp_path / "wrong", WRONG_MIDDLE)  # its second step's line
    with pytest.raises(report_build.AuditError) as err:
        report_build.build(paths.QUICK_MODE, recorded_context, folder, tmp_path / "wrong_build", tmp_path / "r.pdf")
    findings = [line for line in str(err.value).split("\n") if line.startswith("  templates/")]
    assert len(findings) == 1
    assert findings[0].startswith(f"  templates/theory.tex.j2:{second}: the typed step")
    assert re.search(r"is wrong: at n = \d, i = \d, k = \d, z = \(", findings[0])


@pytest.mark.slow  # each run imports torch anew
def test_check_chain_exit_codes_as_check():
    import subprocess
    import sys

    from pipeline import paths

    def run(*args):
        return subprocess.run([sys.executable, "-m", "derivations", "check", "--chain", *args],
                              capture_output=True, text=True, cwd=paths.ROOT, timeout=300)
    assert run(THREE_STEPS).returncode == 0
    wrong = run(WRONG_MIDDLE)
    assert wrong.returncode == 1 and "the chain fails at step 2 of 3" in wrong.stdout
    bad = run(r"\nabla L = 0")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and r"`\nabla`" in bad.stderr
