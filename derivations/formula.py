"""Claimed formulas, typed by a user, into SymPy: parsed against a whitelist, never evaluated.

Two spellings of the same formulas, each a small lark grammar beside this file:
    plain   y_i*(KroneckerDelta(i, k) - y_k)*fp_k                    formula_plain.lark
    LaTeX   \\hat{y}_i \\left(\\delta_{ik} - \\hat{y}_k\\right) f'_k        formula_latex.lark
The names are the only ones there are:
    y_i, y_k     \\hat{y}_i, \\hat{y}_k   softmax outputs
    fp_i, fp_k   f'_i, f'_k           derivatives of the logits f_i, f_k w.r.t. their weight
    i, k         i, k                 indices, as in KroneckerDelta(i, k) = \\delta_{ik}
One transformer builds SymPy objects from either parse tree, node by node; no user text reaches
sympify, parse_expr or eval. There are no functions besides the delta: every entry of the softmax
derivatives is a polynomial in yhat and f', and each further function would be more to guard.

The work is bounded before anything is built (length, depth) and while building (whole exponents
up to MAX_EXPONENT, folded numbers under MAX_DIGITS digits: `9**9**9**9` stops at its second
power). Any refusal is a ClaimError of one line.
"""
from __future__ import annotations

import functools
import math
from collections import Counter
from fractions import Fraction

import sympy as sp
from lark import Lark, Token, Transformer, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError
from lark.lexer import PatternRE

from derivations import notation
from pipeline import cli

MAX_CHARS = 1000     # the longest formula read; the softmax Jacobian takes about 50
MAX_DEPTH = 30       # levels of the parse tree; also keeps SymPy's recursive walks shallow
MAX_EXPONENT = 100
MAX_DIGITS = 15      # claims are evaluated in float64, which holds about 16 significant digits
MAX_TERMS = 20_000   # terms of the polynomial the exact proof expands (formula_check.py); the
                     # draft's formulas take under 50, and 20,000 take a second or two

SYMBOLS = {name: sp.Symbol(name, real=True) for name in ("y_i", "y_k", "fp_i", "fp_k")}
INDICES = {name: sp.Symbol(name, integer=True) for name in ("i", "k")}
PLAIN_NAMES = {*SYMBOLS, *INDICES, "KroneckerDelta"}
PLAIN_HELP = "the names are y_i, y_k, fp_i, fp_k, i, k and KroneckerDelta(i, k)"
LATEX_HELP = r"the symbols are \hat{y}_i, \hat{y}_k, f'_i, f'_k and \delta_{ik}"
LATEX_MACROS = r"the macros are \hat \delta \frac \left \right \cdot \times \, \; \quad"
# Characters a user is likely to bring from elsewhere, and what to do instead.
HINTS = {"plain": {"^": " (powers are written **)", "\\": " (LaTeX input needs --latex)"},
         "latex": {"$": " (leave out the $ delimiters)"}}


class ClaimError(cli.UserError, ValueError):
    """The formula cannot be read; the message (one line) says what is wrong."""
    exit_code = 2  # `check`'s code for input not understood (1 means refuted)


def parse(text: str, latex: bool = False) -> sp.Expr:
    """The formula in SYMBOLS and INDICES, for checking; ClaimError if it cannot be read."""
    expr = _build(_tree(text, latex), Folding())
    terms = expansion_bound(expr)
    if terms > MAX_TERMS:
        raise ClaimError(f"the formula expands to up to {_count(terms)} terms; at most "
                         f"{MAX_TERMS:,} are proven exactly: write it with lower powers")
    return expr


def parse_in_notation(text: str, latex: bool = False) -> sp.Expr:
    """The same formula in the report's indexed symbols (yhat[i], fp[k]), unevaluated, so that
    it prints in the order typed."""
    tree = _tree(text, latex)
    _build(tree, Folding())  # refuses what checking would refuse: the bounds live there
    return _build(tree, InOrder())


# --- the size of the proof ----------------------------------------------------------------------

