"""SymPy derivations of the softmax gradients: the definitions, the raw derivatives SymPy computes
from them, and the proof that a closed form equals them.

The definitions are SymPy objects in the report's notation (see notation.py); the report typesets
them and the raw derivatives below are built from them, so what is shown is what was differentiated:

    yhat_i = exp(z_i) / sum_j exp(z_j),   z = W x + b,  z_j = f_j(w)  or  z_j = f_j(w_j),
    L_CE = -sum_i y_i log yhat_i,         L_MSE = sum_i (yhat_i - y_i)^2   (one sample; a batch
                                                                           mean is linear in it)

`prove(identity, n)` checks simplify(raw - closed) == 0 for every index value in the identity's
case, with exp(z_m) written as a positive symbol E_m so that both sides are rational functions.
The identities themselves (closed form, raw derivative, autograd oracle) are in identities.py.
"""
from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from derivations import notation
from derivations.notation import (L_CE, L_MSE, W, bvec, df, dL, fan_in, fp, i, j, k, l, m, minus,
                                  n, product, sigma, x, xvec, y, yhat, z, zvec)

N_INPUTS = 2  # inputs x_l of the last linear layer used in the proofs (the identity is per entry)


# --- the definitions ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Definition:
    id: str
    title: str
    lhs: sp.Basic
    rhs: sp.Basic

    def record(self) -> dict:
        lhs, rhs = notation.latex(self.lhs), notation.latex(self.rhs)
        return {"id": self.id, "kind": "definition", "title": self.title,
                "latex": f"{lhs} = {rhs}", "lhs": lhs, "rhs": rhs}


SOFTMAX = Definition("softmax", "Softmax", yhat[i], sp.exp(z[i]) / sp.Sum(sp.exp(z[j]), (j, 1, n)))
CROSS_ENTROPY = Definition("ce_loss", "Cross-entropy", L_CE,
                           -sp.Sum(product(y[i], sp.log(yhat[i])), (i, 1, n)))
SQUARED_ERROR = Definition("mse_loss", "Squared error on the softmax outputs", L_MSE,
                           sp.Sum(minus(yhat[i], y[i]) ** 2, (i, 1, n)))
LINEAR_LAYER = Definition("linear_layer", "Linear layer", zvec,
                          sp.MatAdd(sp.MatMul(W, xvec), bvec, evaluate=False))
# Not differentiated here: hw1/scratch_mlp.py's ReLU initialiser is tested against it.
HE_VARIANCE = Definition("he_variance", "He initialisation of a ReLU layer's weights", sigma ** 2,
                         2 / fan_in)
DEFINITIONS = [SOFTMAX, CROSS_ENTROPY, SQUARED_ERROR, LINEAR_LAYER, HE_VARIANCE]
LOSSES = {"ce": CROSS_ENTROPY, "mse": SQUARED_ERROR}


def softmax_of(logits: list) -> list:
    """SOFTMAX.rhs for every class, with z_1..z_n replaced by `logits` (any expressions)."""
    table = {z[a]: value for a, value in enumerate(logits, start=1)}
    rhs = SOFTMAX.rhs.subs(n, len(logits))
    return [rhs.subs(i, a).doit().xreplace(table) for a in range(1, len(logits) + 1)]


def loss_of(loss: str, outputs: list, targets: list) -> sp.Expr:
    """The loss definition's rhs for n = len(outputs), with yhat_m and y_m replaced."""
    table = {yhat[a]: value for a, value in enumerate(outputs, start=1)}
    table.update({y[a]: value for a, value in enumerate(targets, start=1)})
    return LOSSES[loss].rhs.subs(n, len(outputs)).doit().xreplace(table)


def explicit(matrix_expr: sp.MatrixExpr, n_classes: int, entry: Callable) -> sp.Matrix:
    """A matrix expression's entries for n classes and N_INPUTS inputs, each matrix element
    M[r, c] replaced by entry(name of M, r + 1, c + 1)."""
    matrix = matrix_expr.subs({n: n_classes, m: N_INPUTS}).as_explicit()
    return matrix.replace(lambda e: isinstance(e, MatrixElement),
                          lambda e: entry(e.parent.name, int(e.i) + 1, int(e.j) + 1))


# --- concrete symbols ---------------------------------------------------------------------------

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
        """dL/dyhat_m, differentiated from the loss definition."""
        return [] if loss is None else _loss_gradient(self.n, self.numeric, loss)

    def substitute(self, expr, index_values: dict, loss: str | None = None):
        """The indexed closed form at concrete indices, in the E, Y, X, D symbols."""
        expr = expr.subs(n, self.n).subs(index_values).doit()
        table = {}
        for a, value in enumerate(self.yhat_values(), start=1):
            table[yhat[a]] = value
        for a in range(1, self.n + 1):
            # df_a = d f_a / d w (one shared weight) and fp_a = d f_a / d w_a (a weight per
            # logit) belong to different settings; either is D_a, the logit's slope
            table[y[a]], table[df[a]], table[fp[a]] = self.Y[a - 1], self.D[a - 1], self.D[a - 1]
        for a, value in enumerate(self.dL_values(loss), start=1):
            table[dL[a]] = value
        for a in range(1, N_INPUTS + 1):
            table[x[a]] = self.X[a - 1]
        return expr.xreplace(table)


