"""Derivations: SymPy proofs, agreement with torch autograd, refuted claims, pinned LaTeX, the CLI."""
import dataclasses
import json
import subprocess
import sys

import pytest
import sympy as sp

from derivations import build, claims, softmax, verify
from derivations.notation import latex, minus, product, yhat, i, k

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
        result = claims.check(c.formula, c.wrt, c.cases)
        assert result["status"] == "refuted"
        ce = result["counterexample"]
        assert abs(ce["expected"] - ce["got"]) > 1e-9
        assert (ce["i"] == ce["k"]) == (c.cases == "diagonal")
    fixed = draft["corrected_cases"]
    assert claims.check(fixed.formula, fixed.wrt, fixed.cases)["status"] == "verified"


@pytest.mark.parametrize("formula, status", [
    ("y_i*(KroneckerDelta(i,k) - y_k)", "verified"),
    ("KroneckerDelta(i,k)*y_i - y_i*y_k", "verified"),
    ("y_i*(KroneckerDelta(i,k) + y_k)", "refuted"),   # a correct identity with a flipped sign
    ("y_i*(1 - y_k)", "refuted"),                      # right only on the diagonal
])
def test_claims_about_the_softmax_jacobian(formula, status):
    assert claims.check(formula)["status"] == status


def test_an_unreadable_claim_names_the_problem():
    with pytest.raises(claims.ClaimError, match="unknown symbol"):
        claims.parse("y_i*(KroneckerDelta(i,k) - yhat_k)")


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
                          text=True)


def test_check_command_exit_codes():
    ok = _cli("check", "y_i*(KroneckerDelta(i,k) - y_k)")
    assert ok.returncode == 0 and ok.stdout.startswith("verified")
    wrong = _cli("check", "--wrt", "w", "--cases", "offdiagonal", "y_i*y_k*fp_k")
    assert wrong.returncode == 1 and "counterexample" in wrong.stdout
    assert json.loads(wrong.stdout.split("counterexample: ")[1])["expected"] < 0
    bad = _cli("check", "y_i*(")
    assert bad.returncode == 2 and "cannot read" in bad.stderr


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