def expansion_bound(expr: sp.Expr) -> int:
    """An upper bound on the terms of the numerator formula_check's proof expands: claim minus
    derivative as one fraction, nothing cancelled, with y_k written as 1 - y_i where n = 2. The
    smaller of two bounds: the product over the four symbols of (degree + 1), and the number of
    monomials of the total degree in four symbols."""
    num, den, num_total, den_total = _degrees(expr)
    # the derivative it is compared with has degree 3 (2 in any one symbol) and no denominator
    per_symbol = [max(num[s], den[s]) + 2 for s in SYMBOLS.values()]
    total = max(num_total, den_total) + 3
    return min(math.prod(d + 1 for d in per_symbol), math.comb(total + len(SYMBOLS), len(SYMBOLS)))


def _degrees(expr: sp.Expr) -> tuple[Counter, Counter, int, int]:
    """Degree bounds of expr's numerator and denominator when written as one fraction without
    cancelling: per symbol, and in total."""
    if expr in SYMBOLS.values():
        return Counter({expr: 1}), Counter(), 1, 0
    if isinstance(expr, sp.Add):
        parts = [_degrees(term) for term in expr.args]
        den = sum((p[1] for p in parts), Counter())
        num = Counter()
        for p in parts:  # a / b + c / d = (a d + c b) / (b d)
            num |= p[0] + den
        den_total = sum(p[3] for p in parts)
        return num, den, max(p[2] for p in parts) + den_total, den_total
    if isinstance(expr, sp.Mul):
        parts = [_degrees(factor) for factor in expr.args]
        return (sum((p[0] for p in parts), Counter()), sum((p[1] for p in parts), Counter()),
                sum(p[2] for p in parts), sum(p[3] for p in parts))
    if isinstance(expr, sp.Pow) and expr.exp.is_Integer:
        num, den, num_total, den_total = _degrees(expr.base)
        e = int(expr.exp)
        if e < 0:
            num, den, num_total, den_total, e = den, num, den_total, num_total, -e
        scale = lambda c: Counter({s: e * d for s, d in c.items()})  # noqa: E731
        return scale(num), scale(den), e * num_total, e * den_total
    return Counter(), Counter(), 0, 0  # numbers, KroneckerDelta, the indices i and k


def _count(terms: int) -> str:
    return f"{terms:,}" if terms < 10 ** 9 else f"10^{len(str(terms)) - 1}"


# --- text -> parse tree ------------------------------------------------------------------------

@functools.cache
def _parser(syntax: str) -> Lark:
    # LALR with a basic lexer: linear time, no recursion, and tokens can be screened before parsing
    return Lark.open(f"formula_{syntax}.lark", rel_to=__file__, parser="lalr", lexer="basic")


def _tree(text: str, latex: bool) -> Tree:
    syntax = "latex" if latex else "plain"
    if len(text) > MAX_CHARS:
        raise ClaimError(f"the formula has {len(text)} characters; at most {MAX_CHARS} are read")
    if not text.strip():
        raise ClaimError("the formula is empty; " + (LATEX_HELP if latex else PLAIN_HELP))
    parser = _parser(syntax)
    try:
        _screen(parser.lex(text))
        tree = parser.parse(text)
    except UnexpectedInput as err:
        raise _syntax_error(err, syntax, parser) from None
    if _depth(tree) > MAX_DEPTH:
        raise ClaimError(f"the formula is nested more than {MAX_DEPTH} levels deep")
    return tree


def _screen(tokens) -> None:
    """Unknown names and macros are refused by name, in reading order, before the parser runs
    (its message would name a parser state instead)."""
    previous = None
    for token in tokens:
        if (token.type == "NAME" and token[:1] in "eE" and getattr(previous, "type", "") == "NUMBER"
                and previous.end_pos == token.start_pos):  # 1e-13: read as 1 times a name e
            raise ClaimError(f"{previous}{token} at column {previous.column} is scientific notation, "
                             f"which formulas do not read: write a power of ten, 1*10**(-13)")
        if token.type == "NAME" and token not in PLAIN_NAMES:
            raise ClaimError(f"unknown name {_shown(token)} at column {token.column}; {PLAIN_HELP}")
        previous = token
        if token.type == "MACRO":
            raise ClaimError(f"unknown macro {_shown(token)} at column {token.column}; "
                             f"{LATEX_MACROS}")


