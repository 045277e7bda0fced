"""Derivations: SymPy proofs, agreement with torch autograd, refuted claims, pinned LaTeX, the CLI
and what it does with hostile input."""
import dataclasses
import json
import random
import subprocess
import sys
import time

import pytest
import sympy as sp

from derivations import build, claims, formula, softmax, verify
from derivations.__main__ import main
from derivations.notation import latex, minus, product, yhat, i, k
from pipeline import paths

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.mark.parametrize("identity", softmax.IDENTITIES, ids=lambda x: x.id)
@pytest.mark.parametrize("n", [2, 3, 6])
def test_sympy_proves_each_closed_form(identity, n):
    assert softmax.prove(identity, n)


@pytest.mark.parametrize("identity", softmax.IDENTITIES, ids=lambda x: x.id)
def test_each_closed_form_matches_autograd(identity):
    result = verify.verify(identity, n_values=range(2, 7), points=20)
    assert result["max_abs_err"] <= 1e-10


def test_a_wrong_closed_form_fails_both_the_proof_and_autograd():
    flipped = dataclasses.replace(softmax.BY_ID["softmax_jacobian"], closed=product(
        yhat[i], sp.Add(sp.KroneckerDelta(i, k), yhat[k], evaluate=False)))
    assert not softmax.prove(flipped, 3)
    assert verify.verify(flipped, n_values=[3], points=4)["max_abs_err"] > 1e-3


def test_the_drafts_two_formulas_are_refuted_with_counterexamples():
    draft = {c.id: c for c in claims.DRAFT_CLAIMS}
    for claim_id in ("draft_diagonal", "draft_offdiagonal"):
        c = draft[claim_id]
        result = claims.check(formula.parse(c.formula), c.wrt, c.cases)
        assert result["status"] == "refuted"
        ce = result["counterexample"]
        assert abs(ce["expected"] - ce["got"]) > 1e-9
        assert (ce["i"] == ce["k"]) == (c.cases == "diagonal")
    fixed = draft["corrected_cases"]
    assert claims.check(formula.parse(fixed.formula), fixed.wrt, fixed.cases)["status"] == "verified"


@pytest.mark.parametrize("text, status", [
    ("y_i*(KroneckerDelta(i,k) - y_k)", "verified"),
    ("KroneckerDelta(i,k)*y_i - y_i*y_k", "verified"),
    ("y_i*(KroneckerDelta(i,k) + y_k)", "refuted"),   # a correct identity with a flipped sign
    ("y_i*(1 - y_k)", "refuted"),                      # right only on the diagonal
])
def test_claims_about_the_softmax_jacobian(text, status):
    assert claims.check(formula.parse(text))["status"] == status


def test_an_unreadable_claim_names_the_problem():
    with pytest.raises(formula.ClaimError, match="unknown name 'yhat_k' at column 28"):
        formula.parse("y_i*(KroneckerDelta(i,k) - yhat_k)")


LATEX = {
    "softmax_jacobian": r"\frac{\partial \hat{y}_{i}}{\partial z_{k}} = "
                        r"\hat{y}_{i} \left(\delta_{ik} - \hat{y}_{k}\right)",
    "softmax_weight": r"\frac{\partial \hat{y}_{i}}{\partial W_{kl}} = "
                      r"\hat{y}_{i} \left(\delta_{ik} - \hat{y}_{k}\right) x_{l}",
    "softmax_general": r"\frac{\partial \hat{y}_{i}}{\partial w} = \hat{y}_{i} \left("
                       r"\frac{\partial f_{i}}{\partial w} - \sum_{j=1}^{n} \hat{y}_{j} "
                       r"\frac{\partial f_{j}}{\partial w}\right)",
    "ce_logits": r"\frac{\partial L_{\mathrm{CE}}}{\partial z_{k}} = \hat{y}_{k} - y_{k}",
    "ce_weight": r"\frac{\partial L_{\mathrm{CE}}}{\partial W_{kl}} = "
                 r"\left(\hat{y}_{k} - y_{k}\right) x_{l}",
    "mse_logits": r"\frac{\partial L_{\mathrm{MSE}}}{\partial z_{k}} = 2 \hat{y}_{k} \left("
                  r"\hat{y}_{k} - y_{k} - \sum_{j=1}^{n} \hat{y}_{j} \left(\hat{y}_{j} - y_{j}"
                  r"\right)\right)",
}


