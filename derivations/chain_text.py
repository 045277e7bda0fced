"""A math node as typed -> its derivation chains: sides, relation signs and conditions, each with
its offset in the math.

Layout is blanked to spaces (offsets stay): \\text{...}, \\quad, \\, \\; \\label, \\tag, \\left,
\\right, \\big, alignment points &. Rows (\\\\) of align, gather, multline: a row that starts
with `=` continues the chain above; any other row starts a new one. Top-level commas separate
formulas (`a = b, \\quad c = d`), and so do connective words and quads before a new left side
(`a = b \\text{, so } c = d`, `a = b \\qquad c = d`). Conditions, for the chain of their row:

    \\text{for } k \\neq i,   \\text{if } k = i,   (k \\neq i),   , \\; k = i     on the indices
    \\text{since } \\sum_j y_j = 1,   (\\sum_{j=1}^{n} y_j = 1)                     on the targets

and a side may be a \\begin{cases} e_1 & k = i \\\\ e_2 & k \\neq i \\end{cases}, checked case by
case under its conditions (`\\text{otherwise}`: the other case).
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from derivations.chain_ast import ChainError

MAX_MATH_CHARS = 8000   # one math node
MAX_CHAINS = 40         # chains in one node
MAX_SIDES = 30          # sides of one chain

LAYOUT = re.compile(
    r"\\\\(?:\s*\[[^\]]*\])?"  # a row break: kept (matched first so that `\\ ` stays one)
    r"|\\(?:label|tag\*?|hspace\*?|vspace\*?|phantom|hphantom|vphantom)\s*\{[^{}]*\}"
    r"|\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg)\s*\."
    r"|\\(?:nonumber|notag|displaystyle|textstyle|quad|qquad|left|right|bigl|bigr|Bigl|Bigr|"
    r"biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg|limits|nolimits|mathstrut|forall)(?![a-zA-Z])"
    r"|\\[,;:! ]|~")
KEYWORDS = r"(?:for|if|when|where|since|as|because|given|with|using|and|assuming)"
INDEX_CONDITION = r"(?P<a>[a-z])\s*(?P<rel>=|\\neq?(?![a-zA-Z])|\\ne(?![a-zA-Z]))\s*(?P<b>[a-z])"
SUM_ONE = (r"\\sum(?:\s*\\limits)?(?:\s*[_^]\s*(?:\{[^{}]*\}|[a-zA-Z0-9])){0,2}\s*"
           r"y_\s*(?:\{\s*[a-z]\s*\}|[a-z])\s*=\s*1")
CONDITION = rf"(?:{INDEX_CONDITION}|(?P<sum_one>{SUM_ONE}))"
_BARE = re.sub(r"\?P<\w+>", "", CONDITION)  # without group names, to repeat it
CONDITIONS = rf"{_BARE}(?:\s*(?:,|\\text\{{\s*and\s*\}})\s*{_BARE})*"
# A condition is declared by a \text keyword, by parentheses, or after a comma at the row's end.
DECLARED = re.compile(
    rf"\\(?:text|textrm|mbox|mathrm)\s*\{{\s*{KEYWORDS}\b[^{{}}]*\}}\s*\(?\s*(?P<c1>{CONDITIONS})\s*\)?"
    rf"|\(\s*(?:\\text\s*\{{\s*{KEYWORDS}\s*\}}\s*)?(?P<c2>{CONDITIONS})\s*\)"
    rf"|,\s*(?P<c3>{CONDITIONS})\s*[.,]?\s*$")
ONE_CONDITION = re.compile(CONDITION)
TEXT = re.compile(r"\\(?:text|textrm|textit|mbox|textnormal)\s*\{[^{}]*\}")
NAME_TEXT = re.compile(r"\\(?:text|textrm|mathrm|operatorname)\s*\{\s*(?:SM|[Ss]oftmax|CE|MSE|e)\s*\}")
CASES = re.compile(r"\\begin\s*\{cases\}(?P<body>.*?)\\end\s*\{cases\}", re.S)
ROW_BREAK = re.compile(r"\\\\(?:\s*\[[^\]]*\])?")
RELATION = re.compile(r"=|<|>|:=|\\(?:le|leq|ge|geq|ne|neq|approx|equiv|sim|simeq|propto|to|"
                      r"mapsto|Rightarrow|Leftrightarrow|implies|iff|coloneqq|leqslant|geqslant|"
                      r"ll|gg|cong)(?![a-zA-Z])")
# What may stand beside a chain without a relation: nothing, an index, dots (k = 1, \dots, n)
LOOSE_NOTATION = re.compile(r"\s*(?:\\[lc]?dots|[a-z]|\d+)?\s*\.?\s*")
MEMBERSHIP = re.compile(r"\\(?:in|notin|subset|subseteq)(?![a-zA-Z])")
# Words between two formulas (\\text{, so }, \\text{hence}, \\quad): the chain ends, another starts
# when what follows has a left side of its own (not `= C`, not an operator, not a condition).
CONNECTIVE = (r"(?:so|hence|and|thus|therefore|then|where|whence|i\.\s*e\.|e\.\s*g\.|that|is|"
              r"which|gives|giving|we|get|have|obtain|it|follows|finally|or|also|yields?)")
SEPARATOR = re.compile(
    rf"\\(?:text|textrm|mbox|textnormal)\s*\{{\s*[,;.:]?\s*(?:(?:{CONNECTIVE}(?![a-zA-Z])\s*[,;.:]?\s*)+|[,;.])\s*\}}"
    r"|\\q?quad(?![a-zA-Z])"
    r"|(?P<words>\\(?:text|textrm|mbox|textnormal)\s*\{[^{}]*\})")  # other words: before a relation
OPEN_END = re.compile(r"(?:=|[-+*/,;(]|\\cdot|\\times)$")
CONTINUES = re.compile(r"\s*(?:$|=|[-+*/&]|\\cdot(?![a-zA-Z])|\\times(?![a-zA-Z]))")
OTHERWISE = re.compile(r"^\s*,?\s*(?:\\text\s*\{\s*(?:otherwise|else)\s*\}|otherwise|else)\s*\.?\s*$")


@dataclass(frozen=True)
class Condition:
    a: str
    b: str
    equal: bool


@dataclass
class Side:
    text: str            # as blanked: layout turned to spaces
    offset: int          # where it starts in the math
    cases: list = field(default_factory=list)   # [(Side, [Condition])] when the side is cases


@dataclass
class Chain:
    sides: list          # [Side]
    relations: list      # offsets of the `=` between them
    conditions: set = field(default_factory=set)
    sum_one: bool = False


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def _mask(pattern: re.Pattern, text: str) -> str:
    return pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)


def conditions_in(text: str) -> tuple[set, bool]:
    """The index conditions and whether sum_j y_j = 1 is declared, in a condition's text."""
    found, sum_one = set(), False
    for match in ONE_CONDITION.finditer(text):
        if match.group("sum_one"):
            sum_one = True
        else:
            found.add(Condition(match.group("a"), match.group("b"), match.group("rel") == "="))
    return found, sum_one


