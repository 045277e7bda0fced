"""One side of a typed derivation step -> a small expression tree, through chain_latex.lark.

The tree is the whole meaning of a side; chain_proof.py reads it into SymPy (exact) and
chain_numeric.py into torch (autograd). Nothing is evaluated here and no user text reaches
sympify or eval. What the notation means:

    \\hat{y}_i, SM(x)_i, \\mathrm{softmax}(z)_i   Yhat: the softmax output e^{z_i} / sum_j e^{z_j}
    z_i, f_i, f(x; w)_i, f(w,x)_i              Logit: the network's output z_i = f(x; w)_i
    f'_i, f'(w,x)_i                             Slope: d f_i / d w (or d w_i, the draft's setting)
    y_i                                         Target (sum_j y_j = 1 only where declared)
    e^{...}, \\exp, \\log, \\ln, \\delta_{ik}, \\sum_j / \\sum_{j=1}^{n} (every class)
    L_{\\mathrm{CE}}, L_{\\mathrm{MSE}}, L(\\hat{y}, y) or L (any loss: checked as CE and as MSE)
    \\frac{\\partial X}{\\partial v}, \\frac{\\partial}{\\partial v} X   v: z_k, w_k, w or \\hat{y}_j
"""
from __future__ import annotations

import functools
import re
from fractions import Fraction

from lark import Lark, Token, Transformer, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from derivations.chain_tree import (Add, Delta, Deriv, Euler, Exp, Indexed, Log, Loss, Mul, Num,
                                    Operator, Pow, Sum, Weight, degree, walk)
from pipeline import cli

MAX_SIDE_CHARS = 1000   # one side of a step; the draft's longest takes about 250
MAX_DEPTH = 30          # levels of the parse tree (also keeps SymPy's recursive walks shallow)
MAX_EXPONENT = 12       # a power; higher ones make the exact proof's polynomials explode
MAX_DIGITS = 15         # numbers are compared in float64
MAX_DEGREE = 40         # estimated degree of the proof's polynomials (see degree())


class ChainError(cli.UserError, ValueError):
    """A side cannot be read; `offset` is where in the side (or the math) the problem is.
    (Not formula.ClaimError, which would import SymPy: a cached rebuild needs only lark.)"""
    exit_code = 2  # `check`'s code for input not understood

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.offset = offset

    def shifted(self, by: int) -> "ChainError":
        return ChainError(str(self), self.offset + by)


MACRO_HINTS = {
    r"\nabla": r"write each entry as \frac{\partial L}{\partial w}",
    r"\mathbf": r"write the entries with their index: \hat{y}_i, z_k",
    r"\boldsymbol": r"write the entries with their index: \hat{y}_i, z_k",
    r"\sigma": r"write the softmax output as \hat{y}_i",
    r"\prod": r"write the factors side by side",
    r"\partial": r"write a derivative as \frac{\partial ...}{\partial z_k}",
    r"\input": "math holds formulas, not files",
    r"\include": "math holds formulas, not files",
    r"\mathrm": r"the names are L_{\mathrm{CE}}, L_{\mathrm{MSE}} and \mathrm{softmax}(z)_i",
}
KNOWN = (r"\hat \frac \partial \sum \exp \log \ln \delta \cdot \times \left \right, "
         r"L_{\mathrm{CE}}, L_{\mathrm{MSE}}")


# --- text -> tree --------------------------------------------------------------------------------

@functools.cache
def _parser() -> Lark:
    return Lark.open("chain_latex.lark", rel_to=__file__, parser="lalr", lexer="basic")


def parse_side(text: str) -> object:
    """The tree of one side; ChainError (offset within `text`) if it cannot be read."""
    if len(text) > MAX_SIDE_CHARS:
        raise ChainError(f"this side has {len(text)} characters; at most {MAX_SIDE_CHARS} are "
                         f"read: split the step", 0)
    if not text.strip():
        raise ChainError("a side of this equality is empty", 0)
    parser = _parser()
    try:
        for token in parser.lex(text):
            if token.type == "MACRO":
                raise ChainError(_macro_message(str(token)), token.start_pos)
        tree = parser.parse(text)
    except UnexpectedInput as err:
        raise _syntax_error(err) from None
    if _depth(tree) > MAX_DEPTH:
        raise ChainError(f"this side is nested more than {MAX_DEPTH} levels deep", 0)
    try:
        node = _Build().transform(tree)
    except VisitError as err:
        if isinstance(err.orig_exc, ChainError):
            raise err.orig_exc from None
        raise
    _validate(node)
    if degree(node) > MAX_DEGREE:
        raise ChainError(f"this side is too large to prove exactly (degree about {degree(node)}, "
                         f"at most {MAX_DEGREE}): split the step or lower its powers", 0)
    return node


def _macro_message(name: str) -> str:
    hint = MACRO_HINTS.get(name, f"the derivation language knows {KNOWN}")
    return f"`{name[:40]}` is not in the derivation language; {hint}"


