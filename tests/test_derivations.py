"""Derivations: SymPy proofs, agreement with torch autograd, the definitions they differentiate,
claims proven or refuted (near-misses included), pinned LaTeX, the CLI and what it does with
hostile input."""
import dataclasses
import json
import random
import subprocess
import sys

import pytest
import sympy as sp

from derivations import build, formula, formula_check, identities, softmax, verify
from derivations.__main__ import main
from derivations.notation import fp, latex, minus, product, yhat, i, k
from pipeline import paths

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.mark.parametrize("identity", identities.IDENTITIES, ids=lambda x: x.id)
@pytest.mark.parametrize("n", [2, 3, 6])
def test_sympy_proves_each_closed_form(identity, n):
    assert softmax.prove(identity, n)


@pytest.mark.parametrize("identity", identities.IDENTITIES, ids=lambda x: x.id)
def test_each_closed_form_matches_autograd(identity):
    result = verify.verify(identity, n_values=range(2, 7), points=20)
    assert result["max_abs_err"] <= 1e-10


def test_a_wrong_closed_form_fails_both_the_proof_and_autograd():
    flipped = dataclasses.replace(identities.BY_ID["softmax_jacobian"], closed=product(
        yhat[i], sp.Add(sp.KroneckerDelta(i, k), yhat[k], evaluate=False)))
    assert not softmax.prove(flipped, 3)
    assert verify.verify(flipped, n_values=[3], points=4)["max_abs_err"] > 1e-3


def test_the_drafts_two_formulas_are_refuted_with_counterexamples():
    draft = {c.id: c for c in formula_check.DRAFT_CLAIMS}
    differences = {"draft_diagonal": "y_i**2*(fp_i - 1)", "draft_offdiagonal": "2*fp_k*y_i*y_k"}
    for claim_id, difference in differences.items():
        c = draft[claim_id]
        result = formula_check.check(formula.parse(c.formula), c.wrt, c.cases)
        assert result["status"] == "refuted" and not result["proven"]
        assert result["difference"] == difference
        ce = result["counterexample"]
        assert abs(ce["expected"] - ce["got"]) > 1e-9
        assert (ce["i"] == ce["k"]) == (c.cases == "diagonal")
    assert build.claim_record(draft["draft_diagonal"])["difference_latex"] == (
        r"\left(f'_{i} - 1\right) \hat{y}_{i}^{2}")


@pytest.mark.parametrize("text, status", [
    ("y_i*(KroneckerDelta(i,k) - y_k)", "verified"),
    ("KroneckerDelta(i,k)*y_i - y_i*y_k", "verified"),
    ("y_i*(KroneckerDelta(i,k) + y_k)", "refuted"),   # a correct identity with a flipped sign
    ("y_i*(1 - y_k)", "refuted"),                      # right only on the diagonal
])
def test_claims_about_the_softmax_jacobian(text, status):
    assert formula_check.check(formula.parse(text))["status"] == status


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
    "corrected_cases": r"\frac{\partial \hat{y}_{i}}{\partial w_{k}} = "
                       r"\hat{y}_{i} \left(\delta_{ik} - \hat{y}_{k}\right) f'_{k}",
    "corrected_offdiagonal": r"\frac{\partial \hat{y}_{i}}{\partial w_{k}} = "
                             r"- \hat{y}_{i} \hat{y}_{k} f'_{k}",
    "corrected_diagonal": r"\frac{\partial \hat{y}_{i}}{\partial w_{k}} = "
                          r"f'_{i} \hat{y}_{i} \left(1 - \hat{y}_{i}\right)",
    "ce_weight_matrix": r"\frac{\partial L_{\mathrm{CE}}}{\partial W} = "
                        r"\left(\hat{y} - y\right) x^{\top}",
}
CASES = {"corrected_offdiagonal": r"k \neq i", "corrected_diagonal": "k = i", "corrected_cases": ""}
DEFINITIONS = {
    "softmax": r"\hat{y}_{i} = \frac{e^{z_{i}}}{\sum_{j=1}^{n} e^{z_{j}}}",
    "ce_loss": r"L_{\mathrm{CE}} = - \sum_{i=1}^{n} y_{i} \log \hat{y}_{i}",
    "mse_loss": r"L_{\mathrm{MSE}} = \sum_{i=1}^{n} \left(\hat{y}_{i} - y_{i}\right)^{2}",
    "linear_layer": "z = W x + b",
    "he_variance": r"\sigma^{2} = \frac{2}{\text{fan-in}}",
}