def _depth_map(text: str) -> list[int]:
    """Bracket depth ({ ( [) before each character."""
    depth, out = 0, []
    for index, char in enumerate(text):
        escaped = index > 0 and text[index - 1] == "\\"
        if char in "{([" and not escaped:
            depth += 1
        out.append(depth)
        if char in "})]" and not escaped:
            depth -= 1
    return out


def _split_top(text: str, separator: re.Pattern, start: int = 0) -> list[tuple[str, int]]:
    """(piece, offset) of text split at separators outside brackets."""
    depth = _depth_map(text)
    pieces, last = [], 0
    for match in separator.finditer(text):
        if depth[match.start()] == 0:
            pieces.append((text[last:match.start()], start + last))
            last = match.end()
    pieces.append((text[last:], start + last))
    return pieces


def _cases(body: str, offset: int) -> list:
    """[(Side, [Condition])] of a cases block; `otherwise` is the other case's condition negated."""
    rows, pending = [], None
    for row, at in _split_top(body, ROW_BREAK, offset):
        if not row.strip():
            continue
        parts = _split_top(row, re.compile("&"), at)
        if len(parts) != 2:
            raise ChainError(r"each row of cases is `expression & condition`", at)
        (expr, expr_at), (cond, cond_at) = parts
        expr = re.sub(r",\s*$", lambda m: " " * len(m.group()), expr.rstrip()) + " " * (
            len(expr) - len(expr.rstrip()))
        if OTHERWISE.match(_mask(re.compile(r"\\(?:quad|qquad|[,;: ])"), cond)):
            pending = (Side(expr, expr_at), cond_at)
            continue
        found, _ = conditions_in(cond)
        if not found:
            raise ChainError(r"a case's condition is on the indices (k = i, k \neq i) or "
                             r"\text{otherwise}", cond_at)
        rows.append((Side(expr, expr_at), sorted(found, key=str)))
    if pending:
        if len(rows) != 1 or len(rows[0][1]) != 1:
            raise ChainError(r"\text{otherwise} stands beside one case with one condition", pending[1])
        c = rows[0][1][0]
        rows.append((pending[0], [Condition(c.a, c.b, not c.equal)]))
    if not rows:
        raise ChainError("the cases are empty", offset)
    return rows