@functools.cache
def _loss_gradient(n_classes: int, numeric: bool, loss: str) -> list:
    c = Concrete(n_classes, numeric)
    outputs = sp.symbols(f"P1:{n_classes + 1}", positive=True)
    L = loss_of(loss, list(outputs), list(c.Y))
    table = dict(zip(outputs, c.yhat_values()))
    return [sp.diff(L, p).xreplace(table) for p in outputs]


# --- raw derivatives from the definitions ------------------------------------------------------

def _to_E(expr, zs, c: Concrete):
    """Write exp(z_m) as E_m: both sides become rational functions."""
    return expr.xreplace({e: _exp_as_power(e, tuple(zs), tuple(c.E)) for e in expr.atoms(sp.exp)})


@functools.lru_cache(maxsize=None)
def _exp_as_power(e, zs, Es):
    # SymPy merges exp(z)**2 into exp(2 z): map every exp(a z_m) to E_m**a.
    for zm, E in zip(zs, Es):
        ratio = sp.cancel(e.args[0] / zm)
        if ratio.is_number:
            return E ** ratio
    raise ValueError(f"{e} is not a power of exp(z_m)")


def _logits(c: Concrete):
    return list(sp.symbols(f"z1:{c.n + 1}", real=True))


def _linear(c: Concrete):
    """LINEAR_LAYER's logits in fresh symbols W{r}_{s}, b{r} and the inputs X_s."""
    symbol = {"W": lambda r, s: sp.Symbol(f"W{r}_{s}", real=True),
              "b": lambda r, s: sp.Symbol(f"b{r}", real=True),
              "x": lambda r, s: c.X[r - 1]}
    zs = explicit(LINEAR_LAYER.rhs, c.n, lambda name, r, s: symbol[name](r, s))
    weights = sp.Matrix(c.n, N_INPUTS, lambda r, s: symbol["W"](r + 1, s + 1))
    return weights, [symbol["b"](r, 1) for r in range(1, c.n + 1)], list(zs)


def _grid(*sizes):
    return itertools.product(*(range(1, s + 1) for s in sizes))


def raw_jacobian(c: Concrete, loss=None):
    zs = _logits(c)
    yh = softmax_of(zs)
    return {(a, b): _to_E(sp.diff(yh[a - 1], zs[b - 1]), zs, c) for a, b in _grid(c.n, c.n)}


def raw_weight(c: Concrete, loss=None):
    W_, _, zs = _linear(c)
    yh = softmax_of(zs)
    return {(a, b, s): _to_E(sp.diff(yh[a - 1], W_[b - 1, s - 1]), zs, c)
            for a, b, s in _grid(c.n, c.n, N_INPUTS)}


def raw_bias(c: Concrete, loss=None):
    _, bias, zs = _linear(c)
    yh = softmax_of(zs)
    return {(a, b): _to_E(sp.diff(yh[a - 1], bias[b - 1]), zs, c) for a, b in _grid(c.n, c.n)}


def _shared_weight(c: Concrete):
    """z_j = f_j(w) for arbitrary differentiable f_j of one weight w."""
    w = sp.Symbol("w", real=True)
    fs = [sp.Function(f"f{a}")(w) for a in range(1, c.n + 1)]
    derivs = {sp.Derivative(f, w): D for f, D in zip(fs, c.D)}
    return w, fs, derivs


def _own_weights(c: Concrete):
    """z_j = f_j(w_j): each logit depends on a weight of its own (the draft's setting)."""
    ws = sp.symbols(f"w1:{c.n + 1}", real=True)
    fs = [sp.Function(f"f{a}")(w) for a, w in enumerate(ws, start=1)]
    derivs = {sp.Derivative(f, w): D for f, w, D in zip(fs, ws, c.D)}
    return ws, fs, derivs


def raw_general(c: Concrete, loss=None):
    w, fs, derivs = _shared_weight(c)
    yh = softmax_of(fs)
    return {(a,): _to_E(sp.diff(yh[a - 1], w).xreplace(derivs), fs, c) for a, in _grid(c.n)}


def raw_own_weights(c: Concrete, loss=None):
    ws, fs, derivs = _own_weights(c)
    yh = softmax_of(fs)
    return {(a, b): _to_E(sp.diff(yh[a - 1], ws[b - 1]).xreplace(derivs), fs, c)
            for a, b in _grid(c.n, c.n)}


