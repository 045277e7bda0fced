"""Claimed formulas checked against the derivative they claim to be: `verified` only when SymPy
proves them equal, else `refuted` with the exact difference and a counterexample from autograd.

A claim is a formula for one entry of a softmax derivative, read by derivations.formula (plain
SymPy syntax or the report's LaTeX notation, parsed against a whitelist, never evaluated):
    y_i, y_k            \\hat{y}_i, \\hat{y}_k   softmax outputs
    fp_i, fp_k          f'_i, f'_k        derivatives of the logits f_i, f_k w.r.t. their weight
    KroneckerDelta(i,k) \\delta_{ik}        1 when i = k, else 0
Two settings, each the setting of an identity whose raw derivative and autograd oracle are the truth:
    wrt "z": the claim is d yhat_i / d z_k            (softmax_jacobian; f' has no meaning there)
    wrt "w": the claim is d yhat_i / d w_k, where logit f_k depends on weight w_k alone
            (the draft's setting: corrected_cases)
`cases` restricts the check to k = i ("diagonal"), k != i ("offdiagonal") or "all" entries.

The proof, for every n and every entry (i, k) in scope: the raw derivative, a rational function of
E_m = exp(z_m), is homogeneous of degree 0, so it is the same function of the softmax outputs
yhat_m = E_m / sum E; the outputs range over the open simplex, so claim and derivative agree
everywhere exactly when claim - derivative vanishes as a rational function of the yhat_m with one
of them written as 1 minus the others (one not named by the claim, where n allows). That is decided
exactly in SymPy's sparse polynomial rings: numerator of claim - derivative == 0. formula.py bounds
the size of that numerator before anything is built.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
import torch
from sympy.polys.domains import QQ
from sympy.polys.rings import ring

from derivations import identities, notation, softmax
from derivations.formula import INDICES, SYMBOLS, ClaimError
from derivations.verify import sample

PLAIN_SIGHT = 1e-9  # a counterexample is the first point where the claim is off by more than this
TRUTH = {"z": identities.SOFTMAX_JACOBIAN, "w": identities.CORRECTED_CASES}


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
]


# --- the proof ----------------------------------------------------------------------------------

class _DividesByZero(Exception):
    pass


# The ring's generators: the claim's four symbols, then the outputs and slopes it does not name.
_GENERATORS = ["y_i", "y_k", "fp_i", "fp_k", *(f"o{a}" for a in range(1, 8)),
               *(f"d{a}" for a in range(1, 8))]
_RING, *_GENS = ring(",".join(_GENERATORS), QQ)
_GEN = dict(zip(_GENERATORS, _GENS))


def _fraction(expr: sp.Expr, table: dict) -> tuple:
    """expr as (numerator, denominator) in _RING, symbols replaced by table[symbol]; no gcd is
    taken (that is what makes SymPy's cancel slow), so the zero test is exact and cheap."""
    if expr in table:
        return table[expr], _RING.one
    if expr.is_Rational:
        return _RING(expr.p), _RING(expr.q)
    if isinstance(expr, sp.Add):
        num, den = _RING.zero, _RING.one
        for term in expr.args:
            a, b = _fraction(term, table)
            num, den = num * b + a * den, den * b
        return num, den
    if isinstance(expr, sp.Mul):
        num, den = _RING.one, _RING.one
        for factor in expr.args:
            a, b = _fraction(factor, table)
            num, den = num * a, den * b
        return num, den
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer:
        a, b = _fraction(expr.base, table)
        e = int(expr.exp)
        if e < 0:
            if not a:
                raise _DividesByZero
            a, b, e = b, a, -e
        return a ** e, b ** e
    raise ValueError(f"not a rational function of the outputs: {expr}")  # a bug, not user input


def _tables(c: softmax.Concrete, a: int, b: int, eliminated: int) -> tuple:
    """Role symbols for entry (i, k) = (a, b): the claim's table and the raw derivative's (in E)."""
    free = {a: _GEN["y_i"]}
    if b != a:
        free[b] = _GEN["y_k"]
    others = iter(_GENS[4:11])
    for m in range(1, c.n + 1):
        if m not in free and m != eliminated:
            free[m] = next(others)
    outputs = dict(free)
    outputs[eliminated] = _RING.one - sum(v for m, v in free.items() if m != eliminated)
    slopes = {a: _GEN["fp_i"]}
    if b != a:
        slopes[b] = _GEN["fp_k"]
    spare = iter(_GENS[11:])
    for m in range(1, c.n + 1):
        slopes.setdefault(m, next(spare))
    claim = {SYMBOLS["y_i"]: outputs[a], SYMBOLS["y_k"]: outputs[b],
             SYMBOLS["fp_i"]: slopes[a], SYMBOLS["fp_k"]: slopes[b]}
    # the raw derivative is homogeneous of degree 0 in the E_m: E_m -> yhat_m changes nothing
    raw = {c.E[m - 1]: outputs[m] for m in range(1, c.n + 1)}
    raw.update({c.D[m - 1]: slopes[m] for m in range(1, c.n + 1)})
    return claim, raw


def _eliminated(n: int, a: int, b: int) -> int:
    """The output written as 1 minus the others: one the claim does not name, where there is one."""
    unnamed = [m for m in range(1, n + 1) if m not in (a, b)]
    return unnamed[-1] if unnamed else b


def _difference(expr: sp.Expr, truth, n: int, a: int, b: int, memo: dict):
    """claim - derivative at entry (i, k) = (a, b) for n classes: None when it is zero, else
    (numerator, denominator) in _RING, or "undefined" where the claim divides by zero."""
    c = softmax.Concrete(n)
    claim_table, raw_table = _tables(c, a, b, _eliminated(n, a, b))
    entry = expr.xreplace({INDICES["i"]: a, INDICES["k"]: b})  # evaluates KroneckerDelta
    key = (entry, tuple(sorted((str(s), str(v)) for s, v in claim_table.items())))
    if key not in memo:  # entries alike up to renaming build the claim's fraction once
        try:
            memo[key] = _fraction(entry, claim_table)
        except _DividesByZero:
            memo[key] = "undefined"
    if memo[key] == "undefined":
        return "undefined"
    num, den = memo[key]
    raw = softmax.raw_derivative(truth.raw, n)[(a, b)]
    raw_num, raw_den = _fraction(raw, raw_table)
    numerator = num * raw_den - raw_num * den
    return (numerator, den * raw_den) if numerator else None


MAX_SHOWN_TERMS = 30  # a longer difference is described, not printed


def _as_expr(difference) -> sp.Expr | str:
    """The difference in the claim's symbols (y_i, y_k, fp_i, fp_k), common factors taken out."""
    if isinstance(difference, str):
        return difference
    numerator, denominator = difference
    if len(numerator.terms()) > MAX_SHOWN_TERMS:
        return f"a fraction whose numerator has {len(numerator.terms())} terms"
    names = [SYMBOLS.get(g, sp.Symbol(g)) for g in _GENERATORS]
    # factor_terms: common factors out, and cheap (factor() can take a minute on y_i**100)
    return sp.factor_terms(numerator.as_expr(*names) / denominator.as_expr(*names))


def prove(expr: sp.Expr, wrt: str = "z", cases: str = "all", n_values=range(2, 7)) -> dict:
    """{(n, i, k): difference} for every entry in scope where the claim is not the derivative."""
    truth, case, memo, failing = TRUTH[wrt], softmax.CASES[cases], {}, {}
    for n in n_values:
        for a in range(1, n + 1):
            for b in range(1, n + 1):
                if case.holds({"i": a, "k": b}):
                    difference = _difference(expr, truth, n, a, b, memo)
                    if difference is not None:
                        failing[(n, a, b)] = difference
    return failing


# --- the numeric comparison: where the claim is furthest from autograd -------------------------

def _numeric(expr: sp.Expr):
    # lambdify prints KroneckerDelta as a scalar conditional; an opaque function keeps it elementwise
    delta = sp.Function("delta")
    expr = expr.replace(sp.KroneckerDelta, delta)
    args = [INDICES["i"], INDICES["k"], *SYMBOLS.values()]
    fn = sp.lambdify(args, expr, modules=[{"delta": lambda a, b: (a == b).astype(float)}, "numpy"])
    return lambda *values: np.broadcast_to(np.asarray(fn(*values), dtype=float), values[0].shape)


def _compare(expr, wrt, cases, n_values, points, seed, failing) -> tuple:
    """(max |claim - autograd| over the entries in scope, a counterexample among the entries the
    proof found wrong: the first point, in order, where the claim is off by more than PLAIN_SIGHT
    (the first points have moderate logits, so the values are readable), else the point where it
    is off most)."""
    fn, oracle = _numeric(expr), TRUTH[wrt].oracle
    gen = torch.Generator().manual_seed(seed)
    max_abs, worst = 0.0, None
    for n in n_values:
        ii, kk = np.meshgrid(np.arange(1, n + 1), np.arange(1, n + 1), indexing="ij")
        scope = softmax.CASES[cases].holds({"i": ii, "k": kk}) & np.ones_like(ii, bool)
        wrong = np.array([[(n, a, b) in failing for b in range(1, n + 1)] for a in range(1, n + 1)])
        for point in range(points):
            s = sample(n, point, gen)
            yh, fp = oracle.yhat(s).numpy(), oracle.slope_values(s).numpy()
            truth = oracle.value(s).numpy()
            with np.errstate(all="ignore"):  # a claim that divides by zero somewhere is refuted
                got = fn(ii, kk, yh[ii - 1], yh[kk - 1], fp[ii - 1], fp[kk - 1])
            err = np.nan_to_num(np.where(scope, np.abs(got - truth), 0.0), nan=np.inf)
            max_abs = max(max_abs, float(err.max()))
            err = np.where(wrong, err, -1.0)
            plain = worst is not None and worst[0] > PLAIN_SIGHT
            if wrong.any() and not plain and (worst is None or err.max() > worst[0]):
                a, b = np.unravel_index(np.argmax(err), err.shape)
                found = {"n": n, "i": int(a + 1), "k": int(b + 1),
                         "point": {oracle.wrt: [round(v, 6) for v in s[oracle.wrt].tolist()]},
                         "yhat": [round(v, 6) for v in yh.tolist()],
                         "fp": [round(v, 6) for v in fp.tolist()],
                         "expected": float(truth[a, b]), "got": float(got[a, b])}
                if wrt == "z":
                    del found["fp"]  # f' has no meaning for the logits
                worst = (float(err.max()), found)
    return max_abs, worst and worst[1]


def difference_text(difference) -> tuple[str, str]:
    """(plain, LaTeX) of claim - derivative, in the claim's own symbols."""
    difference = _as_expr(difference)
    if difference == "undefined":
        return "undefined (the claim divides by zero)", r"\text{undefined}"
    if isinstance(difference, str):
        return difference, rf"\text{{{difference}}}"
    plain = str(difference)
    if difference.is_Number:
        plain += f" ({float(difference):.1e})"
    names = {SYMBOLS["y_i"]: notation.yhat[notation.i], SYMBOLS["y_k"]: notation.yhat[notation.k],
             SYMBOLS["fp_i"]: notation.fp[notation.i], SYMBOLS["fp_k"]: notation.fp[notation.k]}
    return plain, notation.latex(difference.xreplace(names), order=None)


def _shown_entry(failing: dict, counterexample: dict) -> tuple:
    """The entry whose difference is shown: like the counterexample's (k = i or not), at the
    largest n, where no output is written as 1 minus the others the claim names (at n = 2 and
    k != i, y_k stands for 1 - y_i)."""
    diagonal = counterexample["i"] == counterexample["k"]
    alike = [entry for entry in failing if (entry[1] == entry[2]) == diagonal]
    largest = max(entry[0] for entry in alike)
    return next(entry for entry in alike if entry[0] == largest)


def check(expr: sp.Expr, wrt: str = "z", cases: str = "all", n_values=range(2, 7),
          points: int = 20, seed: int = 0) -> dict:
    """`verified` when the claim (an expression from formula.parse) is proven equal to the
    derivative at every entry in scope, for every n; else `refuted`, with the difference at the
    counterexample's entry and the counterexample (autograd's value and the claim's)."""
    if wrt == "z" and expr.has(SYMBOLS["fp_i"], SYMBOLS["fp_k"]):
        raise ClaimError("f'_i and f'_k are derivatives of the logits f(w): use --wrt w")
    failing = prove(expr, wrt, cases, n_values)
    max_abs, counterexample = _compare(expr, wrt, cases, n_values, points, seed, failing)
    result = {"status": "refuted" if failing else "verified", "proven": not failing,
              "proof": "claim - derivative == 0 for every n and entry in scope",
              "max_abs_err": max_abs, "n_values": list(n_values), "points": points}
    if failing:
        n, a, b = _shown_entry(failing, counterexample)
        plain, tex = difference_text(failing[(n, a, b)])
        result.update({"difference": plain, "difference_latex": tex,
                       "difference_at": {"n": n, "i": a, "k": b}, "counterexample": counterexample})
    return result