def chains(math: str) -> list[Chain]:
    """Every chain of equalities in the math, in order; ChainError (offset in the math) when the
    math cannot be read as chains."""
    if len(math) > MAX_MATH_CHARS:
        raise ChainError(f"this math has {len(math)} characters; at most {MAX_MATH_CHARS} are read")
    separators = [(m.start(), m.end(), bool(m.group("words"))) for m in SEPARATOR.finditer(math)
                  if not NAME_TEXT.fullmatch(m.group())]
    text = LAYOUT.sub(lambda m: m.group() if m.group().startswith("\\\\")
                      else re.sub(r"[^\n]", " ", m.group()), math)
    blocks, loose = {}, []
    for match in CASES.finditer(text):  # a cases block: one side, kept apart from the splitting
        if "\\begin" in match.group("body"):
            raise ChainError("cases inside cases are not in the derivation language", match.start())
        blocks[match.start()] = (match.end(), _cases(match.group("body"), match.start("body")))
        text = text[:match.start()] + "\x01" + "\x02" * (match.end() - match.start() - 1) + text[match.end():]
    out: list[Chain] = []
    text = _join_broken_expressions(text)
    for row, row_at in _split_top(text, ROW_BREAK):
        declared = []  # (where in the row, index conditions, sum_one)
        for match in DECLARED.finditer(row):
            declared.append((match.start(), *conditions_in(match.group())))
            row = _blank(row, match.start(), match.end())
        row, cuts = _separate(row, row_at, separators)
        row = _keep_names(row).replace("&", " ")
        row_chains = []  # (chain, the part of the row between connectives it stands in)
        for item, at in _split_top(row, re.compile(r"[,;]"), row_at):
            chain, new = _item_chain(item, at, out[-1] if out else None, blocks)
            if new == "loose" and not LOOSE_NOTATION.fullmatch(item):
                loose.append((item, at))
            if chain is None:
                continue
            if new:
                out.append(chain)
            if all(chain is not c for c, _ in row_chains):
                row_chains.append((chain, bisect.bisect(cuts, at - row_at)))
        _attach(declared, row_chains, cuts)
    out = [chain for chain in out if not _definition(chain)]
    for chain in out:
        if not chain.sides[-1].text.strip() and not chain.sides[-1].cases:
            raise ChainError("the chain ends with `=` and nothing after it", chain.relations[-1])
        if len(chain.sides) > MAX_SIDES:
            raise ChainError(f"a chain of {len(chain.sides)} sides; at most {MAX_SIDES} are read: "
                             f"split it", chain.relations[0])
    if out and loose:  # an expression beside a chain, stating something nothing verifies
        item, at = loose[0]
        shown = " ".join(item.split())[:60]
        raise ChainError(f"`{shown}` stands beside the chain without a relation, so nothing "
                         f"checks it: write it as a step (A = B) or in words", at)
    if len(out) > MAX_CHAINS:
        raise ChainError(f"{len(out)} chains in one math; at most {MAX_CHAINS} are read")
    return out


def _attach(declared: list, row_chains: list, cuts: list) -> None:
    """A condition holds for the chains of its part of the row (between connectives: `A = B
    \\text{ for } k \\neq i \\text{, so } C = D` conditions A = B only), or for the whole row
    when its part holds no chain."""
    parts = {part for _, part in row_chains}
    for position, found, sum_one in declared:
        part = bisect.bisect(cuts, position)
        for chain, chain_part in row_chains:
            if chain_part == part or part not in parts:
                chain.conditions |= found
                chain.sum_one |= sum_one


def _separate(row: str, row_at: int, separators: list) -> tuple[str, list[int]]:
    """A connective (\\text{, so }, \\quad; other words when a relation follows) outside brackets,
    between a formula and one with its own left side, becomes `;`: two chains, not one."""
    depth, cuts = _depth_map(row), []
    inside = [(a - row_at, b - row_at, words) for a, b, words in separators
              if row_at <= a and b <= row_at + len(row)]
    for number, (start, end, words) in enumerate(inside):
        if depth[start] or "\x02" in row[start:end]:
            continue  # inside braces, or inside a cases block
        stop = inside[number + 1][0] if number + 1 < len(inside) else len(row)
        after = _mask(LAYOUT, _mask(TEXT, row[end:stop]))
        before = _mask(LAYOUT, _mask(TEXT, row[:start])).rstrip()
        if (CONTINUES.match(after) or not before or OPEN_END.search(before)
                or words and not RELATION.search(after)):
            continue
        row = row[:start] + ";" + " " * (end - start - 1) + row[end:]
        cuts.append(start)
    return row, cuts


DELTA = re.compile(r"\s*\\delta_\s*(?:\{\s*[a-z]\s*,?\s*[a-z]\s*\}|[a-z]{2})\s*")
BIT = re.compile(r"\s*[01]\s*")
ANY_LOSS, LOSS = re.compile(r"\s*L\s*"), re.compile(r"\s*L_\s*\{\s*\\(?:mathrm|text)\s*\{\s*(?:CE|MSE)\s*\}\s*\}\s*")


