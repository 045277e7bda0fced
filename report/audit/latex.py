"""The audit's LaTeX front end: the rendered text of one template read with pylatexenc's
LatexWalker, as the reader will see it, into

- prose: the words in reading order, each character with its offset in the text (so every finding
  has its line), `~` read as a no-break space, `\\%` as %, `fas\\-ter` and `f\\textbf{aster}` as
  "faster", parameters, labels and comments left out (report/audit/specs.py says which are which);
- math: every formula ($...$, \\(...\\), \\[...\\], $$...$$, the math environments, \\ensuremath),
  its text with the prose inside it (\\text{...}) blanked, formulas split only by space read as
  one ($\\partial L$ $=$ $\\hat{y}$);
- definitions: the bodies of the macros a template defines, read as prose and as notation.

The preamble of main.tex.j2 (before \\begin{document}) holds settings: only its definitions and
its \\hypersetup metadata are read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from pylatexenc.latexwalker import (LatexCharsNode, LatexCommentNode, LatexEnvironmentNode,
                                    LatexGroupNode, LatexMacroNode, LatexMathNode, LatexSpecialsNode)

from report.audit import specs

BREAK = "\n\n"   # where a sentence cannot run on: a paragraph, a table cell, a caption
FORMULA = "\ufffc"  # a formula, in the prose around it
CELL = "\n\x1f\n"  # between two cells of a table row: a break too (\x1f is a space to re)
SPECIALS = {"~": "\u00a0", "&": CELL, "--": "\u2013", "---": "\u2014", "``": '"', "''": '"'}
# What may stand between two formulas that are read as one: space, ~, {}, \, \; \:
JOINING = re.compile(r"(?:\s|~|\{\}|\\[,;: ])*")
DELIMITER = re.compile(r"\$|\\[()\[\]]")
PLAIN_WORD = re.compile(r"[^\\{}$^_]*")


@dataclass
class Formula:
    start: int       # offset of the formula's text in the template's text
    text: str        # the formula, prose inside it blanked (same length as the original)
    display: bool = False


@dataclass
class Reading:
    """One template as read: prose with offsets, formulas, and macro bodies."""
    prose: list[str] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    formulas: list[Formula] = field(default_factory=list)
    bodies: list[tuple[int, str]] = field(default_factory=list)  # (offset, body) of definitions

    def add(self, text: str, offset: int, spread: bool = False) -> None:
        """Characters at `offset` (each at its own offset when `spread`: they are the source's)."""
        for index, char in enumerate(text):
            self.prose.append(char)
            self.offsets.append(offset + index if spread else offset)

    def text(self) -> str:
        return "".join(self.prose)


def read(text: str, preamble_until: int = 0, macros: dict | None = None) -> Reading:
    """The template's text as read; before `preamble_until` only definitions and metadata.
    `macros` (name -> what its body reads as) gains the macros the text defines, and a use of one
    reads as its body (\\winner{} beats sigmoid)."""
    reading = Reading()
    nodes, _, _ = specs.walker(text).get_latex_nodes()
    walk = _Walk(text, reading, macros if macros is not None else {})
    nodes = [node for node in nodes if node is not None]
    body = [node for node in nodes if node.pos >= preamble_until]
    for index, node in enumerate(nodes[:len(nodes) - len(body)]):
        walk.preamble(nodes, index)
    walk.nodes(body, "prose")
    reading.formulas = _joined(text, reading.formulas)
    return reading


class _Walk:
    def __init__(self, text: str, reading: Reading, macros: dict):
        self.text, self.out, self.macros = text, reading, macros

    def nodes(self, nodes, mode: str) -> None:
        index = 0
        nodes = [n for n in nodes or [] if n is not None]
        while index < len(nodes):
            node = nodes[index]
            if isinstance(node, LatexMacroNode) and node.macroname in specs.TEX_DEFINITIONS:
                index = self.tex_definition(nodes, index)
                continue
            if isinstance(node, LatexMacroNode) and specs.PRIMITIVE_PARAMETER.fullmatch(node.macroname) \
                    and index + 1 < len(nodes) and isinstance(nodes[index + 1], LatexCharsNode):
                self.node(node, mode)
                nodes[index + 1] = _after_value(nodes[index + 1])
                index += 1
                continue
            if isinstance(node, LatexMacroNode) and node.macroname == "cmidrule":
                index = _after_trim(nodes, index + 1)  # \cmidrule(lr){2-3}: settings
                continue
            self.node(node, mode)
            index += 1

    def preamble(self, nodes, index: int) -> None:
        """In the preamble: definitions and \\hypersetup are read, nothing else."""
        node = nodes[index]
        if isinstance(node, LatexMacroNode) and node.macroname in specs.TEX_DEFINITIONS:
            self.tex_definition(nodes, index)
        elif isinstance(node, LatexMacroNode) and (node.macroname in specs.DEFINITIONS
                                                 or node.macroname == "hypersetup"):
            self.node(node, "prose")
        elif isinstance(node, LatexEnvironmentNode) and node.environmentname == "document":
            self.node(node, "prose")

    def node(self, node, mode: str) -> None:
        if isinstance(node, LatexCharsNode):
            if mode == "prose":
                self.out.add(node.chars, node.pos, spread=True)
        elif isinstance(node, LatexCommentNode):
            pass
        elif isinstance(node, LatexGroupNode):
            self.nodes(node.nodelist, mode)
        elif isinstance(node, LatexSpecialsNode):
            if mode == "prose":
                self.out.add(SPECIALS.get(node.specials_chars, " "), node.pos)
        elif isinstance(node, LatexMathNode):
            self.formula(node, node.pos + len(node.delimiters[0]),
                         node.pos + node.len - len(node.delimiters[1]), node.nodelist,
                         node.displaytype == "display", mode)
        elif isinstance(node, LatexEnvironmentNode):
            self.environment(node, mode)
        elif isinstance(node, LatexMacroNode):
            self.macro(node, mode)

    def formula(self, node, start: int, end: int, children, display: bool, mode: str) -> None:
        if mode == "prose":
            # a displayed formula that ends with its own full stop ends the sentence around it
            ends = "." if display and self.text[start:end].rstrip().endswith(".") else ""
            self.out.add(f" {FORMULA}{ends} ", node.pos)
            self.out.formulas.append(Formula(start, self.text[start:end], display))
        before = len(self.out.prose)
        self.nodes(children, "math")
        if mode == "prose" and display and len(self.out.prose) > before:
            # words inside displayed math (\text{since ...}, \mathrm{CE}) are its own sentences
            self.out.prose[before:before] = list(BREAK)
            self.out.offsets[before:before] = [node.pos] * len(BREAK)
            self.out.add(BREAK, node.pos)

    def environment(self, node: LatexEnvironmentNode, mode: str) -> None:
        name = node.environmentname
        self._arguments(node, specs.environment_roles(name), mode)
        if specs.is_math_environment(name):
            body_start = _body_start(self.text, node)
            end = self.text.rfind("\\end", node.pos, node.pos + node.len)
            self.formula(node, body_start, max(end, body_start), node.nodelist, True, mode)
            return
        if mode == "prose":
            self.out.add(BREAK, node.pos)
        self.nodes(node.nodelist, mode)
        if mode == "prose":
            self.out.add(BREAK, node.pos + node.len)

    def macro(self, node: LatexMacroNode, mode: str) -> None:
        name = node.macroname
        roles = specs.roles(name)
        if name in specs.DEFINITIONS:
            self.definition(node, roles)
            return
        if name in ("setcounter", "addtocounter"):
            args = _args(node)
            counter = args[0].latex_verbatim().strip("{} ") if args and args[0] else ""
            roles = "lp" if counter in specs.LATEX_COUNTERS else "lt"
        if mode == "prose" and name in specs.SENTENCE_BREAKING:
            self.out.add(BREAK, node.pos)
        if not roles and mode == "prose":
            self.out.add(self.macros.get(name, specs.READS_AS.get(name, " ")), node.pos)
        self._arguments(node, roles, mode)

    def _arguments(self, node, roles: str, mode: str) -> None:
        for role, arg in zip(roles, _args(node)):
            if arg is None or role in "spol":
                continue
            if role in "tT":
                if mode == "math":
                    self._blank(arg)
                    self.out.add(" ", arg.pos)
                self.nodes(_children(arg), "prose")
                if mode == "math":
                    self.out.add(" ", arg.pos + arg.len)
            elif role == "x":
                plain = PLAIN_WORD.fullmatch(arg.latex_verbatim().strip("{}"))
                if mode == "math" and plain and arg.latex_verbatim().strip("{} "):
                    self._blank(arg)
                    self.out.add(" ", arg.pos)
                    self.nodes(_children(arg), "prose")
                    self.out.add(" ", arg.pos)
                else:
                    self.nodes(_children(arg), mode)
            elif role == "m":
                if mode == "prose":
                    self.formula(arg, arg.pos + 1, arg.pos + arg.len - 1, _children(arg), False, mode)
                else:
                    self.nodes(_children(arg), "math")
            elif role == "k":
                self.keyvals(_children(arg))
            elif role == "d":
                self.body(arg)

    def _blank(self, arg) -> None:
        """Prose inside a formula: blanked in the formula's text (it is read as prose)."""
        for formula in self.out.formulas:
            if formula.start <= arg.pos < formula.start + len(formula.text):
                at = arg.pos - formula.start
                span = formula.text[at:at + arg.len]
                formula.text = formula.text[:at] + re.sub(r"[^\n]", " ", span) + formula.text[at + arg.len:]

    def definition(self, node: LatexMacroNode, roles: str) -> None:
        args = _args(node)
        named = args[roles.index("l")] if "l" in roles and len(args) > roles.index("l") else None
        name = named.latex_verbatim() if named is not None else ""
        if name.strip("{} ") and specs.PARAMETER_MACRO.fullmatch(name.strip("{} \\")):
            return  # \renewcommand{\arraystretch}{1.2}: a setting
        self._arguments(node, roles, "prose")
        body = args[roles.index("d")] if "d" in roles and len(args) > roles.index("d") else None
        self._define(name.strip("{} \\"), body)

    def tex_definition(self, nodes, index: int) -> int:
        r"""\def\name#1{body}: the name, the parameter text, then the body."""
        end = index + 1
        name = nodes[end].macroname if end < len(nodes) and isinstance(nodes[end], LatexMacroNode) else ""
        while end < len(nodes) and not isinstance(nodes[end], LatexGroupNode):
            end += 1
        if end < len(nodes) and not specs.PARAMETER_MACRO.fullmatch(name):
            self.body(nodes[end])
            self._define(name, nodes[end])
        return end + 1

    def _define(self, name: str, body) -> None:
        """Remember what a defined macro reads as (its body's prose), for its uses."""
        if name and body is not None and "@" not in body.latex_verbatim() and len(self.macros) < 500:
            inner = body.latex_verbatim()
            inner = inner[1:-1] if inner.startswith("{") else inner
            self.macros[name] = " " + read(inner, macros={k: v for k, v in self.macros.items()
                                                          if k != name}).text() + " "

    def body(self, group) -> None:
        verbatim = group.latex_verbatim()
        if "@" in verbatim:
            return  # LaTeX's internals (\@startsection): settings, not prose
        inner = verbatim[1:-1] if verbatim.startswith("{") else verbatim
        self.out.bodies.append((group.pos + (1 if verbatim.startswith("{") else 0), inner))

    def keyvals(self, children) -> None:
        r"""\hypersetup{pdftitle={...}, pdfauthor=...}: the text of the metadata keys is prose."""
        key, reading = "", False
        for child in children:
            if isinstance(child, LatexCharsNode):
                pos = 0
                for match in re.finditer(r"([A-Za-z]+)\s*=|,", child.chars):
                    if reading:
                        self.out.add(child.chars[pos:match.start()], child.pos + pos, spread=True)
                    key = match.group(1) or ""
                    reading = key in specs.PDF_TEXT_KEYS
                    pos = match.end()
                    self.out.add(BREAK, child.pos + match.start())
                if reading:
                    self.out.add(child.chars[pos:], child.pos + pos, spread=True)
            elif reading:
                self.node(child, "prose")


def _args(node) -> list:
    return list(node.nodeargd.argnlist) if getattr(node, "nodeargd", None) else []


def _children(arg) -> list:
    return arg.nodelist if isinstance(arg, LatexGroupNode) else [arg]


def _body_start(text: str, node: LatexEnvironmentNode) -> int:
    """Where an environment's body starts: after \\begin{name} and its arguments."""
    args = [a for a in _args(node) if a is not None]
    if args:
        return args[-1].pos + args[-1].len
    match = re.compile(r"\\begin\s*\{[^}]*\}").match(text, node.pos)
    return match.end() if match else node.pos


def _after_value(chars: LatexCharsNode) -> LatexCharsNode:
    """The characters after a primitive's value (\\penalty10000 x: " x"), at their own place."""
    match = specs.PRIMITIVE_VALUE.match(chars.chars)
    return _shifted(chars, match.end() if match else 0)


def _after_trim(nodes, index: int) -> int:
    """Past \\cmidrule's (trim) and {columns}: the index of the node after them."""
    if index < len(nodes) and isinstance(nodes[index], LatexCharsNode):
        match = re.match(r"\s*\([^)]*\)", nodes[index].chars)
        nodes[index] = _shifted(nodes[index], match.end() if match else 0)
        if nodes[index].chars.strip():
            return index
        index += 1
    return index + 1 if index < len(nodes) and isinstance(nodes[index], LatexGroupNode) else index


def _shifted(chars: LatexCharsNode, cut: int) -> LatexCharsNode:
    rest = LatexCharsNode(chars=chars.chars[cut:], pos=chars.pos + cut, len=chars.len - cut,
                          parsing_state=chars.parsing_state)
    return rest


def _joined(text: str, formulas: list[Formula]) -> list[Formula]:
    """Formulas split only by space ($\\partial L$ $=$ $\\hat{y}$) read as one."""
    out: list[Formula] = []
    for formula in sorted(formulas, key=lambda f: f.start):
        if out and out[-1].start + len(out[-1].text) <= formula.start:
            last = out[-1]
            gap = text[last.start + len(last.text):formula.start]
            if DELIMITER.search(gap) and JOINING.fullmatch(DELIMITER.sub("", gap)):
                filler = re.sub(r"[^\n]", " ", gap)
                out[-1] = Formula(last.start, last.text + filler + formula.text, last.display)
                continue
        out.append(formula)
    return out