def raw_loss_logits(c: Concrete, loss):
    zs = _logits(c)
    L = loss_of(loss, softmax_of(zs), list(c.Y))
    return {(b,): _to_E(sp.diff(L, zs[b - 1]), zs, c) for b, in _grid(c.n)}


def raw_loss_weight(c: Concrete, loss):
    W_, _, zs = _linear(c)
    L = loss_of(loss, softmax_of(zs), list(c.Y))
    return {(b, s): _to_E(sp.diff(L, W_[b - 1, s - 1]), zs, c) for b, s in _grid(c.n, N_INPUTS)}


def raw_loss_general(c: Concrete, loss):
    w, fs, derivs = _shared_weight(c)
    L = loss_of(loss, softmax_of(fs), list(c.Y))
    return {(): _to_E(sp.diff(L, w).xreplace(derivs), fs, c)}


@functools.cache
def raw_derivative(raw: Callable, n_classes: int, loss: str | None = None) -> dict:
    """raw(Concrete(n), loss), computed once: identities in one setting share it."""
    return raw(Concrete(n_classes), loss)


# --- identities and their proof -----------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """Which entries an identity covers: its LaTeX condition ("" for all) and the test."""
    latex: str
    holds: Callable[[dict], bool]  # {"i": 1, "k": 2, ...} -> bool


EVERY_ENTRY = Case("", lambda v: True)
K_IS_I = Case("k = i", lambda v: v["i"] == v["k"])
K_NOT_I = Case(r"k \neq i", lambda v: v["i"] != v["k"])
CASES = {"all": EVERY_ENTRY, "diagonal": K_IS_I, "offdiagonal": K_NOT_I}


@dataclass(frozen=True)
class Identity:
    """lhs = closed: SymPy proves it against `raw` (derivatives of the definitions) and verify.py
    checks it against `oracle` (a verify.Oracle: the same derivative by torch autograd)."""
    id: str
    title: str
    lhs: str                          # LaTeX of the left-hand side, in the report's notation
    closed: sp.Basic                  # right-hand side: indexed, or a matrix expression
    indices: tuple                    # free indices and their range: "n" classes or "m" inputs
    raw: Callable                     # (Concrete, loss) -> {index tuple: raw derivative}
    oracle: Any                       # verify.Oracle
    losses: tuple = (None,)           # for the chain rule: proven for each loss's dL/dyhat
    condition: str = ""               # LaTeX side condition, if any
    note: str = ""
    case: Case = EVERY_ENTRY          # the entries it covers


INDEX_SYMBOLS = {"i": i, "j": j, "k": k, "l": l}


def full_grid(identity: Identity, n_classes: int) -> list:
    """Every index tuple of the identity's indices, 1-based, row-major."""
    sizes = [n_classes if size == "n" else N_INPUTS for _, size in identity.indices]
    return list(_grid(*sizes)) if sizes else [()]


def in_case(identity: Identity, idx: tuple) -> bool:
    return identity.case.holds(dict(zip((name for name, _ in identity.indices), idx)))


def index_values(identity: Identity, c: Concrete) -> list:
    """The index tuples the identity covers, 1-based, row-major."""
    return [idx for idx in full_grid(identity, c.n) if in_case(identity, idx)]


@functools.cache
def _entries(closed: sp.MatrixExpr, n_classes: int) -> sp.Matrix:
    """A matrix closed form's entries, in indexed symbols (yhat[r], y[r], x[s])."""
    bases = {"yhat": yhat, "y": y, "x": x}
    return explicit(closed, n_classes, lambda name, r, s: bases[name][r])


def closed_values(identity: Identity, c: Concrete, loss=None) -> dict:
    """{index tuple: closed form in E, Y, X, D} for n = c.n, over the identity's case."""
    names = [INDEX_SYMBOLS[name] for name, _ in identity.indices]
    if isinstance(identity.closed, sp.MatrixExpr):
        entries = _entries(identity.closed, c.n)
        return {idx: c.substitute(entries[idx[0] - 1, idx[1] - 1], {}, loss)
                for idx in index_values(identity, c)}
    return {idx: c.substitute(identity.closed, dict(zip(names, idx)), loss)
            for idx in index_values(identity, c)}


def prove(identity: Identity, n_classes: int) -> bool:
    """simplify(raw - closed) == 0 for every entry in the case and every loss covered."""
    c = Concrete(n_classes)
    for loss in identity.losses:
        raw = raw_derivative(identity.raw, n_classes, loss)
        for idx, expr in closed_values(identity, c, loss).items():
            difference = raw[idx] - expr
            if identity.condition:  # sum_j y_j = 1: eliminate the last target
                difference = difference.subs(c.Y[-1], 1 - sum(c.Y[:-1]))
            # both sides are rational functions and cancel() is their canonical form, so this
            # is simplify(raw - closed) == 0 decided exactly, and fast
            if sp.cancel(difference) != 0:
                return False
    return True