def _syntax_error(err: UnexpectedInput, syntax: str, parser: Lark) -> ClaimError:
    if isinstance(err, UnexpectedCharacters):
        hint = HINTS[syntax].get(err.char, "")
        return ClaimError(f"unexpected character {err.char!r} at column {err.column}{hint}")
    if isinstance(err, UnexpectedToken) and err.token.type == "$END":
        return ClaimError("the formula ends too early: an operand or a closing bracket is missing")
    token = getattr(err, "token", "")
    if syntax == "plain" and getattr(token, "type", "") in ("NAME", "NUMBER", "LPAR"):
        return ClaimError(f"unexpected {_shown(token)} at column {err.column}: "
                          f"an operator is missing (a product is written with *)")
    return ClaimError(f"unexpected {_shown(token)} at column {err.column}" + _expected(err, parser))


def _expected(err: UnexpectedInput, parser: Lark) -> str:
    """'; expected {' when the parser wanted one of a few plain strings (not a regex's insides)."""
    names = set(getattr(err, "expected", ())) - {"$END"}  # the end of input is no terminal
    patterns = [parser.get_terminal(name).pattern for name in names]
    if not patterns or len(patterns) > 3 or any(isinstance(p, PatternRE) for p in patterns):
        return ""
    return "; expected " + " or ".join(sorted(repr(p.value) for p in patterns))