def _syntax_error(err: UnexpectedInput) -> ChainError:
    at = getattr(err, "pos_in_stream", None) or 0
    if isinstance(err, UnexpectedCharacters):
        char = err.char if err.char.isprintable() else repr(err.char)
        return ChainError(f"`{char}` is not in the derivation language", at)
    token = getattr(err, "token", None)
    if isinstance(err, UnexpectedToken) and token is not None and token.type == "$END":
        return ChainError("this side ends too early: an operand or a closing bracket is missing",
                          at)
    shown = str(token)[:40] if token is not None else "?"
    if token is not None:
        at = token.start_pos or 0
    if shown in MACRO_HINTS:
        return ChainError(f"`{shown}` cannot stand here; {MACRO_HINTS[shown]}", at)
    return ChainError(f"`{shown}` cannot stand here in the derivation language", at)


def _depth(tree: Tree) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((c, level + 1) for c in node.children if isinstance(c, Tree))
    return deepest


SUM_BOUNDS = re.compile(r"\\sum(?:\s*\\limits)?((?:\s*[_^]\s*(?:\{[^{}]*\}|[a-zA-Z0-9])){0,2})")
# Every sum runs over every class; these are the ways of writing that (classes 1..n or 0..n-1,
# and the draft's 0..n: n + 1 classes numbered from 0). One chain uses one numbering.
RANGES = {("1", "n"): "1..n", ("0", "n-1"): "0..n-1", ("0", "n"): "0..n", ("1", "N"): "1..N",
          ("1", "C"): "1..C", ("1", "K"): "1..K", ("0", "N-1"): "0..N-1"}


def _sum_bounds(token: Token) -> tuple[str, str]:
    """(variable, range) of a \\sum token."""
    parts = re.findall(r"([_^])\s*(\{[^{}]*\}|[a-zA-Z0-9])", SUM_BOUNDS.match(token).group(1))
    scripts = {kind: value.strip("{}").replace(" ", "") for kind, value in parts}
    below, above = scripts.get("_", ""), scripts.get("^")
    var, _, start = below.partition("=")
    if not re.fullmatch(r"[a-z]", var):
        raise ChainError(rf"write the sum as \sum_{{j=1}}^{{n}} or \sum_j, not `{token}`",
                         token.start_pos)
    if not start and above is None:
        return var, ""
    if (start, above) not in RANGES:
        raise ChainError(f"`{token}`: a sum runs over every class, from 1 to n (or 0 to n-1)",
                         token.start_pos)
    return var, RANGES[(start, above)]


def _index(token) -> str:
    return str(token)


class _Build(Transformer):
    """The lark tree -> the expression tree, each name checked against the notation."""

    def number(self, children):
        (token,) = children
        if len(token.replace(".", "")) > MAX_DIGITS:
            raise ChainError(f"the number `{token[:20]}...` has more than {MAX_DIGITS} digits",
                             token.start_pos)
        return Num(Fraction(str(token)))

    def sum(self, children):
        terms, sign = [], "PLUS"
        for child in children:
            if isinstance(child, Token):
                sign = child.type
            else:
                if isinstance(child, Operator):
                    raise ChainError("an operator has nothing to apply to", child.pos)
                terms.append(_negate(child) if sign == "MINUS" else child)
        return Add(tuple(terms))

    def product(self, children):
        items, operator = [], "TIMES"
        for child in children:
            if isinstance(child, Token):
                operator = child.type
            else:
                items.append((operator, child))
                operator = "TIMES"
        return _fold(items)

    def neg(self, children):
        child = children[-1]
        if isinstance(child, Operator):
            return Operator(child.kind, child.arg, -child.sign, child.pos)
        return _negate(child)

    def pos(self, children):
        return children[-1]

    def group(self, children):
        (inner,) = children
        return inner

    def frac(self, children):
        numerator, denominator = children
        return Mul((numerator, Pow(denominator, -1)))

    def power(self, children):
        base, exponent = children
        if isinstance(base, Euler):
            return Exp(exponent)
        value = exponent.value if isinstance(exponent, Num) else None
        if value is None or value.denominator != 1 or abs(value) > MAX_EXPONENT:
            raise ChainError(f"exponents are whole numbers from -{MAX_EXPONENT} to {MAX_EXPONENT}"
                             r" (e^{...} excepted)", _position(base))
        return Pow(base, int(value))

    def bare_exponent(self, children):
        (token,) = children
        if len(token) > 1:
            raise ChainError(f"write ^{{{token}}}: TeX reads ^{token} as ^{token[0]} followed by "
                             f"{token[1:]}", token.start_pos)
        return Num(Fraction(str(token)))

    def exp(self, children):
        return Exp(children[-1])

    def log(self, children):
        return Log(children[-1])

    def sum_operator(self, children):
        (token,) = children
        return Operator("sum", _sum_bounds(token), 1, token.start_pos)

    def log_sum(self, children):
        (token,) = children
        return Operator("logsum", _sum_bounds(token), 1, token.start_pos)

    def derivative(self, children):
        body, variable = children
        return Deriv(body, *_variable(variable))

    def derivative_operator(self, children):
        (variable,) = children
        return Operator("deriv", _variable(variable), 1, _position(variable))

    def hat(self, children):
        letter, index = children
        _expect(letter, "y", r"\hat{y}_i (the softmax output)")
        return Indexed("yhat", _index(index))

    def bare_hat(self, children):
        (letter,) = children
        raise ChainError(r"\hat{y} needs its index: \hat{y}_i (the derivation language reads "
                         r"entries, not vectors)", getattr(letter, "start_pos", 0))

    def softmax_app(self, children):
        return Indexed("yhat", _index(children[1]))

    def func_app(self, children):
        token, index = children
        return Indexed("slope" if "'" in token else "logit", _index(index))

    def prime(self, children):
        letter, index = children
        _expect(letter, "f", "f'_k (the derivative of a logit)")
        return Indexed("slope", _index(index))

    def subscripted(self, children):
        letter, index = children
        kinds = {"z": "logit", "f": "logit", "y": "target"}
        if letter == "w":
            return Weight(_index(index), letter.start_pos)
        if letter not in kinds:
            raise ChainError(f"`{letter}_{index}` is not in the derivation language; the symbols "
                             r"are \hat{y}_i, z_i (or f_i, f(x; w)_i), f'_i, y_i, w, w_k",
                             letter.start_pos)
        return Indexed(kinds[str(letter)], _index(index))

    def letter(self, children):
        (letter,) = children
        if letter == "e":
            return Euler(letter.start_pos)
        if letter == "w":
            return Weight(None, letter.start_pos)
        if letter == "L":
            return Loss("any")
        raise ChainError(f"`{letter}` is not in the derivation language here; the symbols are "
                         r"\hat{y}_i, z_i, f'_i, y_i, L and indices i, j, k", letter.start_pos)

    def euler(self, children):
        return Euler(children[0].start_pos)

    def delta(self, children):
        return Delta(_index(children[0]), _index(children[1]))

    def loss(self, children):
        (token,) = children
        kind = "mse" if "MSE" in token else "ce" if "CE" in token else "any"
        return Loss(kind)

    def macro(self, children):
        (token,) = children
        raise ChainError(_macro_message(str(token)), token.start_pos)