@pytest.mark.parametrize("identity_id", LATEX)
def test_latex_snapshots(identity_id):
    identity = softmax.BY_ID[identity_id]
    assert f"{identity.lhs} = {latex(identity.closed)}" == LATEX[identity_id]


def test_claims_print_in_the_drafts_order_and_notation():
    assert build.claim_latex("y_i*(fp_i - y_i)") == r"\hat{y}_{i} \left(f'_{i} - \hat{y}_{i}\right)"
    assert build.claim_latex("y_i*y_k*fp_k") == r"\hat{y}_{i} \hat{y}_{k} f'_{k}"
    assert latex(minus(yhat[k], yhat[i])) == r"\hat{y}_{k} - \hat{y}_{i}"


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "derivations", *args], capture_output=True,
                          text=True, cwd=paths.ROOT, timeout=120)


@pytest.mark.slow  # two of its runs verify against autograd: each imports torch anew
def test_check_command_exit_codes():
    ok = _cli("check", "y_i*(KroneckerDelta(i,k) - y_k)")
    assert ok.returncode == 0 and ok.stdout.startswith("verified")
    wrong = _cli("check", "--wrt", "w", "--cases", "offdiagonal", "y_i*y_k*fp_k")
    assert wrong.returncode == 1 and "counterexample" in wrong.stdout
    assert json.loads(wrong.stdout.split("counterexample: ")[1])["expected"] < 0
    bad = _cli("check", "y_i*(")
    assert bad.returncode == 2 and bad.stderr == ("error: the formula ends too early: an operand "
                                                  "or a closing bracket is missing\n")


def test_build_writes_the_contract_keys(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "N_VALUES", range(2, 4))  # the full range is tested above
    payload = build.build(tmp_path / "derivations.json")
    records = json.loads((tmp_path / "derivations.json").read_text())["identities"]
    assert records == payload["identities"]
    for r in records:
        assert {"id", "title", "latex", "status", "max_abs_err", "n_values", "points"} <= set(r)
        assert ("counterexample" in r) == (r["status"] == "refuted")
    by_id = {r["id"]: r for r in records}
    assert all(by_id[x.id]["status"] == "verified" for x in softmax.IDENTITIES)
    assert by_id["draft_diagonal"]["status"] == by_id["draft_offdiagonal"]["status"] == "refuted"
    assert min(by_id["softmax_jacobian"]["n_values"]) == 2 and by_id["softmax_jacobian"]["points"] >= 20


# --- `derivations check`: LaTeX input, exit codes, hostile input ------------------------------

JACOBIAN_PLAIN = "y_i*(KroneckerDelta(i,k) - y_k)"


@pytest.mark.parametrize("text", [
    r"\hat{y}_i(\delta_{ik}-\hat{y}_k)",
    r"\hat y_i \left( \delta_{ik} - \hat y_k \right)",
    r"\hat{y_i} \cdot (\delta_{i,k} - \hat{y}_{k})",
    r"\delta_{ik}\hat{y}_i - \hat{y}_i \times \hat{y}_k",
    r"\frac{\hat{y}_i \delta_{ki} - \hat{y}_i^{2} \frac{\hat{y}_k}{\hat{y}_i}}{1}",
])
def test_latex_as_a_student_writes_it_reads_as_the_plain_formula(text):
    assert sp.expand(formula.parse(text, latex=True) - formula.parse(JACOBIAN_PLAIN)) == 0


