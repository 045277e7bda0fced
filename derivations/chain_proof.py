"""The exact half of a step's check: both sides in SymPy for n classes at given index values, and
their difference decided to be zero.

Each side is read into concrete symbols: logits z_1..z_n (real), targets y_m, slopes D_m
(f'_m), and the softmax output e^{z_m} / sum e^{z}; derivatives are SymPy's: by z_k directly,
by the weight through the chain rule (z_m = f_m(w_m): d/dw_k = D_k d/dz_k; z_m = f_m(w): d/dw =
sum_m D_m d/dz_m), by \\hat{y}_j with the outputs as free symbols, then the softmax put in. The
difference is written with E_m = e^{z_m} and every remaining logarithm as a symbol of its own,
and tested as a rational function: numerator == 0, decided exactly in SymPy's polynomial rings.
That test never proves a false step (it only ever treats more as independent than is); a true
step it cannot prove is reported as unproven, not as refuted (chain.py asks the numbers).
"""
from __future__ import annotations

import functools

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.rings import ring

from derivations import chain_tree as ast


@functools.cache
def symbols(n: int) -> dict:
    return {"z": sp.symbols(f"z1:{n + 1}", real=True), "y": sp.symbols(f"y1:{n + 1}", real=True),
            "D": sp.symbols(f"D1:{n + 1}", real=True), "P": sp.symbols(f"P1:{n + 1}", positive=True)}


class Concrete:
    """One side at n classes, index values `env`, a loss standing for L (ce or mse)."""

    def __init__(self, n: int, loss: str):
        self.n, self.loss, self.s = n, loss, symbols(n)
        exps = [sp.exp(z) for z in self.s["z"]]
        total = sum(exps)
        self.softmax = [e / total for e in exps]

    def value(self, node, env: dict, free_outputs: bool = False):
        go = lambda child, e=env: self.value(child, e, free_outputs)  # noqa: E731
        if isinstance(node, ast.Num):
            return sp.Rational(node.value.numerator, node.value.denominator)
        if isinstance(node, ast.Add):
            return sp.Add(*(go(t) for t in node.terms))
        if isinstance(node, ast.Mul):
            return sp.Mul(*(go(f) for f in node.factors))
        if isinstance(node, ast.Pow):
            base = go(node.base)
            if node.exp < 0 and base == 0:
                raise ZeroDivisionError
            return base ** node.exp
        if isinstance(node, ast.Exp):
            return sp.exp(go(node.arg))
        if isinstance(node, ast.Log):
            return sp.log(go(node.arg))
        if isinstance(node, ast.Indexed):
            m = env[node.index] - 1
            if node.kind == "yhat":
                return self.s["P"][m] if free_outputs else self.softmax[m]
            return self.s[{"logit": "z", "slope": "D", "target": "y"}[node.kind]][m]
        if isinstance(node, ast.Delta):
            return sp.Integer(int(env[node.a] == env[node.b]))
        if isinstance(node, ast.Loss):
            return self.loss_value(node.kind, free_outputs)
        if isinstance(node, ast.Sum):
            return sp.Add(*(go(node.body, {**env, node.var: m}) for m in range(1, self.n + 1)))
        if isinstance(node, ast.Deriv):
            return self.derivative(node, env)
        raise TypeError(node)  # a bug: chain_ast builds nothing else

    def loss_value(self, kind: str, free_outputs: bool):
        kind = self.loss if kind == "any" else kind
        out = self.s["P"] if free_outputs else self.softmax
        y = self.s["y"]
        if kind == "ce":
            return -sp.Add(*(y[m] * sp.log(out[m]) for m in range(self.n)))
        return sp.Add(*((out[m] - y[m]) ** 2 for m in range(self.n)))

    def derivative(self, node: ast.Deriv, env: dict):
        z, D = self.s["z"], self.s["D"]
        if node.wrt == "yhat":
            body = self.value(node.body, env, free_outputs=True)
            m = env[node.index] - 1
            slope = sp.diff(body, self.s["P"][m])
            return slope.xreplace(dict(zip(self.s["P"], self.softmax)))
        body = self.value(node.body, env)
        if node.wrt == "z":
            return sp.diff(body, z[env[node.index] - 1])
        if node.index is not None:  # z_m = f_m(w_m): only z_k depends on w_k
            m = env[node.index] - 1
            return sp.diff(body, z[m]) * D[m]
        return sp.Add(*(sp.diff(body, z[m]) * D[m] for m in range(self.n)))


