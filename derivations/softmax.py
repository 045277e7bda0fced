"""SymPy derivations of the softmax gradients, and their proofs.

Each identity pairs a closed form, written once with indexed symbols in the report's notation
(see notation.py), with a raw derivative that SymPy computes from the definitions:

    yhat_i = exp(z_i) / sum_j exp(z_j),   z = W x + b  or  z_j = f_j(w),
    L_CE = -sum_i y_i log yhat_i,         L_MSE = sum_i (yhat_i - y_i)^2   (one sample; a batch
                                                                           mean is linear in it)

`prove(identity, n)` checks simplify(raw - closed) == 0 for every index value, with exp(z_m)
written as a positive symbol E_m so that both sides are rational functions.
"""
from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from typing import Callable

import sympy as sp

from derivations.notation import df, dL, i, j, k, l, minus, n, product, x, y, yhat

N_INPUTS = 2  # inputs x_l of the last linear layer used in the proofs (the identity is per entry)


@dataclass(frozen=True)
class Identity:
    id: str
    title: str
    lhs: str                          # LaTeX of the left-hand side, in the report's notation
    closed: sp.Expr                   # right-hand side, indexed
    indices: tuple                    # free indices and their range: "n" classes or "m" inputs
    raw: Callable                     # (Concrete, loss) -> {index tuple: raw derivative}
    losses: tuple = (None,)           # for the chain rule: proven for each loss's dL/dyhat
    condition: str = ""               # LaTeX side condition, if any
    note: str = ""


@dataclass
class Concrete:
    """Symbols for n classes: E_m = exp(z_m) and the derivative expressions built from them."""
    n: int
    numeric: bool = False             # True: yhat_m stays a symbol YH_m, for evaluation
    E: list = field(init=False)
    Y: list = field(init=False)
    X: list = field(init=False)
    D: list = field(init=False)

    def __post_init__(self):
        self.E = sp.symbols(f"E1:{self.n + 1}", positive=True)
        self.Y = sp.symbols(f"Y1:{self.n + 1}", real=True)
        self.X = sp.symbols(f"X1:{N_INPUTS + 1}", real=True)
        self.D = sp.symbols(f"D1:{self.n + 1}", real=True)
        self.YH = sp.symbols(f"YH1:{self.n + 1}", positive=True)

    def yhat_values(self):
        if self.numeric:
            return list(self.YH)
        total = sum(self.E)
        return [e / total for e in self.E]

    def dL_values(self, loss: str | None):
        yh = self.yhat_values()
        if loss == "mse":
            return [2 * (a - b) for a, b in zip(yh, self.Y)]
        if loss == "ce":
            return [-b / a for a, b in zip(yh, self.Y)]
        return []

    def substitute(self, expr, index_values: dict, loss: str | None = None):
        """The indexed closed form at concrete indices, in the E, Y, X, D symbols."""
        expr = expr.subs(n, self.n).subs(index_values).doit()
        table = {}
        for m, value in enumerate(self.yhat_values(), start=1):
            table[yhat[m]] = value
        for m in range(1, self.n + 1):
            table[y[m]], table[df[m]] = self.Y[m - 1], self.D[m - 1]
        for m, value in enumerate(self.dL_values(loss), start=1):
            table[dL[m]] = value
        for m in range(1, N_INPUTS + 1):
            table[x[m]] = self.X[m - 1]
        return expr.xreplace(table)


# --- raw derivatives from the definitions ------------------------------------------------------

def _to_E(expr, zs, c: Concrete):
    """Write exp(z_m) as E_m: both sides become rational functions."""
    return expr.xreplace({e: _exp_as_power(e, tuple(zs), tuple(c.E)) for e in expr.atoms(sp.exp)})


@functools.lru_cache(maxsize=None)
def _exp_as_power(e, zs, Es):
    # SymPy merges exp(z)**2 into exp(2 z): map every exp(a z_m) to E_m**a.
    for z, E in zip(zs, Es):
        ratio = sp.cancel(e.args[0] / z)
        if ratio.is_number:
            return E ** ratio
    raise ValueError(f"{e} is not a power of exp(z_m)")