@pytest.mark.parametrize("identity_id", LATEX)
def test_latex_snapshots(identity_id):
    identity = identities.BY_ID[identity_id]
    assert f"{identity.lhs} = {latex(identity.closed)}" == LATEX[identity_id]


@pytest.mark.parametrize("identity_id, case", CASES.items())
def test_the_corrected_case_entries_carry_their_case(identity_id, case):
    assert identities.BY_ID[identity_id].case.latex == case


def test_a_case_entry_is_proven_only_in_its_case():
    """-yhat_i yhat_k f'_k is wrong at k = i: the case is part of what is proven."""
    everywhere = dataclasses.replace(identities.BY_ID["corrected_offdiagonal"], case=softmax.EVERY_ENTRY)
    assert not softmax.prove(everywhere, 2)
    assert verify.verify(everywhere, n_values=[2], points=2)["max_abs_err"] > 1e-3
    flipped = dataclasses.replace(identities.BY_ID["corrected_diagonal"],
                                  closed=product(fp[i], yhat[i], minus(yhat[i], 1)))
    assert not softmax.prove(flipped, 3)
    assert verify.verify(flipped, n_values=[3], points=2)["max_abs_err"] > 1e-3


def test_a_wrong_matrix_form_fails_entrywise():
    from derivations import notation as nt
    transposed = dataclasses.replace(identities.BY_ID["ce_weight_matrix"], closed=sp.MatMul(
        nt.matrix_minus(nt.yvec, nt.yhatvec), nt.xvec.T, evaluate=False))   # (y - yhat) x^T
    assert latex(transposed.closed) == r"\left(y - \hat{y}\right) x^{\top}"
    assert not softmax.prove(transposed, 2)
    assert verify.verify(transposed, n_values=[2], points=2)["max_abs_err"] > 1e-3


def test_a_new_identity_needs_no_entry_in_verify():
    """The oracle travels with the identity: one declared here, in a test, proves and verifies."""
    diagonal_jacobian = softmax.Identity(
        "jacobian_diagonal", "Softmax Jacobian, k = i", r"\frac{\partial \hat{y}_{i}}{\partial z_{i}}",
        product(yhat[i], minus(1, yhat[i])), (("i", "n"), ("k", "n")), softmax.raw_jacobian,
        verify.Oracle("z", lambda s, z: z), case=softmax.K_IS_I)
    assert all(softmax.prove(diagonal_jacobian, n) for n in (2, 3))
    assert verify.verify(diagonal_jacobian, n_values=[2, 3], points=4)["max_abs_err"] < 1e-12
    source = (paths.ROOT / "derivations" / "verify.py").read_text()
    assert not [x.id for x in identities.IDENTITIES if f'"{x.id}"' in source]


@pytest.mark.parametrize("definition_id", DEFINITIONS)
def test_definition_snapshots(definition_id):
    record = {d.id: d.record() for d in softmax.DEFINITIONS}[definition_id]
    assert record["latex"] == DEFINITIONS[definition_id]
    assert record["latex"] == f"{record['lhs']} = {record['rhs']}" and record["kind"] == "definition"


@pytest.fixture
def fresh_derivatives():
    """Raw derivatives are cached per setting and n; a test that changes a definition clears them."""
    softmax.raw_derivative.cache_clear()
    softmax._loss_gradient.cache_clear()
    yield
    softmax.raw_derivative.cache_clear()
    softmax._loss_gradient.cache_clear()


def test_the_proofs_differentiate_the_declared_softmax(monkeypatch, fresh_derivatives):
    """A definition typeset differently from what was proven cannot happen: change the softmax
    definition and the proofs built on it fail."""
    from derivations.notation import j, n, z
    tempered = softmax.Definition("softmax", "Softmax at temperature 1/2", yhat[i],
                                  sp.exp(2 * z[i]) / sp.Sum(sp.exp(2 * z[j]), (j, 1, n)))
    monkeypatch.setattr(softmax, "SOFTMAX", tempered)
    assert not softmax.prove(identities.BY_ID["softmax_jacobian"], 2)
    assert not softmax.prove(identities.BY_ID["ce_logits"], 2)


