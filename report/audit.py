"""The audit: what a template typed by hand, found in the rendered LaTeX before it is typeset.

Everything a template inserts through `((( )))` from the results, eq()/definition() or `claims`
arrives marked (report/provenance_marks.py); the audit reads the rest, the text the template
typed, and reports, by template file and line:

- a *number* typed in prose ("we reached 97 %"): it will not follow the next run. Not numbers:
  LaTeX parameters (dimensions such as 3pt or 0.4\\textwidth, optional arguments `[...]`, the
  arguments of environments and of layout commands such as \\vspace or \\multicolumn's count,
  colour mixes such as red!8) and labels tied to their word (Task~1, Homework~1). In math, digits
  are notation (x^2, \\tfrac12, \\ln 2, [0, 1]) unless they are a measurement: a decimal (0.97),
  three digits or more, or a percentage. A number printed by `((( )))` that did not come from the
  results or the configuration (`((( 97|pct ))))`) is typed too. A fact from elsewhere is declared
  with `typed`: `((( 0.89|typed("the draft's test accuracy")|pct(0) )))`.
- a *relation* typed in math that states a result (report/math_audit.py says which do);
- a *verdict word* (faster, confirmed, better, ...) typed in prose: comparisons come from
  `claims`, which words them from the numbers.

Only the document's body is read: the preamble of main.tex.j2 holds settings, not prose.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from report import math_audit
from report.provenance_marks import CLOSE, MARK, Record, checksum

# Words that state a direction or a verdict: `claims` chooses them from the numbers.
VERDICT_WORDS = re.compile(
    r"\b(faster|slower|fastest|slowest|quicker|quickest|beats?|beaten|ahead|behind|"
    r"confirm(?:ed|s)?|contradict(?:ed|s)?|outperform\w*|better|best|worse|worst|higher|"
    r"highest|lower|lowest|superior|inferior|(?:more|less|most|least) accurate)\b",
    re.IGNORECASE)
VERDICT_CALLS = {  # the claims call that words each kind of verdict
    "confirm": 'claims.draft_claims() (each verdict\'s .full)',
    "contradict": 'claims.draft_claims() (each verdict\'s .full)',
}
RANKING_CALL = 'claims.rankings()|join(" ") ))) or ((( claims.fastest()'

PLACEHOLDER = re.compile("\x1a(\\d+)\x1b")
# LaTeX parameters, blanked before numbers are looked for
DIMENSION = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)\s*(?:pt|mm|cm|in|ex|em|bp|pc|sp|dd|cc|mu|fil{1,3})\b"
                       r"|[-+]?(?:\d+\.?\d*|\.\d+)\s*\\[a-zA-Z]*(?:width|height|skip|sep|indent|size)\b")
COLOUR_MIX = re.compile(r"![0-9.]+")
TIED_LABEL = re.compile(r"(?<=[A-Za-z])~\d+(?:\.\d+)*")
NUMBER = re.compile(r"(?<![\w\\.])[-−]?\d+(?:(?:[.,]|\\,|\{,\})\d+)*(?:\s*(?:~?\\%|\\percent|%))?")
# Commands whose brace arguments are parameters (how many of them), not prose
PARAMETER_ARGS = {
    "vspace": 1, "hspace": 1, "setlength": 2, "addtolength": 2, "setcounter": 2,
    "addtocounter": 2, "multicolumn": 2, "multirow": 2, "rule": 2, "raisebox": 1, "scalebox": 1,
    "resizebox": 2, "fontsize": 2, "linespread": 1, "includegraphics": 1, "input": 1,
    "include": 1, "label": 1, "ref": 1, "eqref": 1, "pageref": 1, "autoref": 1, "cref": 1,
    "cite": 1, "parencite": 1, "textcite": 1, "citep": 1, "citet": 1, "autocite": 1,
    "href": 1, "url": 1, "hypersetup": 1, "sisetup": 1, "definecolor": 3, "color": 1,
    "textcolor": 1, "colorbox": 1, "fcolorbox": 2, "makebox": 0, "parbox": 1,
    "begin": 1, "end": 1,
    "columnbreak": 0, "enlargethispage": 1, "needspace": 1, "arraystretch": 0,
    "budgetpart": 1, "babelprovide": 1, "babelfont": 2, "usepackage": 1,
}
CONTROL_WORD = re.compile(r"\\([a-zA-Z]+)\*?")
# In math, digits are notation unless they measure: a decimal, three digits or more, a
# percentage, a power of ten (10^{-3}) or a factor (4\times)
MEASURED_IN_MATH = (r"(?<![\w.])\d+\.\d+|(?<![\w.])\d{3,}|\d+\s*\\%|(?<![\w.])10\s*\^"
                    r"|(?<![\w.])\d+\s*\\times")
DEFINITIONS = ("newcommand", "renewcommand", "providecommand")
COMMENT = re.compile(r"(?<!\\)%[^\n]*")
LINE_BREAK = re.compile(r"\\\\\*?(\[[^\]\n]*\])?")  # \\ and \\[2pt]


@dataclass
class Finding:
    template: str
    line: int | str
    message: str

    def __str__(self) -> str:
        return f"{self.template}:{self.line}: {self.message}"


@dataclass
class Audit:
    """What one build's templates inserted and what they typed by hand."""
    findings: list[Finding] = field(default_factory=list)
    used: list[tuple[str, int, Record]] = field(default_factory=list)  # (template, line, record)

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
        from report.provenance_marks import track
        return track([{"text": r.text, "source": r.source, "where": f"{t}:{line}"}
                      for t, line, r in self.typed_numbers()], "audit.typed")

    def summary(self, alpha: float) -> str:
        relations = self.count("relation", "definition")
        numbers = self.count("number", "typed")
        typed = self.count("typed")
        claims = self.count("claim")
        where = "; ".join(f"{readable(r.text)} ({r.source}, {t}:{line})"
                          for t, line, r in self.typed_numbers())
        typed_part = f" and {typed} typed as facts from elsewhere: {where}" if typed else ", none typed"
        state = "passed" if not self.findings else f"FAILED with {len(self.findings)} findings"
        return (f"audit {state}: {relations} relations, all verified or defined; "
                f"{numbers - typed} numbers from results or config{typed_part}; {claims} "
                f"comparatives and verdicts, all from claims at alpha = {alpha:g}")