def _logits(c: Concrete):
    return list(sp.symbols(f"z1:{c.n + 1}", real=True))


def _linear(c: Concrete):
    W = sp.Matrix(c.n, N_INPUTS, lambda a, b: sp.Symbol(f"W{a + 1}_{b + 1}", real=True))
    b = sp.symbols(f"b1:{c.n + 1}", real=True)
    zs = [sum(W[r, s] * c.X[s] for s in range(N_INPUTS)) + b[r] for r in range(c.n)]
    return W, b, zs


def _yhat(zs):
    exps = [sp.exp(z) for z in zs]
    return [e / sum(exps) for e in exps]


def _loss(loss: str, yh, c: Concrete):
    if loss == "ce":
        return -sum(t * sp.log(p) for t, p in zip(c.Y, yh))
    return sum((p - t) ** 2 for p, t in zip(yh, c.Y))


def _grid(*sizes):
    return itertools.product(*(range(1, s + 1) for s in sizes))


def raw_jacobian(c: Concrete, loss=None):
    zs = _logits(c)
    yh = _yhat(zs)
    return {(a, b): _to_E(sp.diff(yh[a - 1], zs[b - 1]), zs, c) for a, b in _grid(c.n, c.n)}


def raw_weight(c: Concrete, loss=None):
    W, _, zs = _linear(c)
    yh = _yhat(zs)
    return {(a, b, s): _to_E(sp.diff(yh[a - 1], W[b - 1, s - 1]), zs, c)
            for a, b, s in _grid(c.n, c.n, N_INPUTS)}


def raw_bias(c: Concrete, loss=None):
    _, bias, zs = _linear(c)
    yh = _yhat(zs)
    return {(a, b): _to_E(sp.diff(yh[a - 1], bias[b - 1]), zs, c) for a, b in _grid(c.n, c.n)}


def _general(c: Concrete):
    """z_j = f_j(w) for arbitrary differentiable f_j of one weight w."""
    w = sp.Symbol("w", real=True)
    fs = [sp.Function(f"f{m}")(w) for m in range(1, c.n + 1)]
    derivs = {sp.Derivative(f, w): D for f, D in zip(fs, c.D)}
    return w, fs, derivs


def raw_general(c: Concrete, loss=None):
    w, fs, derivs = _general(c)
    yh = _yhat(fs)
    return {(a,): _to_E(sp.diff(yh[a - 1], w).xreplace(derivs), fs, c) for a, in _grid(c.n)}


def raw_loss_logits(c: Concrete, loss):
    zs = _logits(c)
    L = _loss(loss, _yhat(zs), c)
    return {(b,): _to_E(sp.diff(L, zs[b - 1]), zs, c) for b, in _grid(c.n)}


def raw_loss_weight(c: Concrete, loss):
    W, _, zs = _linear(c)
    L = _loss(loss, _yhat(zs), c)
    return {(b, s): _to_E(sp.diff(L, W[b - 1, s - 1]), zs, c) for b, s in _grid(c.n, N_INPUTS)}


def raw_loss_general(c: Concrete, loss):
    w, fs, derivs = _general(c)
    L = _loss(loss, _yhat(fs), c)
    return {(): _to_E(sp.diff(L, w).xreplace(derivs), fs, c)}


# --- the identities -----------------------------------------------------------------------------

JACOBIAN = product(yhat[i], minus(sp.KroneckerDelta(i, k), yhat[k]))
SUM_ONE = r"\sum_{j=1}^{n} y_{j} = 1"