def test_latex_prints_back_in_the_report_notation_in_the_order_typed():
    expr = formula.parse_in_notation(r"\hat{y}_i\left(\delta_{ik}-\hat{y}_k\right)f'_k", latex=True)
    assert latex(expr) == r"\hat{y}_{i} \left(\delta_{ik} - \hat{y}_{k}\right) f'_{k}"
    inverse = formula.parse_in_notation(r"\hat{y}_i^{-1}", latex=True)
    assert latex(inverse) == r"\frac{1}{\hat{y}_{i}}"


def _run(capsys, *args):
    """main() in this process (torch is loaded already): exit code, stdout, stderr."""
    try:
        code = main(list(args))
    except SystemExit as stop:  # argparse: --help, usage errors
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def test_the_correct_jacobian_in_latex_is_verified(capsys):
    code, out, _ = _run(capsys, "check", "--latex", r"\hat{y}_i(\delta_{ik}-\hat{y}_k)")
    assert code == 0 and out.startswith("verified")
    code, out, _ = _run(capsys, "check", "--latex", "--wrt", "w",
                        r"\hat{y}_i \left(\delta_{ik} - \hat{y}_k\right) f'_k")
    assert code == 0 and out.startswith("verified")


@pytest.mark.parametrize("cases, text", [
    ("diagonal", r"\hat{y}_i (f'_i - \hat{y}_i)"),
    ("offdiagonal", r"\hat{y}_i \hat{y}_k f'_k"),
])
def test_the_drafts_two_formulas_are_refuted_from_their_latex(capsys, cases, text):
    code, out, _ = _run(capsys, "check", "--latex", "--wrt", "w", "--cases", cases, text)
    assert code == 1 and out.startswith("refuted")
    counterexample = json.loads(out.split("counterexample: ")[1])
    assert (counterexample["i"] == counterexample["k"]) == (cases == "diagonal")


def test_a_leading_minus_is_a_formula_not_an_option(capsys):
    code, out, _ = _run(capsys, "check", "--wrt", "w", "--cases", "offdiagonal", "-y_i*y_k*fp_k")
    assert code == 0 and out.startswith("verified: -y_i*y_k*fp_k")
    code, _, _ = _run(capsys, "check", "--latex", r"-\hat{y}_i\hat{y}_k", "--cases", "offdiagonal")
    assert code == 0


def test_help_lists_the_exit_codes(capsys):
    code, out, _ = _run(capsys, "check", "--help")
    assert code == 0
    assert "0  verified" in out and "1  refuted" in out and "2  the input was not understood" in out


def test_f_prime_without_a_weight_is_not_understood(capsys):
    code, _, err = _run(capsys, "check", "y_i*(KroneckerDelta(i,k) - y_k)*fp_k")
    assert code == 2 and "--wrt w" in err


def test_an_injection_attempt_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    for args in (["check", f"__import__('os').system('touch {marker}')"],
                 ["check", "--latex", rf"\write18{{touch {marker}}}"]):
        result = _cli(*args)
        assert result.returncode == 2 and not marker.exists()
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_power_tower_is_refused_at_once():
    start = time.perf_counter()
    result = _cli("check", "9**9**9**9")  # the old sympify never returned
    assert result.returncode == 2 and "exponent" in result.stderr
    assert time.perf_counter() - start < 10  # ~0.3 s: refused before torch is imported


