"""The audit, a step of its own after rendering: what the rendered templates typed by hand.

    found = run.audit({name: (text, lines)}, context, templates)   # render -> audit -> appendix

Every piece a `((( )))` inserted from the results, eq()/definition() or `claims` arrives marked
(report/render/marks.py) and stands in the text as a placeholder; a claim declared in the
student's words (report/claims/declared.py) stays readable. The rest is read as LaTeX
(report/audit/latex.py) and judged by the rules of docs/audit.md: numbers (report/audit/prose.py),
comparisons of variants (comparisons.py), math (mathmode.py), declared claims against the data,
thresholds typed into Jinja conditions (conditions.py), the printed fields of templates/*.bib
(bib.py) and TeX programming (tex_programming.py, the .bib files too). Each finding is reported once, at
its template file and line, even when an included template is read twice.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from report.audit import bib, comparisons, conditions, direction, latex, mathmode, prose
from report.audit.derivation_steps import TypedSteps
from report.audit.finding import Finding
from report.audit.suggest import Suggestions
from report.render.marks import CLOSE, MARK, Record, checksum

PLACEHOLDER = re.compile("\x1a(\\d+)\x1b")
DECLARED = "ownclaim"


@dataclass
class Audit:
    """What one build's templates inserted and what they typed by hand."""
    findings: list[Finding] = field(default_factory=list)
    used: list[tuple[str, int, Record]] = field(default_factory=list)  # (template, line, record)

    read_by: dict = field(default_factory=dict, repr=False)  # finding -> the template that found it
    typed_steps: TypedSteps = field(default_factory=TypedSteps)  # derivations typed and verified

    def add(self, finding: Finding, reader: str = "") -> None:
        """A finding, unless another rendered template found it already: an included
        template's lines are read in each template that includes it."""
        if self.read_by.setdefault(finding, reader) == reader:
            self.findings.append(finding)

    def sorted_findings(self) -> list[Finding]:
        """By template, then line; a line the map does not know ("?") last."""
        return sorted(self.findings, key=lambda f: (f.template, isinstance(f.line, str),
                                                    f.line if isinstance(f.line, int) else 0))

    def count(self, *kinds: str) -> int:
        return sum(1 for _, _, r in self.used if r.kind in kinds)

    def typed_numbers(self) -> list[tuple[str, int, Record]]:
        return [u for u in self.used if u[2].kind == "typed"]

    def typed_table(self) -> list[dict]:
        """The numbers declared `typed`, for the appendix: the LaTeX, what it is, where."""
        from report.render.marks import track
        return track([{"text": r.text, "source": r.source, "where": f"{t}:{line}"}
                      for t, line, r in self.typed_numbers()], "audit.typed")

    def summary(self, alpha: float) -> str:
        relations, numbers = self.count("relation", "definition"), self.count("number", "typed")
        typed, claims, own = self.count("typed"), self.count("claim"), self.count(DECLARED)
        where = "; ".join(f"{prose.readable(r.text)} ({r.source}, {t}:{line})"
                          for t, line, r in self.typed_numbers())
        typed_part = f" and {typed} typed as facts from elsewhere: {where}" if typed else ", none typed"
        state = "passed" if not self.findings else f"FAILED with {len(self.findings)} findings"
        steps = self.typed_steps
        derived = (f"{steps.steps} typed derivation steps in {steps.chains} chains, each proven by "
                   f"SymPy and matched by autograd; " if steps.steps else "")
        return (f"audit {state}: {relations} relations, all verified or defined; {derived}"
                f"{numbers - typed} numbers from results or config{typed_part}; {claims} "
                f"comparatives and verdicts from claims and {own} declared in the writer's words, "
                f"all checked at alpha = {alpha:g}")


def audit(rendered: dict, context: dict, template_dir, into: Audit | None = None,
          whole_build: bool = True) -> Audit:
    """Audit rendered templates: {template name: (marked text, [(file, line)] per line)}. With
    `whole_build`, also the templates' Jinja conditions, the .bib files and TeX programming."""
    found = into if into is not None else Audit()
    from report.claims.declared import underlying_claims  # claims -> render -> audit
    reader = _Reader(found, Suggestions(context), underlying_claims(context.get("claims")))
    for name, (text, where) in sorted(rendered.items(), key=lambda item: item[0] != "main.tex.j2"):
        body = text.find(r"\begin{document}") if name == "main.tex.j2" else 0
        reader.template(text, where, f"templates/{name}", max(body, 0))
    if whole_build:
        for finding in conditions.findings(template_dir) + bib.findings(template_dir, reader.prose_findings):
            found.add(finding)
    from report.audit import tex_programming  # it names its findings with this module's Finding
    for finding in tex_programming.findings(rendered, template_dir, with_bib=whole_build):
        found.add(finding)
    return found