def _depth(tree: Tree) -> int:
    """Depth of the parse tree, without recursion (the tree may be deep: that is the question)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in node.children if isinstance(child, Tree))
    return deepest


def _shown(text: str, limit: int = 40) -> str:
    """User text inside a one-line message: short, quoted, and escaped unless plain ASCII
    (so that \\input reads as typed)."""
    text = str(text) if len(str(text)) <= limit else str(text)[:limit] + "..."
    return f"'{text}'" if text.isascii() and text.isprintable() else repr(text)


# --- parse tree -> SymPy -----------------------------------------------------------------------

def _build(tree: Tree, builder: Folding | InOrder) -> sp.Expr:
    try:
        return _ToSympy(builder).transform(tree)
    except VisitError as err:  # lark wraps what a rule raises
        if isinstance(err.orig_exc, ClaimError):
            raise err.orig_exc from None
        raise


class Folding:
    """Builds the expression to check. SymPy folds numbers as it builds (9**9 becomes 387420489),
    so every result is bounded here, and an exponent is checked before the power is taken."""
    names = {**SYMBOLS, **INDICES}

    def number(self, value: Fraction):
        return _bounded(sp.Rational(value.numerator, value.denominator))

    def add(self, terms):
        return _bounded(sp.Add(*terms))

    def negate(self, x):
        return _bounded(-x)

    def multiply(self, factors):
        return _bounded(sp.Mul(*factors))

    def reciprocal(self, x):
        return _bounded(sp.Pow(x, -1))

    def power(self, base, exponent):
        if not (exponent.is_Integer and abs(exponent) <= MAX_EXPONENT):
            raise ClaimError(f"exponents are whole numbers from -{MAX_EXPONENT} to {MAX_EXPONENT}"
                             f", not {_shown(exponent)}")
        return _bounded(sp.Pow(base, exponent))

    def delta(self, a, b):
        return sp.KroneckerDelta(a, b)


class InOrder:
    """Builds the expression to print: nothing is evaluated, so terms and factors keep the order
    typed (SymPy would sort them)."""
    names = {"y_i": notation.yhat[notation.i], "y_k": notation.yhat[notation.k],
             "fp_i": notation.fp[notation.i], "fp_k": notation.fp[notation.k],
             "i": notation.i, "k": notation.k}

    def number(self, value: Fraction):
        return sp.Rational(value.numerator, value.denominator)

    def add(self, terms):
        return sp.Add(*terms, evaluate=False)

    def negate(self, x):
        return -x if x.is_Number else sp.Mul(-1, x, evaluate=False)  # x^{-1}, not x^{(-1) 1}

    def multiply(self, factors):
        return notation.product(*factors)

    def reciprocal(self, x):
        return sp.Pow(x, -1, evaluate=False)

    def power(self, base, exponent):
        return sp.Pow(base, exponent, evaluate=False)

    def delta(self, a, b):
        return sp.KroneckerDelta(a, b, evaluate=False)


def _bounded(expr: sp.Expr) -> sp.Expr:
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise ClaimError("the formula divides by zero")
    if any(max(abs(r.p), r.q) >= 10 ** MAX_DIGITS for r in expr.atoms(sp.Rational)):
        raise ClaimError(f"a number in the formula has more than {MAX_DIGITS} digits "
                         f"(claims are evaluated in float64)")
    return expr


class _ToSympy(Transformer):
    """Either grammar's tree -> SymPy, through a builder. Rules shared by both grammars come
    first; names are resolved only against the builder's whitelist."""

    def __init__(self, builder: Folding | InOrder):
        super().__init__()
        self.build = builder

    # shared: numbers and operators
    def number(self, children):
        (token,) = children
        if len(token.replace(".", "")) > MAX_DIGITS:
            raise ClaimError(f"the number at column {token.column} has more than {MAX_DIGITS} "
                             f"digits (claims are evaluated in float64)")
        return self.build.number(Fraction(str(token)))

    def sum(self, children):
        terms, sign = [], "PLUS"
        for child in children:
            if isinstance(child, Token):
                sign = child.type
            else:
                terms.append(self.build.negate(child) if sign == "MINUS" else child)
        return self.build.add(terms)

    def product(self, children):
        factors, operator = [], "TIMES"  # LaTeX: no operator between factors means times
        for child in children:
            if isinstance(child, Token):
                operator = child.type
            else:
                factors.append(self.build.reciprocal(child) if operator == "DIVIDE" else child)
                operator = "TIMES"
        return self.build.multiply(factors)

    def neg(self, children):
        return self.build.negate(children[-1])

    def pos(self, children):
        return children[-1]

    def group(self, children):
        (inner,) = children
        return inner

    def power(self, children):
        base, exponent = children
        return self.build.power(base, exponent)

    # plain syntax: names and the one function
    def symbol(self, children):
        (name,) = children
        if name == "KroneckerDelta":
            raise ClaimError(f"KroneckerDelta at column {name.column} needs its indices: "
                             f"KroneckerDelta(i, k)")
        return self.build.names[name]

    def call(self, children):
        name, *args = children
        if name != "KroneckerDelta":
            raise ClaimError(f"{name} at column {name.column} is not a function; a product is "
                             f"written {name}*(...)")
        indices = set(self.build.names[x] for x in INDICES)
        if len(args) != 2 or not set(args) <= indices:
            raise ClaimError(f"KroneckerDelta at column {name.column} takes the two indices "
                             f"i and k: KroneckerDelta(i, k)")
        return self.build.delta(*args)

    # LaTeX: the report's notation, mapped onto the same names
    def hat(self, children):
        letter, index = children
        _expect(letter, "y", r"\hat{y} (the softmax output)")
        return self.build.names["y_" + _index(index)]

    def prime(self, children):
        letter, index = children
        _expect(letter, "f", "f' (the derivative of a logit)")
        return self.build.names["fp_" + _index(index)]

    def delta(self, children):
        a, b = (self.build.names[_index(x)] for x in children)
        return self.build.delta(a, b)

    def frac(self, children):
        numerator, denominator = children
        return self.build.multiply([numerator, self.build.reciprocal(denominator)])

    def bare_exponent(self, children):
        (token,) = children
        if len(token) > 1:
            raise ClaimError(f"write ^{{{token}}} at column {token.column}: TeX reads ^{token} as "
                             f"^{token[0]} followed by {token[1:]}")
        return self.number(children)

    def subscripted(self, children):
        letter, index = children
        if letter == "y":
            raise ClaimError(f"y_{index} at column {letter.column} is the target in the report's "
                             rf"notation; the softmax output is \hat{{y}}_{index}")
        raise ClaimError(f"unknown symbol {letter}_{index} at column {letter.column}; {LATEX_HELP}")

    def macro(self, children):
        (name,) = children  # _screen refuses it before parsing; this holds even without it
        raise ClaimError(f"unknown macro {_shown(name)} at column {name.column}; {LATEX_MACROS}")

    def letter(self, children):
        (letter,) = children
        if letter in INDICES:
            return self.build.names[str(letter)]
        raise ClaimError(f"unknown symbol {letter} at column {letter.column}; {LATEX_HELP}")


def _expect(letter: Token, wanted: str, what: str) -> None:
    if letter != wanted:
        raise ClaimError(f"unknown symbol {letter} at column {letter.column}; the only one "
                         f"written this way is {what}")


def _index(token: Token) -> str:
    if token not in INDICES:
        raise ClaimError(f"index {token} at column {token.column}: the indices are i and k")
    return str(token)