IDENTITIES = [
    Identity("softmax_jacobian", "Softmax Jacobian",
             r"\frac{\partial \hat{y}_{i}}{\partial z_{k}}", JACOBIAN,
             (("i", "n"), ("k", "n")), raw_jacobian),
    Identity("softmax_weight", "Softmax through a linear layer, weights",
             r"\frac{\partial \hat{y}_{i}}{\partial W_{kl}}",
             product(yhat[i], minus(sp.KroneckerDelta(i, k), yhat[k]), x[l]),
             (("i", "n"), ("k", "n"), ("l", "m")), raw_weight, note="z = W x + b"),
    Identity("softmax_bias", "Softmax through a linear layer, biases",
             r"\frac{\partial \hat{y}_{i}}{\partial b_{k}}", JACOBIAN,
             (("i", "n"), ("k", "n")), raw_bias, note="z = W x + b"),
    Identity("softmax_general", "Softmax of f(x; w), any weight w",
             r"\frac{\partial \hat{y}_{i}}{\partial w}",
             product(yhat[i], minus(df[i], sp.Sum(product(yhat[j], df[j]), (j, 1, n)))),
             (("i", "n"),), raw_general, note="z_j = f(x; w)_j"),
    Identity("ce_logits", "Cross-entropy, logits",
             r"\frac{\partial L_{\mathrm{CE}}}{\partial z_{k}}", minus(yhat[k], y[k]),
             (("k", "n"),), raw_loss_logits, losses=("ce",), condition=SUM_ONE),
    Identity("ce_weight", "Cross-entropy, weights of the last layer",
             r"\frac{\partial L_{\mathrm{CE}}}{\partial W_{kl}}",
             product(minus(yhat[k], y[k]), x[l]),
             (("k", "n"), ("l", "m")), raw_loss_weight, losses=("ce",), condition=SUM_ONE),
    Identity("mse_logits", "Squared error on the softmax outputs, logits",
             r"\frac{\partial L_{\mathrm{MSE}}}{\partial z_{k}}",
             product(2, yhat[k], sp.Add(yhat[k], -y[k], -sp.Sum(
                 product(yhat[j], minus(yhat[j], y[j])), (j, 1, n)), evaluate=False)),
             (("k", "n"),), raw_loss_logits, losses=("mse",),
             note=r"L_{\mathrm{MSE}} = \sum_{i=1}^{n} (\hat{y}_{i} - y_{i})^2"),
    Identity("loss_chain", "Any loss through the softmax, any weight",
             r"\frac{\partial L}{\partial w}",
             sp.Sum(product(dL[j], yhat[j], minus(df[j], sp.Sum(product(yhat[l], df[l]),
                                                               (l, 1, n)))), (j, 1, n)),
             (), raw_loss_general, losses=("mse", "ce"), note="proven for L = MSE and L = CE"),
]
BY_ID = {identity.id: identity for identity in IDENTITIES}
INDEX_SYMBOLS = {"i": i, "j": j, "k": k, "l": l}


def index_values(identity: Identity, c: Concrete):
    """Every concrete index tuple of an identity, 1-based."""
    sizes = [c.n if size == "n" else N_INPUTS for _, size in identity.indices]
    return list(_grid(*sizes)) if sizes else [()]


def closed_values(identity: Identity, c: Concrete, loss=None) -> dict:
    """{index tuple: closed form in E, Y, X, D} for n = c.n."""
    names = [INDEX_SYMBOLS[name] for name, _ in identity.indices]
    return {idx: c.substitute(identity.closed, dict(zip(names, idx)), loss)
            for idx in index_values(identity, c)}


def prove(identity: Identity, n_classes: int) -> bool:
    """simplify(raw - closed) == 0 for every entry and every loss the identity covers."""
    c = Concrete(n_classes)
    for loss in identity.losses:
        raw = identity.raw(c, loss)
        closed = closed_values(identity, c, loss)
        for idx, expr in raw.items():
            difference = expr - closed[idx]
            if identity.condition:  # sum_j y_j = 1: eliminate the last target
                difference = difference.subs(c.Y[-1], 1 - sum(c.Y[:-1]))
            # both sides are rational functions and cancel() is their canonical form, so this
            # is simplify(raw - closed) == 0 decided exactly, and fast
            if sp.cancel(difference) != 0:
                return False
    return True