class _Reader:
    def __init__(self, found: Audit, suggest: Suggestions, claims):
        self.found, self.suggest, self.claims = found, suggest, claims
        self.macros: dict[str, str] = {}  # what main's preamble defines is used in every section

    def template(self, text: str, where: list, template: str, body_start: int) -> None:
        skeleton, met, pieces, claims = _spans(text)
        line_in_text, line_of = (_line_finder(t, where, template) for t in (text, skeleton))
        for offset, record in met:
            if offset >= body_start:
                self.found.used.append((*line_in_text(offset), record))
                message = self._inserted(record, template)
                if message:
                    self.found.add(Finding(*line_in_text(offset), message), template)
        for match in TAMPERED.finditer(skeleton):
            self.found.add(Finding(*line_of(match.start()), TAMPERED_MESSAGE), template)
        skeleton = _mask(TAMPERED, skeleton)
        macros = self.macros if template.endswith("main.tex.j2") else dict(self.macros)
        reading = latex.read(skeleton, _skeleton_offset(text, skeleton, body_start), macros)
        for at, message in self.prose_findings(reading, pieces, template, claims):
            self.found.add(Finding(*line_of(at), message), template)
        for formula in reading.formulas:
            typed = skeleton[formula.start:formula.start + len(formula.text)]
            for at, message in self.math(formula.text, pieces, typed=typed):
                self.found.add(Finding(*line_of(formula.start + at), message), template)
        for start, body in reading.bodies:
            for at, message in self.body(body, pieces, template):
                self.found.add(Finding(*line_of(start + at), message), template)
        for start, end, source, _ in claims:
            self.claim(source, line_of(start), template)

    def _inserted(self, record: Record, template: str) -> str | None:
        if record.kind == "untracked":  # typed into a ((( ))) expression
            return prose.number_message(record.text, self.suggest(record.text, template=template))
        if record.kind == "altered":
            return (f"what {record.source} printed was changed in the template (by a filter or a "
                    f"slice) into \"{record.text[:60]}\"; print it as it is")
        return None

    def prose_findings(self, reading, pieces, template: str, claims=(), bibliographic=False):
        """(offset, message) for the numbers, relations and comparisons of the prose read."""
        text, inserted = _placeheld(reading, pieces)
        offsets = reading.offsets + [reading.offsets[-1] if reading.offsets else 0]
        found = [(offsets[i], prose.number_message(typed, self.suggest(
                  typed, text[max(0, i - 60):i], text[i + len(typed):i + len(typed) + 60], template)))
                 for i, typed in prose.numbers(text, bibliographic)]
        found += [(offsets[i], prose.RELATION_MESSAGE) for i in prose.relations(text)]
        for a, b, source, _ in claims:  # a declared claim's sentence names what it declares
            inside = [i for i, o in enumerate(offsets[:-1]) if a <= o < b]
            words = "".join(text[i] for i in inside)
            values = [(pieces[inserted[i]].source, pieces[inserted[i]].text) for i in inside
                      if i in inserted and pieces[inserted[i]].kind in ("value", "number")]
            stray = comparisons.undeclared(words, values, source)
            if stray and inside:
                found.append((offsets[inside[0]], f"the claim declares {source} but its sentence "
                                                  f"names {stray}; declare what the sentence compares"))
            elif inside:
                shown = "".join(_shown(pieces[inserted[i]]) if i in inserted else text[i] for i in inside)
                problem = _misread(shown, source)
                if problem:
                    found.append((offsets[inside[0]], problem))
        judged = {start: self._comparison(start, end, text, offsets, pieces, inserted, claims)
                  for start, end in comparisons.sentences(text)}
        found += [j for j in judged.values() if j]
        for row in TABLE_ROW.finditer(text):  # a row's cells read together: relu & faster \\ sigmoid & slower
            if latex.CELL in row.group() and not any(j for s, j in judged.items() if row.start() <= s < row.end()):
                compared = self._comparison(row.start(), row.end(), text, offsets, pieces, inserted, claims)
                found += [compared] if compared else []
        return found

    @staticmethod
    def _comparison(start, end, text, offsets, pieces, inserted, claims):
        """(offset, message) if the text from start to end, outside the claims, compares variants."""
        parts = _outside(start, end, offsets, claims)
        sentence = " ".join(text[a:b] for a, b in parts)
        values = [(pieces[inserted[i]].source, pieces[inserted[i]].text)
                  for a, b in parts for i in range(a, b)
                  if i in inserted and pieces[inserted[i]].kind in ("value", "number")]
        judged = comparisons.judge(sentence, values)
        if judged:
            return _offset_in(parts, judged[1], offsets, start), comparisons.message(judged[0], judged[2])
        return None

    def math(self, math: str, pieces: list[Record], notation_only: bool = False, typed=None):
        """A typed result, and numbers that measure, in one formula (`math` with the prose inside
        \\text{} blanked; `typed` as written, \\text{since ...} included, for the derivation
        checker)."""
        typed = None if notation_only else (typed or math)
        math = LINE_BREAK.sub(lambda m: ";" + " " * (len(m.group()) - 1), math)
        found = mathmode.check(math, pieces.__getitem__, typed, self.found.typed_steps)
        if WORDS_RELATED.search(math):  # $\\text{ReLU} > \\text{sigmoid}$: words compared in math
            found.append((WORDS_RELATED.search(math).start(), prose.RELATION_MESSAGE))
        if notation_only:
            return found
        bare = re.sub(r"[{}]|\\math[a-z]+", "", math)
        if re.fullmatch(r"\s*[-\u2212+]?\d+(?:[.,]\d+)?\s*", bare):  # $9$, ${9}$
            return found + [(0, prose.number_message(math.strip(), None))]
        measured = _mask(SCRIPT, _mask(PLACEHOLDER, math))
        return found + [(m.start(), prose.number_message(math[m.start():m.end()].strip(), None))
                        for m in re.finditer(MEASURED_IN_MATH, measured)]

    def body(self, body: str, pieces: list[Record], template: str):
        """A macro's body, used in prose or math: its prose, and its math as notation."""
        reading = latex.read(body)
        found = self.prose_findings(reading, pieces, template)
        if MATH_INDICATORS.search(_mask(PLACEHOLDER, body)):
            found += self.math(body, pieces, notation_only=True)
        for formula in reading.formulas:
            typed = body[formula.start:formula.start + len(formula.text)]
            found += [(formula.start + at, m) for at, m in self.math(formula.text, pieces, typed=typed)]
        return found

    def claim(self, source: str, where: tuple[str, int | str], template: str) -> None:
        from report.claims import declared  # claims -> render -> audit: imported when used
        if self.claims is None:
            return
        checked = declared.check(self.claims, *declared.parse(source))
        if not checked.supported:
            self.found.add(Finding(*where, checked.problem()), template)


