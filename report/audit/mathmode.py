"""Which math a template may type by hand, and which must come from eq() or definition().

The rule (docs/audit.md repeats it). Math typed in a template may
hold notation, never a result:

- allowed: single symbols (\\hat{y}_i, f'_k, \\mathbb{R}^n, x^{\\top}); numbers as notation;
  function applications of symbols (f(x; w), L(\\hat{y}, y), H(\\mathrm{Bernoulli}(\\tfrac12)));
  conditions on indices (k \\ne i, i = 1); a relation one side of which is a value inserted from
  the results (n = ((( ce.n )))); a relation that *names* something: one symbol on the left, and
  on the right one symbol, one function application or one derivative of symbols
  (z = f(x; w), f'_k = \\partial f_k / \\partial w_k); membership (\\in \\mathbb{R}^n).
- a result, reported: any other relation (=, \\ne, <, \\le, \\approx, ...), such as a gradient
  (\\partial L / \\partial z_k = \\hat{y}_k - y_k), a definition with an expression
  (\\hat{y}_i = e^{z_i} / \\sum_j e^{z_j}, z = Wx + b), a matrix form; and any expression of two
  symbols or more (a product, sum, quotient or derivative), such as an entry
  -\\hat{y}_i \\hat{y}_k f'_k, even without a relation, since the prose around it states it.
  Such pieces come from eq("id") (a verified identity), its `.lhs`/`.rhs`/`.condition`, or
  definition("id"); a relation typed between the two sides of one identity is that identity.
- a typed derivation: a relation the derivation checker can read (even one that looks like a
  name, \\hat{y}_i = z_i: the rules above judge only what it cannot read), or one of the kind
  above, read as a chain A = B = C and
  checked step by step (report/audit/derivation_steps.py): every step verified, it passes and is
  counted; otherwise the first wrong or unreadable step is the finding.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from report.audit import derivation_steps  # a relation typed by hand: a derivation to check

RELATIONS = {"=", "<", ">", ":=", "ne", "neq", "le", "leq", "ge", "geq", "approx", "equiv",
             "propto", "sim", "simeq", "cong", "leqslant", "geqslant", "coloneqq", "doteq",
             "lesssim", "gtrsim", "ll", "gg", "succ", "prec", "succeq", "preceq", "geqq", "leqq",
             "mapsto", "Rightarrow", "implies", "iff", "leftarrow", "gets"}
MEMBERSHIP = {"in", "notin", "subset", "subseteq", "to", "colon", ":"}
OPERATORS = {"+", "-", "*", "/", "cdot", "times", "div", "pm", "mp", "sum", "prod", "int",
             "circ", "otimes", "odot", "oplus", "nabla", "partial", "frac", "dfrac", "tfrac",
             "sqrt", "binom"}
FUNCTIONS = {"ln", "log", "exp", "sin", "cos", "tan", "tanh", "sinh", "cosh", "max", "min",
             "sup", "inf", "lim", "det", "arg", "argmax", "argmin", "Pr", "operatorname",
             "mathrm", "text", "textrm", "mathit", "mathsf", "mathtt", "textnormal"}
DECORATIONS = {"hat", "widehat", "bar", "overline", "tilde", "widetilde", "vec", "dot", "ddot",
               "mathbf", "boldsymbol", "bm", "mathbb", "mathcal", "mathscr", "mathfrak"}
SEPARATORS = {"quad", "qquad", "mid", "text"}   # between the items of a list: x_1, \quad x_2
NEUTRAL = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
           "lVert", "rVert", "lvert", "rvert", "Vert", "vert", "langle", "rangle", "lbrace",
           "rbrace", "displaystyle", "textstyle", "scriptstyle", "top", "prime", "ldots",
           "cdots", "dots", "vdots", "ddots", "limits", "nolimits", "mathstrut", "phantom",
           "infty", "nonumber", "notag"}
LABELS = {"label", "tag", "eqref", "ref", "hypertarget"}  # their {argument} is a name, not math
INDEX_LETTERS = set("ijklmn")
TOKEN = re.compile(r"\x1a(?P<ph>\d+)\x1b|\\(?P<word>[a-zA-Z]+)\*?|\\(?P<sym>.)|(?P<num>\d+(?:\.\d+)?)"
                   r"|(?P<letter>[a-zA-Z])|(?P<char>\S)", re.S)


def _group_end(math: str, start: int) -> int:
    """The index after the {group} that opens at math[start]; a \\{ or \\} inside does not
    count, a \\\\ before a brace does not escape it."""
    depth, index = 0, start
    while index < len(math):
        char = math[index]
        if char == "\\":
            index += 2
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        index += 1
        if depth == 0:
            return index
    return len(math)


@dataclass
class Token:
    kind: str    # atom, number, placeholder, op, rel, member, open, close, sep, function, brace
    text: str
    index: int = -1   # a placeholder's record
    pos: int = 0      # where it stands in the math


def tokens(math: str) -> list[Token]:
    """Math as tokens, with sub- and superscripts, primes and decorations folded into the atom
    they belong to (so \\hat{y}_{ik}' is one atom), and groups of braces kept as brace tokens."""
    out: list[Token] = []
    pos = 0
    while pos < len(math):
        match = TOKEN.match(math, pos)
        if match is None:
            pos += 1
            continue
        pos = match.end()
        if match.group("ph"):
            out.append(Token("placeholder", match.group(), int(match.group("ph"))))
        elif match.group("word"):
            word = match.group("word")
            if word in LABELS:
                pos = _skip_group(math, pos)
            elif word in RELATIONS:
                out.append(Token("rel", word, pos=match.start()))
            elif word in MEMBERSHIP:
                out.append(Token("member", word))
            elif word in OPERATORS:
                out.append(Token("op", word))
            elif word in SEPARATORS and word != "text":
                out.append(Token("sep", word))
            elif word in FUNCTIONS or word in DECORATIONS:
                # a name (\mathrm{CE}, \hat{y}) is one token; a font command around an
                # expression (\mathit{-\hat{y}_i \hat{y}_k}) hides nothing: its content is read
                end = _skip_group(math, pos) if word not in BARE_FUNCTIONS else pos
                content = math[pos:end].strip().strip("{}")
                if end > pos and not _is_name(content):
                    out.extend(tokens(content))
                else:
                    out.append(Token("function" if word in FUNCTIONS else "atom", word))
                pos = end
            elif word not in NEUTRAL:
                out.append(Token("atom", word))
        elif match.group("sym"):
            if match.group("sym") in "{}":
                out.append(Token("atom", match.group("sym")))
        elif match.group("num"):
            out.append(Token("number", match.group("num")))
        elif match.group("letter"):
            out.append(Token("atom", match.group("letter")))
        else:
            char = match.group("char")
            if char in "_^":
                end = _skip_group(math, pos)       # an index or exponent belongs to its atom,
                exponent = math[pos:end]
                if char == "^" and (out and out[-1].kind == "placeholder" or re.search(
                        r"[-+*/]|\\(?:sum|prod|frac|ln|log|exp|partial)", exponent)):
                    out.append(Token("op", "^"))   # unless it changes a verified piece or computes
                pos = end
            elif char == "'":
                pass                                # a prime, too
            elif char in "=<>":
                out.append(Token("rel", char, pos=match.start()))
            elif char in "+-*/":
                out.append(Token("op", char))
            elif char in "([":
                out.append(Token("open", char))
            elif char in ")]":
                out.append(Token("close", char))
            elif char in ",;|":
                out.append(Token("sep", char))
            elif char == ":" and math[pos:pos + 1] == "=":
                out.append(Token("rel", ":=", pos=match.start()))
                pos += 1
            elif char == ":":
                out.append(Token("member", char))
            elif char == "{":
                out.append(Token("brace", "{"))
            elif char == "}":
                out.append(Token("brace", "}"))
    return out


BARE_FUNCTIONS = ("ln", "log", "exp", "sin", "cos", "tan", "tanh", "sinh", "cosh", "max", "min",
                  "sup", "inf", "lim", "det", "arg", "argmax", "argmin", "Pr")


def _is_name(content: str) -> bool:
    """One symbol or one word: y, \\delta, W, CE, Bernoulli, fan-in."""
    return bool(re.fullmatch(r"\\?[A-Za-z]+(?:-[A-Za-z]+)*|.", content.strip()))


def _skip_group(math: str, pos: int) -> int:
    """After a command or _ ^: skip its argument (a {group}, a control word, or one character)."""
    while pos < len(math) and math[pos] == " ":
        pos += 1
    if pos >= len(math):
        return pos
    if math[pos] == "{":
        return _group_end(math, pos)
    if math[pos] == "\\":
        match = re.match(r"\\[a-zA-Z]+|\\.", math[pos:])
        return pos + len(match.group())
    return pos + 1


def _sides(toks: list[Token]) -> tuple[list[list[Token]], list[Token]]:
    """Split at the relations outside braces and brackets (what follows a membership or a colon
    is dropped: z \\in \\mathbb{R}^n, f: A \\to B); the sides and the relations between them."""
    sides, relations, current, depth = [], [], [], 0
    for tok in toks:  # braces group nothing a reader sees: ${>}$ is still a relation
        if tok.kind == "open":
            depth += 1
        elif tok.kind == "close":
            depth -= 1
        if depth == 0 and tok.kind == "member":
            break
        if depth == 0 and tok.kind == "rel":
            sides.append(current)
            relations.append(tok)
            current = []
        else:
            current.append(tok)
    sides.append(current)
    return sides, relations


FRACTIONS = ("frac", "dfrac", "tfrac")
PIECES = ("relation", "definition", "refuted")  # placeholders that hold a derivation's LaTeX
CALCULUS = ("partial", "nabla", "sum", "prod", "int")


def _matching(side: list[Token], start: int) -> int:
    depth = 0
    for index in range(start, len(side)):
        depth += {"open": 1, "close": -1}.get(side[index].kind, 0)
        if depth == 0:
            return index
    return len(side) - 1


def _is_piece(tok: Token, record_of) -> bool:
    """A placeholder holding a verified identity's or a definition's LaTeX."""
    return tok.kind == "placeholder" and record_of(tok.index).kind in PIECES


def _items(side: list[Token]) -> list[list[Token]]:
    """A side split at its top-level separators: x_1, \\dots, x_n is three items, not a product."""
    items, current, depth = [], [], 0
    for tok in side:
        depth += {"open": 1, "close": -1}.get(tok.kind, 0)
        if depth == 0 and tok.kind == "sep":
            items.append(current)
            current = []
        else:
            current.append(tok)
    return items + [current]


def is_expression(side: list[Token], record_of) -> bool:
    """Typed symbols joined into a product, sum, quotient or derivative, or an inserted identity
    changed by a typed operator or symbol, or two inserted pieces multiplied; in any item."""
    return any(_item_is_expression(item, record_of) for item in _items(side))


def _item_is_expression(item: list[Token], record_of) -> bool:
    typed, operators, calculus, pieces, index = [], 0, 0, 0, 0
    while index < len(item):
        tok = item[index]
        if tok.kind == "open" and index > 0 and item[index - 1].kind in ("atom", "function"):
            end = _matching(item, index)
            if not any(t.kind == "op" and t.text not in FRACTIONS for t in item[index + 1:end]):
                index = end + 1  # an application: its arguments are names
                continue
        if tok.kind == "atom":
            typed.append(tok)
        elif _is_piece(tok, record_of):
            pieces += 1
        elif tok.kind == "op" and tok.text not in FRACTIONS:
            operators += 1
            calculus += tok.text in CALCULUS
        index += 1
    if pieces:  # changed by hand, or two verified pieces multiplied
        return bool(typed) or operators > 0 or pieces > 1
    if typed and all(t.text in INDEX_LETTERS for t in typed) and operators == sum(
            t.kind == "op" and t.text == "times" for t in item):
        return False  # indices or sizes: (i, k), n \\times n
    if len(typed) == 1 and operators == calculus == 1:
        return False  # a derivative or gradient as a symbol: \\partial L, \\nabla_w L
    return len(typed) >= 2 or (len(typed) == 1 and calculus > 0)


def _is_single_atom(side) -> bool:
    meaningful = [t for t in side if t.kind != "brace"]
    return len(meaningful) == 1 and meaningful[0].kind == "atom"


def _is_application(side) -> bool:
    meaningful = [t for t in side if t.kind != "brace"]
    if len(meaningful) < 3 or meaningful[0].kind not in ("atom", "function"):
        return False
    if meaningful[1].kind != "open" or _matching(meaningful, 1) != len(meaningful) - 1:
        return False
    return not any(t.kind in ("op", "rel") and t.text not in FRACTIONS for t in meaningful[2:-1])


def _is_derivative(side) -> bool:
    """\\partial A / \\partial B, \\frac{\\partial A}{\\partial B} or dA/dB, A and B single symbols."""
    texts = [t.kind if t.kind == "atom" else t.text for t in side if t.kind != "brace"]
    if texts[:1] and texts[0] in FRACTIONS:
        return texts[1:] in (["partial", "atom", "partial", "atom"], ["atom"] * 4)
    return texts in (["partial", "atom", "/", "partial", "atom"], ["atom", "atom", "/", "atom", "atom"])


def _only_values(side, record_of) -> bool:
    """Values inserted from the results (a list of them in parentheses, a sign), nothing typed."""
    meaningful = [t for t in side if t.kind != "brace"]
    return any(t.kind == "placeholder" for t in meaningful) and all(
        t.kind == "placeholder" and not _is_piece(t, record_of) or t.kind in ("open", "close", "sep")
        or t.kind == "op" and t.text in "+-" for t in meaningful)


def _only_indices(side) -> bool:
    meaningful = [t for t in side if t.kind != "brace"]
    return bool(meaningful) and all(t.kind == "number" or t.kind == "atom" and t.text in INDEX_LETTERS
                                    or t.kind in ("sep", "op") and t.text in ",+-" for t in meaningful)


def _one_identity(sides, relations, record_of) -> bool:
    """`lhs = rhs` of one and the same identity: that identity, typeset in two pieces."""
    if len(sides) != 2 or [r.text for r in relations] != ["="]:
        return False
    parts = []
    for side in sides:
        pieces = [t for t in side if t.kind != "brace"]
        if len(pieces) != 1 or not _is_piece(pieces[0], record_of):
            return False
        parts.append(record_of(pieces[0].index).source)
    identity = parts[0].rsplit(".", 1)[0]
    return parts == [f"{identity}.lhs", f"{identity}.rhs"]


def _name_like(side, record_of) -> bool:
    """What a value may be set beside: one symbol, indices, a function of a number (\\ln 2)."""
    typed = [t for t in side if t.kind == "atom"]
    return (not any(t.kind == "op" for t in side) and len(typed) <= 1
            and not any(_is_piece(t, record_of) for t in side)) or _is_application(side)


def _kronecker_definition(delta, bit) -> bool:
    typed = [t for t in delta if t.kind != "brace"]
    number = [t for t in bit if t.kind != "brace"]
    return ([(t.kind, t.text) for t in typed] == [("atom", "delta")]
            and [(t.kind, t.text) for t in number] in ([("number", "0")], [("number", "1")]))


def _allowed_relation(left, right, record_of) -> bool:
    if not left and not right:
        return False  # a relation between words: ReLU $>$ sigmoid
    if not left or not right:
        other = left or right
        return _only_values(other, record_of) or _name_like(other, record_of)
    if _only_values(left, record_of):
        return _name_like(right, record_of)
    if _only_values(right, record_of):
        return _name_like(left, record_of)
    if _only_indices(left) and _only_indices(right):
        return True
    if _kronecker_definition(left, right) or _kronecker_definition(right, left):
        return True  # \delta_{ik} = 1, its case (if $i = k$) in the prose
    return _is_single_atom(left) and (_is_single_atom(right) or _is_application(right)
                                      or _is_derivative(right))


def _shown(math: str) -> str:
    text = re.sub("\x1a\\d+\x1b", "((( ... )))", " ".join(math.split()))
    return text if len(text) <= 80 else text[:77] + "..."


RESULT_HINT = ('typeset a verified identity with ((( eq("id").latex ))) (or its .lhs, .rhs) or a '
               'definition with ((( definition("id").latex )))')


def check(math: str, record_of, typed: str | None = None, steps=None) -> list[tuple[int, str]]:
    """What in one typed formula is a result typed by hand: (offset in `math`, message). With
    `typed` (the formula as typed, before line breaks were masked), a relation typed by hand is a
    derivation checked step by step (report/audit/derivation_steps.py): verified, it is counted
    in `steps` (a TypedSteps); refuted or unreadable, the problem is the finding."""
    toks = tokens(math)
    if not toks:
        return []
    sides, relations = _sides(toks)
    if len(sides) > 1:
        if _one_identity(sides, relations, record_of):
            return []
        return typed_relation(math, sides, relations, record_of, typed, steps)
    if is_expression(sides[0], record_of) and not _is_derivative(sides[0]):
        return [(0, f'"{_shown(math)}" is an expression typed by hand in math, which nothing '
                    f"verified; {RESULT_HINT}")]
    return []


def typed_relation(math: str, sides, relations, record_of, typed=None, steps=None) -> list[tuple[int, str]]:
    """THE one place a relation typed by hand in math is judged: notation passes (a name, a
    condition on indices, a value inserted beside a name); a derivation in the report's notation
    is checked step by step (derivation_steps: SymPy proves each step, autograd matches it), its
    first wrong step the finding; anything else is a result typed by hand. What the checker
    can read goes to it first, so a wrong step that looks like a name (\\hat{y}_i = z_i) is
    refuted; a value inserted beside a name (n = ((( ce.n )))) is notation, never a step."""
    if not all(_only_values(left, record_of) or _only_values(right, record_of)
               for left, right in zip(sides, sides[1:])):
        found = derivation_steps.findings(typed, record_of, steps, readable_only=True)
        if found is not None:
            return found
    for left, right, relation in zip(sides, sides[1:], relations):
        if not _allowed_relation(left, right, record_of):
            found = derivation_steps.findings(typed, record_of, steps)
            if found is not None:
                return found
            return [(relation.pos, f'"{_shown(math)}" is a relation typed by hand in math, which '
                                   f"nothing verified; {RESULT_HINT}")]
    return []
