"""results/derivations.json: the definitions, every identity proven by SymPy and checked against
autograd, and the draft's two case formulas refuted with the difference and a counterexample."""
from __future__ import annotations

import time
from pathlib import Path

import sympy as sp

from derivations import formula, formula_check, identities, softmax, verify
from derivations.notation import latex
from pipeline import ledger, paths, provenance

N_VALUES = range(2, 7)
POINTS = 20
MAX_ABS_ERR = 1e-10


def identity_record(identity: softmax.Identity) -> dict:
    failed_n = next((n for n in N_VALUES if not softmax.prove(identity, n)), None)
    numeric = verify.verify(identity, N_VALUES, POINTS)
    ok = failed_n is None and numeric["max_abs_err"] <= MAX_ABS_ERR
    rhs = latex(identity.closed)
    record = {"id": identity.id, "kind": "identity", "title": identity.title,
              "latex": f"{identity.lhs} = {rhs}", "lhs": identity.lhs, "rhs": rhs,
              "condition": identity.condition, "note": identity.note, "case": identity.case.latex,
              "status": "verified" if ok else "refuted",
              "proof": "simplify(raw - closed) == 0", "proven": failed_n is None, **numeric}
    if not ok:
        record["counterexample"] = {"n": failed_n, "max_abs_err": numeric["max_abs_err"]}
    return record


def claim_latex(text: str) -> str:
    """A claim in the report's notation (y_i -> \\hat{y}_i, fp_k -> f'_k), in the order typed."""
    return latex(formula.parse_in_notation(text))


def claim_record(claim: formula_check.Claim) -> dict:
    lhs = r"\frac{\partial \hat{y}_{i}}{\partial " + ("w_{k}" if claim.wrt == "w" else "z_{k}") + "}"
    return {"id": claim.id, "kind": "claim", "title": claim.title, "formula": claim.formula,
            "latex": f"{lhs} = {claim_latex(claim.formula)}",
            "case": softmax.CASES[claim.cases].latex,
            **formula_check.check(formula.parse(claim.formula), claim.wrt, claim.cases, N_VALUES,
                                  POINTS)}


def build(out: Path, quick: bool) -> dict:
    """Prove and verify every identity and claim; write them to `out` (a QUICK=1 run's are the same)."""
    start = time.perf_counter()
    records = [identity_record(x) for x in identities.IDENTITIES]
    records += [claim_record(c) for c in formula_check.DRAFT_CLAIMS]
    payload = {"identities": records,
               "definitions": [d.record() for d in softmax.DEFINITIONS],
               "sympy_version": sp.__version__,
               "tolerance": {"identity_max_abs_err": MAX_ABS_ERR, "claim": "exact: proven or refuted by SymPy"},
               "provenance": provenance.record("derivations", "", [0],
                                               time.perf_counter() - start, quick=quick)}
    provenance.write_json(out, payload)
    ledger.record(out)  # the report reads it only as written here
    return payload
