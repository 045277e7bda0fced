"""The expression tree of one side of a typed derivation step (built by chain_ast.py from
chain_latex.lark), and what the checker asks of it: its nodes, its free indices, the size of
the proof it takes. chain_proof.py reads it into SymPy, chain_numeric.py into torch."""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True)
class Num:
    value: Fraction


@dataclass(frozen=True)
class Add:
    terms: tuple


@dataclass(frozen=True)
class Mul:
    factors: tuple


@dataclass(frozen=True)
class Pow:
    base: object
    exp: int


@dataclass(frozen=True)
class Exp:
    arg: object


@dataclass(frozen=True)
class Log:
    arg: object


@dataclass(frozen=True)
class Indexed:
    kind: str    # yhat | logit | slope | target
    index: str


@dataclass(frozen=True)
class Delta:
    a: str
    b: str


@dataclass(frozen=True)
class Loss:
    kind: str    # ce | mse | any


@dataclass(frozen=True)
class Sum:
    var: str
    body: object
    range: str = ""     # as written: "" (\\sum_j), "1..n", "0..n-1", "0..n", ...


@dataclass(frozen=True)
class Deriv:
    body: object
    wrt: str            # z | w | yhat
    index: str | None   # None: the one shared weight w


@dataclass(frozen=True)
class Weight:           # w or w_k: only as the variable of a derivative
    index: str | None
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Euler:            # e: only as the base of a power
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Operator:         # \sum_j or \frac{\partial}{\partial v}, waiting for its operand
    kind: str           # sum | logsum (\\log \\sum_j ...) | deriv
    arg: tuple          # sum: (var, bounds); deriv: (wrt, index)
    sign: int
    pos: int = field(default=0, compare=False)


def children(node) -> tuple:
    if isinstance(node, Add):
        return node.terms
    if isinstance(node, Mul):
        return node.factors
    if isinstance(node, (Pow,)):
        return (node.base,)
    if isinstance(node, (Exp, Log)):
        return (node.arg,)
    if isinstance(node, (Sum, Deriv)):
        return (node.body,)
    return ()


def walk(node):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))


def free_indices(node, bound: frozenset = frozenset()) -> set:
    if isinstance(node, Indexed):
        return {node.index} - bound
    if isinstance(node, Delta):
        return {node.a, node.b} - bound
    if isinstance(node, Sum):
        return free_indices(node.body, bound | {node.var})
    found = {node.index} - bound if isinstance(node, Deriv) and node.index else set()
    for child in children(node):
        found |= free_indices(child, bound)
    return found


def degree(node) -> int:
    """A bound on the degree of the rational function the exact proof expands (numerator plus
    denominator, in the E_m = e^{z_m} and the other symbols): what the proof's cost grows with.
    Terms of a sum share their denominators (chain_proof keeps powers of one factor apart)."""
    num, den = _degrees(node)
    return num + den


def _degrees(node) -> tuple[int, int]:
    if isinstance(node, Indexed):
        return (1, 1) if node.kind == "yhat" else (1, 0)
    if isinstance(node, Loss):
        return 2, 2
    if isinstance(node, (Exp, Log)):
        num, den = _degrees(node.arg)
        return max(1, num + den), 0
    if isinstance(node, Add):
        parts = [_degrees(t) for t in node.terms]
        den = max(d for _, d in parts)
        return max(n + den - d for n, d in parts), den
    if isinstance(node, Mul):
        parts = [_degrees(f) for f in node.factors]
        return sum(n for n, _ in parts), sum(d for _, d in parts)
    if isinstance(node, Pow):
        num, den = _degrees(node.base)
        e = abs(node.exp)
        return (num * e, den * e) if node.exp >= 0 else (num * e + den * e, num * e)
    if isinstance(node, Sum):
        return _degrees(node.body)
    if isinstance(node, Deriv):
        num, den = _degrees(node.body)
        return num + den + 2, den + 1
    return 0, 0