HOSTILE = [
    # (args, what the one-line message must mention)
    (["__import__('os').system('id')"], "'__import__'"),
    (["exec('1')"], "'exec'"),
    (["eval"], "'eval'"),
    (["lambda: 0"], "'lambda'"),
    (["y_i.__class__.__bases__"], "'.'"),
    (["().__class__"], "'.'"),
    (["'y_i'"], "\"'\""),
    (['"y_i"'], "'\"'"),
    (["y_i; import os"], "';'"),
    (["y_i # comment"], "'#'"),
    (["exp(y_i)"], "'exp'"),
    (["y_i(y_k)"], "not a function"),
    (["KroneckerDelta(y_i, k)"], "indices"),
    (["ŷ_i"], "'ŷ'"),
    (["y_i\x1b[2J"], "'\\x1b'"),
    ([""], "empty"),
    (["   "], "empty"),
    (["y" * 100_000], "characters"),
    (["9**9**9**9"], "exponent"),
    (["((9**9)**9)**9"], "digits"),
    (["1" * 40], "digits"),
    (["y_i**0.5"], "exponent"),
    (["y_i**y_k"], "exponent"),
    (["1/(y_i - y_i)"], "divides by zero"),
    (["(" * 100 + "y_i" + ")" * 100], "nested"),
    (["-" * 100 + "y_i"], "nested"),
    (["y_i**" * 100 + "2"], "nested"),
    (["y_i ^ 2"], "**"),
    ([r"\hat{y}_i"], "--latex"),
    (["--latex", r"\input{/etc/passwd}"], r"'\input'"),
    (["--latex", r"\write18{rm -rf ~}"], r"'\write'"),
    (["--latex", r"\def\x{1}\x"], r"'\def'"),
    (["--latex", r"\csname input\endcsname"], r"'\csname'"),
    (["--latex", r"\hatx_i"], r"'\hatx'"),
    (["--latex", r"^^5cinput"], "'^'"),
    (["--latex", r"$\hat{y}_i$"], "$ delimiters"),
    (["--latex", r"\hat{y}_i % comment"], "'%'"),
    (["--latex", "y_i"], r"\hat{y}_i"),
    (["--latex", r"\hat{y}_j"], "i and k"),
    (["--latex", r"\hat{y}_i^12"], "^{12}"),
    (["--latex", r"\frac{\hat{y}_i}{0}"], "divides by zero"),
    (["--latex", r"\left(\hat{y}_i"], "ends too early"),
    (["--latex", "{" * 100 + "k" + "}" * 100], "nested"),
]


@pytest.mark.parametrize("args, mentions", HOSTILE, ids=lambda x: repr(x)[:40])
def test_hostile_input_is_refused_with_one_line_and_exit_2(capsys, args, mentions):
    start = time.perf_counter()
    code, out, err = _run(capsys, "check", *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and mentions in err
    assert time.perf_counter() - start < 2  # refused while reading, before any numerics


PIECES = {
    False: ["y_i", "fp_k", "k", "KroneckerDelta(i,k)", "KroneckerDelta(", "0", "9", "0.5", "+", "-",
            "*", "/", "**", "(", ")", ",", " ", "x", "'", "\\", "^", ".", "__class__", "ŷ"],
    True: [r"\hat{y}_i", r"\hat y_k", "f'_i", "f_k'", r"\delta_{ik}", r"\frac{", "}{", "{", "}",
           "^", "^{", "_", r"\left(", r"\right)", "(", ")", r"\cdot", "-", "/", "0", "12", "i",
           "y", "'", r"\,", " ", r"\x", "\\", "$"],
}


@pytest.mark.parametrize("as_latex", [False, True], ids=["plain", "latex"])
def test_random_token_soup_parses_or_is_refused_in_one_line(as_latex):
    """Whatever the text, reading it ends in an expression or a ClaimError, never another
    exception (which the CLI would show as a traceback)."""
    rng = random.Random(0)
    for _ in range(2000):
        text = "".join(rng.choice(PIECES[as_latex]) for _ in range(rng.randint(0, 20)))
        try:
            formula.parse(text, latex=as_latex)
            formula.parse_in_notation(text, latex=as_latex)
        except formula.ClaimError as err:
            assert "\n" not in str(err)


def test_a_usage_mistake_is_one_line_and_exit_2(capsys):
    code, _, err = _run(capsys, "check", "--wrt", "q", "y_i")
    assert code == 2 and err.count("\n") == 1 and "--wrt" in err