def _definition(chain: Chain) -> bool:
    """\\delta_{ik} = 1 (or 0) with no condition in the math: the Kronecker delta's definition,
    its case (`if $i = k$`) stated in the prose around it; under a condition it is checked.
    L = L_{\\mathrm{CE}}: the loss L (any loss in a chain) named, not a step."""
    if len(chain.sides) != 2 or chain.conditions or any(s.cases for s in chain.sides):
        return False
    texts = [side.text for side in chain.sides]
    return any(DELTA.fullmatch(a) and BIT.fullmatch(b) or ANY_LOSS.fullmatch(a) and LOSS.fullmatch(b)
               for a, b in (texts, texts[::-1]))


OPERATOR_END = re.compile(r"(?:[-+*/]|\\cdot|\\times)\s*&?\s*$")
OPERATOR_START = re.compile(r"^\s*&?\s*(?:[-+*/]|\\cdot|\\times)")


def _join_broken_expressions(text: str) -> str:
    """A row break inside an expression (multline: `A = B + \\\\ C`), with an operator before
    or after it, joins its rows: one chain, not two."""
    depth = _depth_map(text)
    for match in reversed(list(ROW_BREAK.finditer(text))):
        if depth[match.start()] == 0 and (OPERATOR_END.search(text[:match.start()]) or
                                          OPERATOR_START.match(text[match.end():])):
            text = _blank(text, match.start(), match.end())
    return text


def _keep_names(row: str) -> str:
    """\\text{...} is layout, except the names the grammar reads (\\text{Softmax}, \\mathrm{CE})."""
    return TEXT.sub(lambda m: m.group() if NAME_TEXT.fullmatch(m.group())
                    else re.sub(r"[^\n]", " ", m.group()), row)


def _open(chain: Chain | None) -> bool:
    """The chain's last row ended with `=`: the next row gives its right side."""
    return chain is not None and _empty(chain.sides[-1])


def _empty(side: Side) -> bool:
    return not side.text.strip() and not side.cases


def _item_chain(item: str, at: int, previous: Chain | None, blocks: dict) -> tuple:
    """(the chain one comma-separated item holds or continues, whether it is new); (None, False)
    when it holds no relation."""
    depth = _depth_map(item)
    member = next((m for m in MEMBERSHIP.finditer(item) if depth[m.start()] == 0), None)
    if member is not None:  # \hat{y}_i = ... \in (0, 1): what follows a membership is a range
        item = item[:member.start()] + re.sub(r"[^\n]", " ", item[member.start():])
    relations = [m for m in RELATION.finditer(item) if depth[m.start()] == 0]
    for match in relations:
        if match.group() != "=":
            if re.fullmatch(r"\s*" + INDEX_CONDITION + r"\s*\.?\s*", item):
                return None, False  # a condition standing alone: $k \neq i$
            raise ChainError(f"`{match.group()}` is not in the derivation language: a chain is "
                             f"equalities, A = B = C", at + match.start())
    if relations and re.fullmatch(r"\s*[a-z]\s*=\s*\d+\s*\.?\s*", item):
        return None, False  # an index's range: k = 1, \dots, n
    if relations and re.fullmatch(r"\s*" + SUM_ONE + r"\s*\.?\s*", item):
        return None, False  # sum_j y_j = 1 stated: an assumption on the targets, nothing to derive
    item = re.sub(r"[.]\s*$", lambda m: " " * len(m.group()), item)  # the sentence's full stop
    bounds = [0, *(m.end() for m in relations)]
    ends = [*(m.start() for m in relations), len(item)]
    sides = [_side(item[a:b], at + a, blocks) for a, b in zip(bounds, ends)]
    offsets = [at + m.start() for m in relations]
    if _open(previous):
        if _empty(sides[0]):
            if not relations:
                return previous, False
            sides, offsets = sides[1:], offsets[1:]
        previous.sides[-1:] = sides
        previous.relations += offsets
        return previous, False
    if not relations:
        return None, "loose"
    if _empty(sides[0]):
        if previous is not None:  # a row `&= C` continues the chain above
            previous.sides += sides[1:]
            previous.relations += offsets
            return previous, False
        sides, offsets = sides[1:], offsets[1:]  # `= B = C`: the left side left out
        if len(sides) < 2:
            return None, False
    return Chain(sides, offsets), True


def _side(text: str, at: int, blocks: dict) -> Side:
    placeholder = text.find("\x01")
    if placeholder < 0:
        return Side(text, at)
    if text.replace("\x01", "").replace("\x02", "").strip():
        raise ChainError("cases stand as a whole side: A = \\begin{cases} ... \\end{cases}",
                         at + placeholder)
    _, rows = blocks[at + placeholder]
    return Side(" " * len(text), at, cases=rows)