def difference(left, right, n: int, env: dict, loss: str, sum_one: bool):
    concrete = Concrete(n, loss)
    diff = concrete.value(left, env) - concrete.value(right, env)
    if sum_one:  # the declared sum_j y_j = 1: the last target is 1 minus the others
        y = concrete.s["y"]
        diff = diff.xreplace({y[-1]: 1 - sp.Add(*y[:-1])})
    return diff


def is_zero(diff, n: int) -> bool:
    """diff == 0 as a function of the logits, targets and slopes; False when not shown."""
    if diff == 0:
        return True
    if diff.has(sp.log):
        diff = sp.expand_log(diff, force=True)
    diff = _exponentials_as_symbols(diff, n)
    atoms = {}
    diff = diff.replace(lambda e: isinstance(e, sp.Function),
                        lambda e: atoms.setdefault(e, sp.Dummy(f"a{len(atoms)}")))
    if diff.has(sp.Function):
        return False
    gens = sorted(diff.free_symbols, key=str)
    if not gens:
        return sp.simplify(diff) == 0
    R, *G = ring(gens, QQ)
    try:
        num, _ = _fraction(diff, dict(zip(gens, G)), R)
    except (ValueError, ZeroDivisionError):
        return False
    return not num


def _exponentials_as_symbols(expr, n: int):
    """e^{a_1 z_1 + ... + c} -> E_1^{a_1} ... e^c with integer a_m and c (e a symbol, so that
    e^{z_i + 1000} / sum_j e^{z_j + 1000} cancels exactly); others stay."""
    z = symbols(n)["z"]
    E = dict(zip(z, sp.symbols(f"E1:{n + 1}", positive=True)))
    E[sp.S.One] = sp.Symbol("Euler_e", positive=True)
    table = {}
    for e in expr.atoms(sp.exp):
        terms = e.args[0].as_coefficients_dict()
        if all(s in E and c.is_Integer for s, c in terms.items()):
            table[e] = sp.Mul(*(E[s] ** c for s, c in terms.items()))
    return expr.xreplace(table)


def _fraction(expr, table: dict, R):
    """expr as (numerator, {denominator factor: power}) in the ring R. Denominators are kept as
    powers of the factors met (such as sum_m E_m), so a sum of terms over (sum E)^2 and (sum E)^3
    takes (sum E)^3, not their product: no gcd is computed and the zero test stays exact."""
    if expr in table:
        return table[expr], {}
    if expr.is_Rational:
        return R(expr.p), ({} if expr.q == 1 else {_key(R(expr.q)): (R(expr.q), 1)})
    if isinstance(expr, sp.Add):
        parts = [_fraction(term, table, R) for term in expr.args]
        common = {}
        for _, den in parts:
            for key, (factor, power) in den.items():
                if power > common.get(key, (None, 0))[1]:
                    common[key] = (factor, power)
        num = R.zero
        for a, den in parts:
            for key, (factor, power) in common.items():
                missing = power - den.get(key, (None, 0))[1]
                if missing:
                    a = a * factor ** missing
            num += a
        return num, common
    if isinstance(expr, sp.Mul):
        num, den = R.one, {}
        for factor in expr.args:
            a, d = _fraction(factor, table, R)
            num *= a
            for key, (f, power) in d.items():
                den[key] = (f, den.get(key, (None, 0))[1] + power)
        return num, den
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer:
        a, den = _fraction(expr.base, table, R)
        e = int(expr.exp)
        if e >= 0:
            return a ** e, {key: (f, p * e) for key, (f, p) in den.items()}
        if not a:
            raise ZeroDivisionError
        num = R.one
        for f, p in den.values():
            num *= f ** (p * -e)
        return num, {_key(a): (a, -e)}
    raise ValueError(f"not a rational function: {expr}")


def _key(poly) -> tuple:
    return tuple(sorted(poly.items()))