def _shown(record: Record) -> str:
    """An inserted piece as the reader sees it, for reading a claim's words (\\num{0.1} -> 0.1)."""
    if record.kind not in ("value", "number"):
        return latex.FORMULA
    return " " + re.sub(r"\\[a-z]+\{?|[{}]", "", record.text) + " "


def _misread(words: str, source: str) -> str | None:
    """What is wrong with a declared claim's words against its declaration, if anything."""
    from report.claims.declared import parse
    factor, first, relation, second = parse(source)
    other = direction.second_comparison(words, factor)
    if other:
        return (f"the claim declares {source} but its sentence also compares {other}; a claim's "
                f"sentence states one comparison: declare the other in a claim of its own")
    said, word = direction.read(words, direction.mentions(words, factor, first, second), first, second)
    if direction.allows(relation, said):
        return None
    says = direction.describe(said, first, second) + (f' ("{word}")' if word else "")
    return (f"the claim declares {source} ({direction.describe(relation, first, second)}) but its "
            f"words say {says}; word the sentence as declared, or declare what it says")


def _placeheld(reading, pieces) -> tuple[str, dict[int, int]]:
    """The prose with each inserted piece as one U+FFFC, and which record each stands for."""
    text = reading.text()
    inserted, out, shift = {}, [], 0
    for match in PLACEHOLDER.finditer(text):
        inserted[match.start() - shift] = int(match.group(1))
        shift += len(match.group()) - 1
    keep = [True] * len(text)
    for match in PLACEHOLDER.finditer(text):
        keep[match.start() + 1:match.end()] = [False] * (match.end() - match.start() - 1)
    out = "".join(latex.FORMULA if text[i] == "\x1a" else c for i, c in enumerate(text) if keep[i])
    reading.offsets = [o for i, o in enumerate(reading.offsets) if keep[i]]
    return out, inserted


def _offset_in(parts, index: int, offsets: list[int], start: int) -> int:
    """The offset of character `index` of the parts joined by one space each."""
    for a, b in parts:
        if index <= b - a:
            return offsets[min(a + index, len(offsets) - 1)]
        index -= b - a + 1
    return offsets[parts[0][0] if parts else start]


def _outside(start: int, end: int, offsets: list[int], claims) -> list[tuple[int, int]]:
    """The parts of a sentence outside the declared claims."""
    parts, current = [], None
    for index in range(start, end):
        inside = any(a <= offsets[index] < b for a, b, _, _ in claims)
        if not inside and current is None:
            current = index
        if inside and current is not None:
            parts.append((current, index))
            current = None
    return parts + ([(current, end)] if current is not None else [])