def _spans(text: str) -> tuple[str, list[tuple[int, Record]], list[Record]]:
    """The text with each outermost marked piece replaced by a placeholder that numbers its record
    (keeping the piece's newlines, so line numbers stay); every record met, with its offset in the
    text; and the records the placeholders number."""
    out, met, outermost, stack, pos = [], [], [], [], 0
    for match in MARK.finditer(text):
        if not stack:
            out.append(text[pos:match.start()])
        else:
            out.append("\n" * text.count("\n", pos, match.start()))
        if match.group() != CLOSE:
            kind, source, check = match.group(1), match.group(2), match.group(3)
            close = _closing(text, match.end())
            if checksum(text[match.end():close]) != check:
                kind = "altered"  # changed by a filter after it was inserted
            record = Record(kind, source, MARK.sub("", text[match.end():close]))
            if not stack:
                out.append(f"\x1a{len(outermost)}\x1b")
                outermost.append(record)
            met.append((match.start(), record))
            stack.append(record)
        elif stack:
            stack.pop()
        pos = match.end()
    out.append(text[pos:])
    return "".join(out), met, outermost


def _closing(text: str, start: int) -> int:
    """Where the piece whose text starts at `start` ends (its own CLOSE, past nested pieces)."""
    depth = 1
    for match in MARK.finditer(text, start):
        depth += -1 if match.group() == CLOSE else 1
        if depth == 0:
            return match.start()
    return len(text)


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def _group_end(text: str, start: int, opener: str, closer: str) -> int:
    """The index after the group that opens at text[start] (an unbalanced one runs to the end)."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "\\":
            continue
        if text[index] == opener and (index == 0 or text[index - 1] != "\\"):
            depth += 1
        elif text[index] == closer and text[index - 1] != "\\":
            depth -= 1
            if depth == 0:
                return index + 1
    return len(text)


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def blank_parameters(text: str) -> str:
    """Blank what LaTeX reads as parameters: options, layout arguments, dimensions, comments."""
    text = _mask(COMMENT, text)
    text = _mask(LINE_BREAK, text)
    pos = 0
    while True:
        match = CONTROL_WORD.search(text, pos)
        if match is None:
            break
        name, pos = match.group(1), match.end()
        args = PARAMETER_ARGS.get(name, 0)
        environment = name == "begin"
        if name in DEFINITIONS:  # the macro's name is a parameter; its body is prose, unless a bare number
            text, pos = _blank_definition(text, pos)
            continue
        while True:  # options after any command are parameters; so are a layout command's arguments
            at = _skip_space(text, pos)
            if at < len(text) and text[at] == "[":
                end = _group_end(text, at, "[", "]")
                text, pos = _blank(text, at, end), end
            elif at < len(text) and text[at] == "{" and (args > 0 or environment):
                end = _group_end(text, at, "{", "}")
                text, pos = _blank(text, at, end), end
                args -= 1
            else:
                break
    for pattern in (DIMENSION, COLOUR_MIX, TIED_LABEL):
        text = _mask(pattern, text)
    return text


def readable(latex: str) -> str:
    """A number as the reader sees it: \\qty{97}{\\percent} -> 97 %, \\num{9} -> 9, 97~\\% -> 97 %."""
    text = re.sub(r"\\qty\{([^}]*)\}\{\\percent\}", r"\1 %", latex)
    text = re.sub(r"\\(?:num|qty)\{([^}]*)\}", r"\1", text)
    text = re.sub(r"\s*~?\\%|\s*\\percent|\s*%", " %", text)
    return text.replace("+-", "±").strip()


def _blank_definition(text: str, pos: int) -> tuple[str, int]:
    """After \\newcommand: blank its {\\name} and [options]; its body stays to be read, except a
    bare number (\\renewcommand{\\arraystretch}{1.2} sets a parameter)."""
    for opener, closer in (("{", "}"), ("[", "]"), ("[", "]")):
        at = _skip_space(text, pos)
        if at < len(text) and text[at] == opener:
            end = _group_end(text, at, opener, closer)
            text, pos = _blank(text, at, end), end
    at = _skip_space(text, pos)
    if at < len(text) and text[at] == "{":
        end = _group_end(text, at, "{", "}")
        if re.fullmatch(r"\{\s*[-+]?[\d.]+\s*(?:pt|mm|cm|em|ex|in)?\s*\}", text[at:end]):
            text, pos = _blank(text, at, end), end
    return text, pos


def _number_message(typed_text: str, suggestion: str | None) -> str:
    shown = readable(typed_text)
    instead = (f"write ((( {suggestion} ))) instead" if suggestion else
               'write it from the results through num, pct or sci, or declare a fact from elsewhere '
               'with ((( <number>|typed("what it is") )))')
    return f'"{shown}" is typed by hand and will not follow the results; {instead}'


def _verdict_message(word: str) -> str:
    stem = word.lower()
    call = next((c for key, c in VERDICT_CALLS.items() if stem.startswith(key)), RANKING_CALL)
    return (f'"{word}" is a comparison typed by hand, which nothing checks against the numbers; '
            f"write ((( {call} ))) instead (report/claims.py lists every claim)")


class Scanner:
    """Scans one rendered template (marks in, line sentinels out) for what it typed by hand."""

    def __init__(self, suggest):
        self.suggest = suggest  # a Record of a typed number -> an expression that prints it, or None

    def scan(self, text: str, template: str, origin: list[int], audit: Audit,
             body_start: int = 0) -> None:
        """Record what the template inserted (from body_start on) and report what it typed."""
        skeleton, met, pieces = _spans(text)
        line_of = _line_finder(text, origin)
        for offset, record in met:
            if offset >= body_start:
                audit.used.append((template, line_of(offset), record))
                if record.kind == "untracked":  # typed into a ((( ))) expression
                    audit.findings.append(Finding(template, line_of(offset),
                                                  _number_message(record.text, self.suggest(record))))
                if record.kind == "altered":
                    audit.findings.append(Finding(template, line_of(offset), (
                        f"what {record.source} printed was changed in the template (by a filter "
                        f"or a slice) into \"{record.text[:60]}\"; print it as it is")))
        body_offset = _skeleton_offset(text, skeleton, body_start)
        skeleton_line = _line_finder(skeleton, origin)
        for kind, start, segment in math_audit.segments(_mask(COMMENT, skeleton[body_offset:])):
            found = (self._math(segment, pieces) if kind == "math" else self._prose(segment))
            for at, message in found:
                audit.findings.append(Finding(template, skeleton_line(body_offset + start + at), message))

    def _math(self, segment: str, pieces: list[Record]) -> list[tuple[int, str]]:
        """A typed result, and numbers that measure, in one stretch of math."""
        segment = _mask(LINE_BREAK, segment)
        found = [(0, message) for message in math_audit.check(segment, pieces.__getitem__)]
        return found + [(m.start(), _number_message(m.group(), None))
                        for m in re.finditer(MEASURED_IN_MATH, _mask(PLACEHOLDER, segment))]

    def _prose(self, segment: str) -> list[tuple[int, str]]:
        """Numbers and verdict words typed in one stretch of prose."""
        prose = _mask(CONTROL_WORD, _mask(PLACEHOLDER, blank_parameters(segment)))
        numbers = [(m.start(), _number_message(m.group(), self.suggest(Record("untracked", "", m.group()))))
                   for m in NUMBER.finditer(prose)]
        return numbers + [(m.start(), _verdict_message(m.group())) for m in VERDICT_WORDS.finditer(prose)]


def _mask(pattern: re.Pattern, text: str) -> str:
    """The text with each match of the pattern replaced by as many spaces (offsets stay)."""
    return pattern.sub(lambda m: " " * len(m.group()), text)


def _line_finder(text: str, origin: list[int]):
    starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(offset: int) -> int | str:
        index = bisect.bisect_right(starts, offset) - 1
        return (origin[index] if index < len(origin) else 0) or "?"
    return line


def _skeleton_offset(text: str, skeleton: str, body_start: int) -> int:
    """Where the body starts in the skeleton: the same number of lines down, then the column."""
    if body_start <= 0:
        return 0
    line = text.count("\n", 0, body_start)
    starts = [0] + [m.end() for m in re.finditer("\n", skeleton)]
    return starts[min(line, len(starts) - 1)]


class Suggestions:
    """For a number typed by hand, the expression that prints it from the results, if any."""

    def __init__(self, context: dict):
        self.numbers = sorted(_tracked_numbers([context.get(k) for k in ("q1", "q2")]),
                              key=lambda n: (("[" in n._source), len(n._source)))

    def __call__(self, record: Record) -> str | None:
        typed = record.text
        percent = bool(re.search(r"%|\\percent", typed))
        digits = re.sub(r"\\,|\{,\}|,", "", re.sub(r"\\(num|qty)\{|\}\{\\percent\}|\}", "", typed))
        found = re.search(r"-?\d+(?:\.\d+)?", digits.replace("−", "-"))
        if found is None:
            return None
        text = found.group()
        places = len(text.split(".")[1]) if "." in text else 0
        for number in self.numbers:
            value = float(number)
            if percent and 0 <= value <= 1 and f"{100 * value:.{places}f}" == text:
                return f"{number._source}|pct({places})"
            # a whole number must be the value itself: 0.693 is not what a typed "1" meant
            if not percent and value != 0 and (value == float(text) if places == 0
                                               else f"{value:.{places}f}" == text):
                return f"{number._source}|num({places})"
        return None


def _tracked_numbers(values):
    from report.provenance_marks import TrackedFloat, TrackedInt
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, (TrackedFloat, TrackedInt)):
            yield value
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