def test_the_proofs_differentiate_the_declared_losses(monkeypatch, fresh_derivatives):
    from derivations.notation import L_CE, n, y
    halved = softmax.Definition("ce_loss", "Half the cross-entropy", L_CE,
                                -sp.Sum(product(y[i], sp.log(yhat[i])), (i, 1, n)) / 2)
    monkeypatch.setitem(softmax.LOSSES, "ce", halved)
    assert not softmax.prove(identities.BY_ID["ce_logits"], 2)
    assert softmax.prove(identities.BY_ID["mse_logits"], 2)  # the other loss is untouched


def test_the_linear_layer_definition_is_what_the_weight_proofs_differentiate(monkeypatch,
                                                                            fresh_derivatives):
    from derivations.notation import W, xvec
    no_bias = softmax.Definition("linear_layer", "Linear layer", softmax.LINEAR_LAYER.lhs,
                                 sp.MatMul(2, W, xvec))   # z = 2 W x
    monkeypatch.setattr(softmax, "LINEAR_LAYER", no_bias)
    assert not softmax.prove(identities.BY_ID["softmax_weight"], 2)


def test_the_he_variance_is_the_one_hw1_initialises_relu_layers_with():
    """hw1's ReLU initialiser draws N(0, 1) and scales by sqrt(sigma^2(fan-in)): redo the same
    draws with the definition's variance and get the same weights."""
    import torch
    from hw1 import scratch_mlp
    from derivations.notation import fan_in
    variance = sp.lambdify(fan_in, softmax.HE_VARIANCE.rhs)
    sizes = [784, 128, 64, 10]
    params = scratch_mlp.init_params(sizes, "relu", torch.Generator().manual_seed(0))
    again = torch.Generator().manual_seed(0)
    for layer, (fan, out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        draws = torch.randn(fan, out, generator=again, dtype=torch.float32)
        assert torch.allclose(params[f"W{layer}"], draws * variance(fan) ** 0.5, rtol=1e-6, atol=0)
    glorot = scratch_mlp.init_params(sizes, "tanh", torch.Generator().manual_seed(0))
    assert not torch.allclose(glorot["W1"], params["W1"])  # the test can tell variances apart


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
    payload = build.build(tmp_path / "derivations.json", quick=False)
    records = json.loads((tmp_path / "derivations.json").read_text())["identities"]
    assert records == payload["identities"]
    for r in records:
        assert {"id", "title", "latex", "status", "max_abs_err", "n_values", "points"} <= set(r)
        assert ("counterexample" in r) == (r["status"] == "refuted")
    by_id = {r["id"]: r for r in records}
    assert all(by_id[x.id]["status"] == "verified" for x in identities.IDENTITIES)
    for identity_id, tex in LATEX.items():
        r = by_id[identity_id]
        assert r["kind"] == "identity" and r["latex"] == tex == f"{r['lhs']} = {r['rhs']}"
        assert {"condition", "note", "case", "proven", "max_rel_err"} <= set(r)
    assert by_id["corrected_offdiagonal"]["case"] == r"k \neq i" and by_id["corrected_cases"]["case"] == ""
    assert {d["id"]: d["latex"] for d in payload["definitions"]} == DEFINITIONS
    assert all(set(d) == {"id", "kind", "title", "latex", "lhs", "rhs"} for d in payload["definitions"])
    assert by_id["draft_diagonal"]["difference"] == "y_i**2*(fp_i - 1)"
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


NEAR_MISSES = [
    # (args, the difference printed): each within float64 noise of autograd at every point
    (["y_i*(KroneckerDelta(i,k)-y_k) + 0.0000000000001"], "1/10000000000000 (1.0e-13)"),
    (["--latex", r"\hat{y}_i(\delta_{ik}-\hat{y}_k)\cdot(1+10^{-12})"],
     "y_i*(1 - y_i)/1000000000000"),
    (["y_i*(KroneckerDelta(i,k)-y_k) - 10**-14"], "-1/100000000000000 (-1.0e-14)"),
    (["--latex", r"\hat{y}_i(\delta_{ik}-\hat{y}_k) + 10^{-14}\hat{y}_i"], "y_i/100000000000000"),
    (["--wrt", "w", "--latex", r"\hat{y}_i(\delta_{ik}-\hat{y}_k)f'_k\frac{1000000000001}{1000000000000}"],
     "fp_i*y_i*(1 - y_i)/1000000000000 at n = 6, i = 1, k = 1"),  # at k = i, f'_k is f'_i
    (["--wrt", "w", "--cases", "offdiagonal", "-y_i*y_k*fp_k*(1 - 10**-14)"],
     "fp_k*y_i*y_k/100000000000000"),
    (["--wrt", "w", "--cases", "diagonal", "fp_i*y_i*(1-y_i) + 10**-14*fp_i"], "fp_i/100000000000000"),
    # right at n = 2 only, where y_k = 1 - y_i
    (["--cases", "offdiagonal", "-y_i*(1-y_i)"], "y_i*(y_i + y_k - 1) at n = 6"),
    (["1/(y_i - y_k)"], "undefined (the claim divides by zero)"),
]


@pytest.mark.parametrize("args, difference", NEAR_MISSES, ids=lambda x: repr(x)[:50])
def test_a_near_miss_is_refuted_with_its_exact_difference(capsys, args, difference):
    code, out, _ = _run(capsys, "check", *args)
    assert code == 1 and out.startswith("refuted: ")
    refuted, shown, counterexample = out.splitlines()
    assert shown.startswith("claim - derivative = ") and difference in shown
    counterexample = json.loads(counterexample.removeprefix("counterexample: "))
    assert {"n", "i", "k", "point", "yhat", "expected", "got"} <= set(counterexample)


@pytest.mark.parametrize("args", [
    ["KroneckerDelta(i,k)*y_i - y_i*y_k"],
    ["y_i*(KroneckerDelta(i,k) - y_k) + 0*y_k"],
    ["--cases", "diagonal", "y_i - y_i**2"],
    ["--cases", "diagonal", "y_i*(1 - y_k)"],               # at k = i, y_k is y_i
    ["--cases", "offdiagonal", "-y_i*y_k"],
    ["--latex", r"\frac{\hat{y}_i \delta_{ki} - \hat{y}_i^{2} \frac{\hat{y}_k}{\hat{y}_i}}{1}"],
    ["--wrt", "w", "--cases", "diagonal", "fp_k*y_i*(1 - y_i)"],
    ["--wrt", "w", "y_i*(KroneckerDelta(i,k) - y_k)*fp_k*10**14/100000000000000"],
], ids=lambda x: " ".join(x)[:50])
def test_a_formula_equal_to_the_derivative_is_proven(capsys, args):
    code, out, _ = _run(capsys, "check", *args)
    assert code == 0 and out.startswith("verified: ")
    assert out.splitlines()[1].startswith("proven: claim - derivative = 0 (SymPy, exact) for n = 2..6")


def test_the_proof_covers_every_n_and_entry_in_scope():
    right_at_two = formula.parse("-y_i*(1-y_i)")
    failing = formula_check.prove(right_at_two, "z", "offdiagonal")
    assert failing and min(n for n, _, _ in failing) == 3
    assert all(i != k for _, i, k in failing)
    assert len(failing) == sum(n * (n - 1) for n in range(3, 7))  # every k != i entry for n >= 3
    assert formula_check.prove(right_at_two, "z", "offdiagonal", n_values=[2]) == {}


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


@pytest.fixture
def numerics_unreachable(monkeypatch):
    """The numeric check (formula_check: SymPy's proof, autograd) cannot be imported: input
    refused while it is read never needs it, so a test passes only if it was refused there."""
    monkeypatch.delattr("derivations.formula_check", raising=False)
    monkeypatch.setitem(sys.modules, "derivations.formula_check", None)


def test_a_power_tower_is_refused_while_reading(capsys, numerics_unreachable):
    code, out, err = _run(capsys, "check", "9**9**9**9")  # the old sympify never returned
    assert code == 2 and out == "" and "exponent" in err


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
    (["(y_i+y_k)**100"], "at most 20,000 are proven exactly"),
    (["y_i - y_k + 1e-13"], "1e at column 13 is scientific notation"),
    (["y_i*2.5E4"], "write a power of ten"),
    (["--latex", r"(\hat{y}_i+\hat{y}_k+f'_i+f'_k)^{30}"], "terms"),
    (["y_i**100*y_k**100*fp_i**100*fp_k**100"], "terms"),
]


@pytest.mark.parametrize("args, mentions", HOSTILE, ids=lambda x: repr(x)[:40])
def test_hostile_input_is_refused_with_one_line_and_exit_2(capsys, numerics_unreachable, args, mentions):
    code, out, err = _run(capsys, "check", *args)  # refused while reading, before any numerics
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and mentions in err


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