def _spans(text: str):
    """The text with each outermost marked piece as a placeholder numbering its record (newlines
    kept); every record met with its offset; the placeholders' records; and the declared claims,
    whose words stay in the text: (start, end, source, checksum ok) in the skeleton."""
    out, met, outermost, stack, claims, length, pos = [], [], [], [], [], 0, 0

    def emit(piece: str) -> None:
        nonlocal length
        out.append(piece)
        length += len(piece)

    for match in MARK.finditer(text):
        hidden = any(record.kind != DECLARED for record, _ in stack)
        emit("\n" * text.count("\n", pos, match.start()) if hidden else text[pos:match.start()])
        if match.group() != CLOSE:
            kind, source, check = match.group(1), match.group(2), match.group(3)
            close = _closing(text, match.end())
            if close is None or checksum(text[match.end():close]) != check:
                kind, close = "altered", match.end() if close is None else close
            record = Record(kind, source, MARK.sub("", text[match.end():close]))
            if not hidden and kind != DECLARED:
                emit(f"\x1a{len(outermost)}\x1b")
                outermost.append(record)
            met.append((match.start(), record))
            stack.append((record, length))
        elif stack:
            record, start = stack.pop()
            if record.kind == DECLARED:
                claims.append((start, length, record.source, True))
        pos = match.end()
    emit(text[pos:])
    return "".join(out), met, outermost, claims


def _closing(text: str, start: int) -> int | None:
    depth = 1
    for match in MARK.finditer(text, start):
        depth += -1 if match.group() == CLOSE else 1
        if depth == 0:
            return match.start()
    return None


def _line_finder(skeleton: str, where: list, template: str):
    starts = [0] + [m.end() for m in re.finditer("\n", skeleton)]

    def line(offset: int) -> tuple[str, int | str]:
        import bisect
        index = bisect.bisect_right(starts, offset) - 1
        file, number = where[index] if index < len(where) else ("", 0)
        return (f"templates/{file}" if file else template), number or "?"
    return line


def _skeleton_offset(text: str, skeleton: str, offset: int) -> int:
    """Where `offset` of the text is in the skeleton: the same line (marks hold no newline)."""
    if offset <= 0:
        return 0
    line = text.count("\n", 0, offset)
    starts = [0] + [m.end() for m in re.finditer("\n", skeleton)]
    return starts[min(line, len(starts) - 1)]


def _mask(pattern, text: str) -> str:
    return pattern.sub(lambda m: " " * len(m.group()), text)


# Marks whose header a filter changed (|upper, a slice): never a valid piece
TAMPERED = re.compile("[\x02\x1f\x1e\x03][^\x02\x03]{0,200}?(?:\x1e|(?=\x03))|[\x02\x03\x1e\x1f]")
TAMPERED_MESSAGE = ("the invisible marks of an inserted piece were changed (by a filter such as upper, "
                    "or a slice); print results, equations and claims as they are")
LINE_BREAK = re.compile(r"\\\\\*?(\[[^\]\n]*\])?")  # \\ in align separates formulas, as ; does
SCRIPT = re.compile(r"[_^](?:\{[^{}]*\}|\\[a-zA-Z]+|.)")  # an index or exponent: x_{10}, 2^{10}
# In math, digits are notation unless they measure: a decimal, three digits or more, a
# percentage, a power of ten (10^{-3}), a factor (4\times, \times 4), arithmetic on numbers
MEASURED_IN_MATH = (r"(?<![\w.])\d+(?:[.,]|\{[.,]\})\d+|(?<![\w.])\d{2,}"
                    r"|\d+\s*(?:\\[,;!:]\s*)?\\%|(?<![\w.])10\s*\^"
                    r"|(?<![\w.])\d+\s*(?:\\[,;!:]\s*)?\{?\\times|\\times\s*(?:\\[,;!:]\s*)?\{?\s*\d"
                    r"|\d\s*(?:\\cdot|\\times|\*|/|\+)\s*\d")
# A table row: its cells (separated by latex.CELL), up to a row's or paragraph's break
TABLE_ROW = re.compile(r"(?:[^\n]|\n(?![ \t]*\n))+")
# Two words set in math with an order between them (the words themselves are read as prose)
WORDS_RELATED = re.compile(r"\\text\w*\s*(?:[<>]|\\(?:succ|prec|gg|ll|gt|lt)\b)\s*\\text")
# What makes a macro's body math (it may be used inside $...$)
MATH_INDICATORS = re.compile(r"[\^_=]|\\(?:frac|partial|hat|sum|prod|nabla|cdot|times|delta|sigma)\b")