def _fold(items: list) -> object:
    """(operator, factor) pairs -> a product; a \\sum or \\frac{\\partial}{\\partial v} takes
    the rest of the product as its operand."""
    factors = []
    for position, (operator, child) in enumerate(items):
        if isinstance(child, Operator):
            rest = items[position + 1:]
            if not rest or rest[0][0] == "DIVIDE":
                raise ChainError("this operator has nothing to apply to", child.pos)
            operand = _fold(rest)
            if child.kind == "deriv":
                applied = Deriv(operand, *child.arg)
            else:
                applied = Sum(child.arg[0], operand, child.arg[1])
                applied = Log(applied) if child.kind == "logsum" else applied
            applied = applied if child.sign > 0 else _negate(applied)
            factors.append(Pow(applied, -1) if operator == "DIVIDE" else applied)
            break
        factors.append(Pow(child, -1) if operator == "DIVIDE" else child)
    return factors[0] if len(factors) == 1 else Mul(tuple(factors))


def _negate(node):
    return Mul((Num(Fraction(-1)), node))


def _position(node) -> int:
    return getattr(node, "pos", 0)


def _expect(letter: Token, wanted: str, what: str) -> None:
    if letter != wanted:
        raise ChainError(f"`{letter}` is not in the derivation language here; the only symbol "
                         f"written this way is {what}", letter.start_pos)


def _variable(node) -> tuple[str, str | None]:
    """What a derivative is taken with respect to."""
    if isinstance(node, Weight):
        return "w", node.index
    if isinstance(node, Indexed) and node.kind in ("logit", "yhat"):
        return ("z" if node.kind == "logit" else "yhat"), node.index
    raise ChainError(r"a derivative is taken with respect to z_k, w_k, w or \hat{y}_j",
                     _position(node))


def _validate(node) -> None:
    """e and w stand only where they mean something; f' is not differentiated by w again."""
    for current in walk(node):
        if isinstance(current, Euler):
            raise ChainError(r"`e` stands only as a base: e^{z_i}", current.pos)
        if isinstance(current, Weight):
            raise ChainError(r"`w` stands only in a derivative: \frac{\partial ...}{\partial w}",
                             current.pos)
        if isinstance(current, Operator):
            raise ChainError("this operator has nothing to apply to", current.pos)
        if isinstance(current, Deriv) and current.wrt == "w" and any(
                isinstance(x, Indexed) and x.kind == "slope" or isinstance(x, Deriv) and x.wrt == "w"
                for x in walk(current.body)):
            raise ChainError("differentiating f' (or a derivative by w) by w again takes "
                             "f'', a second derivative, which the derivation language does not have", 0)
        if isinstance(current, Deriv) and current.wrt == "yhat" and any(
                isinstance(x, (Exp, Deriv)) or isinstance(x, Indexed) and x.kind in ("logit", "slope")
                for x in walk(current.body)):
            raise ChainError(r"a derivative by \hat{y}_j applies to an expression in the "
                             r"\hat{y} and y alone (such as a loss), not to another derivative", 0)
