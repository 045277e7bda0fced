"""Claimed formulas, checked numerically against torch autograd: `verified` or `refuted`.

A claim is a formula for one entry of a softmax derivative, read by derivations.formula (plain
SymPy syntax or the report's LaTeX notation, parsed against a whitelist, never evaluated):
    y_i, y_k            \\hat{y}_i, \\hat{y}_k   softmax outputs
    fp_i, fp_k          f'_i, f'_k        derivatives of the logits f_i, f_k w.r.t. their weight
    KroneckerDelta(i,k) \\delta_{ik}        1 when i = k, else 0
Two settings:
    wrt "z": the claim is d yhat_i / d z_k            (logits z; f' has no meaning there)
    wrt "w": the claim is d yhat_i / d w_k, where logit f_k depends on weight w_k alone
            (the draft's setting); the truth is yhat_i (delta_ik - yhat_k) f'_k.
`cases` restricts the check to k = i ("diagonal"), k != i ("offdiagonal") or "all" entries.
A refuted claim comes with a counterexample: n, i, k, the point, the expected and the claimed value.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
import torch
from torch.autograd.functional import jacobian

from derivations.formula import INDICES, SYMBOLS, ClaimError
from derivations.verify import SCALES

TOLERANCE = 1e-9


@dataclass(frozen=True)
class Claim:
    id: str
    title: str
    formula: str
    wrt: str = "z"
    cases: str = "all"


DRAFT_CLAIMS = [
    Claim("draft_diagonal", "Draft, case k = i: SM_i (f'_i - SM_i)", "y_i*(fp_i - y_i)",
          wrt="w", cases="diagonal"),
    Claim("draft_offdiagonal", "Draft, case k != i: SM_i SM_k f'_k", "y_i*y_k*fp_k",
          wrt="w", cases="offdiagonal"),
    Claim("corrected_cases", "Corrected: yhat_i (delta_ik - yhat_k) f'_k",
          "y_i*(KroneckerDelta(i, k) - y_k)*fp_k", wrt="w", cases="all"),
]


def _numeric(expr: sp.Expr):
    # lambdify prints KroneckerDelta as a scalar conditional; an opaque function keeps it elementwise
    delta = sp.Function("delta")
    expr = expr.replace(sp.KroneckerDelta, delta)
    args = [INDICES["i"], INDICES["k"], *SYMBOLS.values()]
    fn = sp.lambdify(args, expr, modules=[{"delta": lambda a, b: (a == b).astype(float)}, "numpy"])
    return lambda *values: np.broadcast_to(np.asarray(fn(*values), dtype=float), values[0].shape)


def _truth(n: int, point: int, gen: torch.Generator, wrt: str):
    """(yhat, fp, J) with J[i, k] the true d yhat_i / d z_k or d yhat_i / d w_k, by autograd."""
    scale = SCALES[point % len(SCALES)]
    r = lambda: torch.randn(n, generator=gen, dtype=torch.float64)  # noqa: E731
    if wrt == "z":
        z = r() * scale
        return torch.softmax(z, 0), torch.ones(n, dtype=torch.float64), jacobian(
            lambda t: torch.softmax(t, 0), z), {"z": z}
    a, c, w = r() * scale, r(), r()
    f = lambda t: a * torch.sin(t) + c * t ** 2  # noqa: E731 - f_k depends on w_k only
    fp = torch.diagonal(jacobian(f, w))
    return torch.softmax(f(w), 0), fp, jacobian(lambda t: torch.softmax(f(t), 0), w), {"w": w}


def check(expr: sp.Expr, wrt: str = "z", cases: str = "all", n_values=range(2, 7),
          points: int = 20, seed: int = 0) -> dict:
    """`verified` when the claim (an expression from formula.parse) matches autograd at every
    entry in scope, else `refuted`."""
    if wrt == "z" and expr.has(SYMBOLS["fp_i"], SYMBOLS["fp_k"]):
        raise ClaimError("f'_i and f'_k are derivatives of the logits f(w): use --wrt w")
    fn = _numeric(expr)
    gen = torch.Generator().manual_seed(seed)
    max_abs = 0.0
    for n in n_values:
        ii, kk = np.meshgrid(np.arange(1, n + 1), np.arange(1, n + 1), indexing="ij")
        scope = {"all": np.ones_like(ii, bool), "diagonal": ii == kk, "offdiagonal": ii != kk}[cases]
        for point in range(points):
            yh, fp, truth, inputs = _truth(n, point, gen, wrt)
            yh, fp, truth = yh.numpy(), fp.numpy(), truth.numpy()
            with np.errstate(all="ignore"):  # a claim that divides by zero somewhere is refuted
                got = fn(ii, kk, yh[ii - 1], yh[kk - 1], fp[ii - 1], fp[kk - 1])
            err = np.where(scope, np.abs(got - truth), 0.0)
            max_abs = max(max_abs, float(np.nan_to_num(err, nan=np.inf).max()))
            if not np.all(err <= TOLERANCE):
                a, b = np.unravel_index(np.argmax(np.nan_to_num(err, nan=np.inf)), err.shape)
                return {"status": "refuted", "max_abs_err": max_abs, "n_values": list(n_values),
                        "points": points, "counterexample": {
                    "n": n, "i": int(a + 1), "k": int(b + 1),
                    "point": {name: [round(v, 6) for v in t.tolist()] for name, t in inputs.items()},
                    "yhat": [round(v, 6) for v in yh.tolist()],
                    "fp": [round(v, 6) for v in fp.tolist()],
                    "expected": float(truth[a, b]), "got": float(got[a, b])}}
    return {"status": "verified", "max_abs_err": max_abs, "n_values": list(n_values),
            "points": points}
