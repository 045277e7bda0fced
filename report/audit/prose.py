"""The audit: what a template typed by hand, found in the rendered LaTeX before it is typeset.

Everything a template inserts through `((( )))` from the results, eq()/definition() or `claims`
arrives marked (report/render/marks.py); the audit reads the rest, the text the template
typed, and reports, by template file and line:

- a *number* typed in prose ("we reached 97 %"): it will not follow the next run. Not numbers:
  LaTeX parameters (dimensions such as 3pt or 0.4\\textwidth, optional arguments `[...]`, the
  arguments of environments and of layout commands such as \\vspace or \\multicolumn's count,
  colour mixes such as red!8) and labels tied to their word (Task~1, Homework~1). In math, digits
  are notation (x^2, \\tfrac12, \\ln 2, [0, 1]) unless they are a measurement: a decimal (0.97),
  three digits or more, or a percentage. A number printed by `((( )))` that did not come from the
  results or the configuration (`((( 97|pct ))))`) is typed too. A fact from elsewhere is declared
  with `typed`: `((( 0.89|typed("the draft's test accuracy")|pct(0) )))`.
- a *relation* typed in math that states a result (report/audit/mathmode.py says which do);
- a *verdict word* (faster, confirmed, better, ...) typed in prose: comparisons come from
  `claims`, which words them from the numbers.

Only the document's body is read: the preamble of main.tex.j2 holds settings, not prose.
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass, field

from report.audit import mathmode as math_audit
from report.audit.derivation_steps import TypedSteps
from report.audit.mathmode import group_end
from report.render.marks import CLOSE, MARK, Record, checksum

# Words that state a direction or a verdict: `claims` chooses them from the numbers.
VERDICT_WORDS = re.compile(
    r"\b(faster|slower|fastest|slowest|quicker|quickest|sooner|beats?|beaten|ahead|behind|"
    r"confirm(?:ed|s|ing|ation)?|contradict(?:ed|s|ing|ion)?|outperform\w*|better|best|worse|"
    r"worst|higher|highest|lower|lowest|greater|larger|smaller|superior|inferior|improv(?:e|es|ed|"
    r"ing|ement)|exceed\w*|surpass\w*|wins?|dominat\w*|lag(?:s|ged|ging)?|speed-?ups?|"
    r"(?:more|less|most|least) accurate|as (?:fast|slow|quickly)|significant\w*|underperform\w*|"
    r"outpac\w*|overtak\w*)\b", re.IGNORECASE)
DRAFT_CALL = 'verdict.full ))) for each verdict in ((( claims.draft_claims()'
VERDICT_CALLS = {"confirm": DRAFT_CALL, "contradict": DRAFT_CALL}
RANKING_CALL = 'claims.rankings()|join(" ") ))) or ((( claims.fastest()'

PLACEHOLDER = re.compile("\x1a(\\d+)\x1b")
NUMBER_TEXT = r"(?:\d+(?:(?:[.,]|\\,|\{,\})\d+)*|\.\d+)"
# A number typed in prose: not part of a word or name (q1, ResNet-50, 2D), not a macro parameter
# (#1), with its percent sign if it has one.
NUMBER = re.compile(r"(?<![\w\\.#])(?<![A-Za-z][-−])[-−]?" + NUMBER_TEXT +
                    r"(?!\d|(?:pt|mm|cm|in|ex|em|bp|pc|sp|dd|cc|mu|fil+|D)\b)"
                    r"(?:\s*(?:\\,|~)?\s*(?:\\%|\\percent|%))?")
MACRO_PARAMETER = re.compile(r"#\d")  # #1 in a macro's body
# LaTeX parameters, blanked before numbers are looked for: a length relative to another
# (0.4\textwidth), the numbers TeX's own parameters take (\penalty10000, \kern-2pt, \hskip 3pt,
# \looseness=-1), colour mixes (red!8), labels tied to a capitalised word (Task~1, Figure~2)
RELATIVE_LENGTH = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)\s*\\[a-zA-Z]*(?:width|height|skip|sep|indent|size)\b")
TEX_PARAMETER = re.compile(
    r"(\\(?:[a-z]*penalty|[a-z]*demerits|kern|[hv]skip|[hv]fuzz|looseness|tolerance|"
    r"emergencystretch|raise|lower|move(?:left|right)|[a-z]*skip|[a-z]*sep|[a-z]*indent|"
    r"[a-z]*width|[a-z]*height)\s*=?\s*)([-+]?(?:\d+\.?\d*|\.\d+)(?:\s*(?:pt|mm|cm|in|ex|em|bp|"
    r"pc|sp|dd|cc|mu)\b)?(?:\s*(?:plus|minus)\s*[-+]?[\d.]+\s*(?:pt|mm|cm|em|ex|fil+)\b)*)")
COLOUR_MIX = re.compile(r"![0-9.]+")
ASSIGNMENT = re.compile(r"(?<=[a-zA-Z])\s*=(?=\s*[-+]?[\d.])")  # \looseness=-1: TeX's, not a relation
# Words that name a numbered thing, tied to its number: Task~1, Fig.~2, Eq.~3, Tasks~1 and~2
LABEL_WORDS = (r"(?:Tasks?|Homework|Questions?|Parts?|Figures?|Figs?\.|Tables?|Tabs?\.|Sections?|"
               r"Secs?\.|Equations?|Eqs?\.|Appendix|Chapters?|Steps?|Pages?|pp?\.|Items?|Lines?|"
               r"Layers?|Problems?|Exercises?|Lemmas?|Theorems?|and|or|to)")
TIED_LABEL = re.compile(r"(\b" + LABEL_WORDS + r"~)(\d+(?:\.\d+)*)(?!\s*(?:\\,|~)?\s*(?:\\%|%|\\percent))")
# Commands whose first brace arguments are parameters (how many of them), not prose
PARAMETER_ARGS = {
    "vspace": 1, "hspace": 1, "setlength": 2, "addtolength": 2, "multicolumn": 2, "multirow": 2,
    "rule": 2, "raisebox": 1, "scalebox": 1, "resizebox": 2, "fontsize": 2, "linespread": 1,
    "includegraphics": 1, "input": 1, "include": 1, "label": 1, "ref": 1, "eqref": 1,
    "pageref": 1, "autoref": 1, "cref": 1, "cite": 1, "parencite": 1, "textcite": 1, "citep": 1,
    "citet": 1, "autocite": 1, "href": 1, "url": 1, "hypersetup": 1, "sisetup": 1,
    "captionsetup": 1, "definecolor": 3, "color": 1, "textcolor": 1, "colorbox": 1,
    "fcolorbox": 2, "parbox": 1, "end": 1, "enlargethispage": 1, "needspace": 1,
    "budgetpart": 1, "babelprovide": 1, "babelfont": 2, "usepackage": 1, "cline": 1,
    "cmidrule": 1, "specialrule": 3, "addlinespace": 0, "newcounter": 1, "setcounter": 1,
    "addtocounter": 1, "stepcounter": 1, "bibliographystyle": 1, "bibliography": 1,
    "typeout": 1, "message": 1, "write": 1, "PackageWarning": 2, "ClassWarning": 2,
    "newcolumntype": 2,
}
# LaTeX's own counters: a value set for them is a setting (\setcounter{secnumdepth}{0})
LATEX_COUNTERS = {"secnumdepth", "tocdepth", "topnumber", "bottomnumber", "totalnumber",
                  "dbltopnumber"}
# Environments and the brace arguments they take (column specs, widths)
ENVIRONMENT_ARGS = {"tabular": 1, "tabular*": 2, "tabularx": 2, "array": 1, "minipage": 1,
                    "multicols": 1, "wrapfigure": 2, "subfigure": 1, "longtable": 1,
                    "alignat": 1, "alignat*": 1, "tabulary": 2}
ENVIRONMENT_OPTIONS = {"figure", "figure*", "table", "table*", "minipage", "tabular", "tabular*",
                       "tabularx", "array", "wrapfigure", "subfigure", "multicols", "longtable",
                       "enumerate", "itemize", "description", "alignat", "alignat*"}
FLOATS = {"figure", "figure*", "table", "table*"}
CONTROL_WORD = re.compile(r"\\([a-zA-Z]+)\*?")
# In math, digits are notation unless they measure: a decimal, three digits or more, a
# percentage, a power of ten (10^{-3}), a factor (4\times, \times 4), or a number of two digits
# or more that a variable is set to (n = 60)
MEASURED_IN_MATH = (r"(?<![\w.])\d+(?:[.,]|\{[.,]\})\d+|(?<![\w.])\d{2,}"
                    r"|\d+\s*(?:\\[,;!:]\s*)?\\%|(?<![\w.])10\s*\^"
                    r"|(?<![\w.])\d+\s*(?:\\[,;!:]\s*)?\{?\\times|\\times\s*(?:\\[,;!:]\s*)?\{?\s*\d"
                    r"|\d\s*(?:\\cdot|\\times|\*|/|\+)\s*\d")
SCRIPT = re.compile(r"[_^](?:\{[^{}]*\}|\\[a-zA-Z]+|.)")  # an index or exponent: x_{10}, 2^{10}
DEFINITIONS = ("newcommand", "renewcommand", "providecommand", "def", "gdef", "edef")
# LaTeX's own macros that hold a number (\renewcommand{\arraystretch}{1.2} sets a parameter)
PARAMETER_MACROS = re.compile(r"\\(?:[a-z]*stretch|[a-z]*fraction|[a-z]*penalty|[a-z]*number)$")
COMMENT = re.compile(r"(?<!\\)%[^\n]*")
LINE_BREAK = re.compile(r"\\\\\*?(\[[^\]\n]*\])?")  # \\ and \\[2pt]
# Relations typed in prose, outside math (z = Wx + b, ≤, ≈)
PROSE_RELATION = re.compile(r"(?<!\\)[=≠≤≥≈<>≻≺]|\\text(?:greater|less)\b")
RULE_SPEC = re.compile(r"\b(?:height|width|depth)\s*[-+]?[\d.]+\s*(?:pt|mm|cm|em|ex|in|bp)\b")


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
    typed_steps: TypedSteps = field(default_factory=TypedSteps)  # derivations typed and verified

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
        relations = self.count("relation", "definition")
        numbers = self.count("number", "typed")
        typed = self.count("typed")
        claims = self.count("claim")
        where = "; ".join(f"{readable(r.text)} ({r.source}, {t}:{line})"
                          for t, line, r in self.typed_numbers())
        typed_part = f" and {typed} typed as facts from elsewhere: {where}" if typed else ", none typed"
        state = "passed" if not self.findings else f"FAILED with {len(self.findings)} findings"
        steps = self.typed_steps
        derived = (f"{steps.steps} typed derivation steps in {steps.chains} chains, each proven by "
                   f"SymPy and matched by autograd; " if steps.steps else "")
        return (f"audit {state}: {relations} relations, all verified or defined; {derived}"
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
            if close is None or checksum(text[match.end():close]) != check:
                kind = "altered"  # changed by a filter after it was inserted, or forged
                close = match.end() if close is None else close
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


def _closing(text: str, start: int) -> int | None:
    """Where the piece whose text starts at `start` ends (its own CLOSE, past nested pieces)."""
    depth = 1
    for match in MARK.finditer(text, start):
        depth += -1 if match.group() == CLOSE else 1
        if depth == 0:
            return match.start()
    return None  # its end was cut off (a slice): not a piece any more


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


# Commands that take settings in [...] (any other command's [...] is prose: \item[97 %])
OPTION_COMMANDS = {"includegraphics", "usepackage", "documentclass", "linebreak", "pagebreak",
                   "nolinebreak", "nopagebreak", "addlinespace", "makebox", "framebox", "parbox",
                   "raisebox", "color", "textcolor", "colorbox", "babelprovide", "babelfont",
                   "hypersetup", "vspace", "hspace", "enlargethispage", "captionof", "subcaption",
                   "rule", "toprule", "midrule", "bottomrule", "cmidrule", "specialrule",
                   "scalebox", "resizebox", "captionsetup", "hline", "cline", "newcolumntype",
                   "multicolumn", "multirow", "setlength", "sisetup"}


def blank_parameters(text: str) -> str:
    """Blank what LaTeX reads as parameters: options, layout arguments, lengths, comments."""
    text = _mask(LINE_BREAK, _mask(COMMENT, text))
    pos = 0
    while True:
        match = CONTROL_WORD.search(text, pos)
        if match is None:
            break
        name, pos = match.group(1), match.end()
        if name in DEFINITIONS:
            text, pos = _blank_definition(text, pos)
        elif name == "begin":
            text, pos = _blank_environment(text, pos)
        else:
            text, pos = _blank_arguments(text, pos, name)
    text = _mask(ASSIGNMENT, text)
    text = TEX_PARAMETER.sub(lambda m: m.group(1) + " " * len(m.group(2)), text)
    text = TIED_LABEL.sub(lambda m: m.group(1) + " " * len(m.group(2)), text)
    for pattern in (RELATIVE_LENGTH, COLOUR_MIX, RULE_SPEC, MACRO_PARAMETER):
        text = _mask(pattern, text)
    return text


def _blank_group(text: str, pos: int, opener: str, closer: str, skip_space: bool = True):
    """Blank the group that opens at `pos` (after spaces, if allowed); (text, pos, blanked?)."""
    at = _skip_space(text, pos) if skip_space else pos
    if at < len(text) and text[at] == opener:
        end = group_end(text, at, opener, closer)
        return _blank(text, at, end), end, True
    return text, pos, False


def _blank_arguments(text: str, pos: int, name: str) -> tuple[str, int]:
    """A command's settings: its [options] if it takes settings, its first layout arguments."""
    if name == "cmidrule":  # \cmidrule(lr){2-3}
        text, pos, _ = _blank_group(text, pos, "(", ")", skip_space=False)
    if name in ("setcounter", "addtocounter"):  # the value of one of LaTeX's own counters
        at = _skip_space(text, pos)
        counter = text[at + 1:group_end(text, at, "{", "}") - 1].strip() if text[at:at + 1] == "{" else ""
        text, pos, _ = _blank_group(text, pos, "{", "}")
        if counter in LATEX_COUNTERS:
            text, pos, _ = _blank_group(text, pos, "{", "}")
        return text, pos
    args = PARAMETER_ARGS.get(name, 0)
    while True:
        blanked = False
        if name in OPTION_COMMANDS:  # \scalebox{0.9}[1.0]{...}: settings before and between
            text, pos, blanked = _blank_group(text, pos, "[", "]", skip_space=False)
        if not blanked and args > 0:
            text, pos, blanked = _blank_group(text, pos, "{", "}")
            args -= blanked
        if not blanked:
            return text, pos


def _blank_environment(text: str, pos: int) -> tuple[str, int]:
    r"""\begin{name}: its name, its [position] and the arguments it takes (column spec, width)."""
    at = _skip_space(text, pos)
    name = text[at + 1:group_end(text, at, "{", "}") - 1].strip() if text[at:at + 1] == "{" else ""
    text, pos, _ = _blank_group(text, pos, "{", "}")
    args = ENVIRONMENT_ARGS.get(name, 0)
    options = name in ENVIRONMENT_OPTIONS  # [t], [htbp]; a theorem's [note] is prose
    while True:
        blanked = False
        if options and (args > 0 or name in FLOATS):
            text, pos, blanked = _blank_group(text, pos, "[", "]", skip_space=False)
        if not blanked and args > 0:
            text, pos, blanked = _blank_group(text, pos, "{", "}", skip_space=False)
            args -= blanked
        if not blanked:
            return text, pos


def readable(latex: str) -> str:
    """A number as the reader sees it: \\qty{97}{\\percent} -> 97 %, \\num{9} -> 9, 97~\\% -> 97 %."""
    text = re.sub(r"\\qty\{([^}]*)\}\{\\percent\}", r"\1 %", latex)
    text = re.sub(r"\\(?:num|qty)\{([^}]*)\}", r"\1", text)
    text = re.sub(r"\s*(?:\\,|~)?\s*(?:\\%|\\percent|%)", " %", text)
    return text.replace("+-", "±").strip()


def _blank_definition(text: str, pos: int) -> tuple[str, int]:
    r"""After \newcommand or \def: blank the macro's name and [options]; its body stays to be read,
    unless it sets one of LaTeX's numeric macros (\renewcommand{\arraystretch}{1.2})."""
    at = _skip_space(text, pos)
    if text[at:at + 1] == "{":
        end = group_end(text, at, "{", "}")
        macro = text[at + 1:end - 1].strip()
    else:
        found = re.match(r"\\[a-zA-Z@]+", text[at:])
        end, macro = (at + len(found.group()), found.group()) if found else (at, "")
    text, pos = _blank(text, at, end), end
    for _ in range(2):
        text, pos, _ = _blank_group(text, pos, "[", "]")
    at = _skip_space(text, pos)
    if text[at:at + 1] == "{" and PARAMETER_MACROS.match(macro):
        end = group_end(text, at, "{", "}")
        if re.fullmatch(r"\{\s*[-+]?[\d.]+\s*\}", text[at:end]):
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
            f"write ((( {call} ))) instead (report/claims/wording.py lists every claim)")


class Scanner:
    """Scans one rendered template (marks in, line sentinels out) for what it typed by hand."""

    def __init__(self, suggest, typed_steps=None):
        self.suggest = suggest  # a Record of a typed number -> an expression that prints it, or None
        self.typed_steps = typed_steps  # derivation_steps.TypedSteps: verified typed derivations

    def scan(self, text: str, template: str, origin: list[int], audit: Audit,
             body_start: int = 0) -> None:
        """Record what the template inserted (from body_start on) and report what it typed; in
        the preamble before body_start, the bodies of the macros it defines are read too."""
        skeleton, met, pieces = _spans(text)
        line_of = _line_finder(text, origin)
        for offset, record in met:
            if offset >= body_start:
                audit.used.append((template, line_of(offset), record))
                message = self._inserted(record)
                if message:
                    audit.findings.append(Finding(template, line_of(offset), message))
        skeleton_line = _line_finder(skeleton, origin)
        for at in (m.start() for m in TAMPERED.finditer(skeleton)):
            audit.findings.append(Finding(template, skeleton_line(at), TAMPERED_MESSAGE))
        skeleton = _mask(TAMPERED, skeleton)
        body_offset = _skeleton_offset(text, skeleton, body_start)
        found = [(at, message) for at, body in _preamble_definitions(skeleton[:body_offset])
                 for at_in, message in self._prose(body) + self._math(body, pieces, notation_only=True)
                 for at in [at + at_in]]
        body = _mask(COMMENT, skeleton[body_offset:])
        found += [(body_offset + at + at_in, message) for at, macro in _preamble_definitions(body)
                  for at_in, message in self._math(macro, pieces, notation_only=True)]
        for kind, start, segment in math_audit.segments(body):
            parts = self._math(segment, pieces) if kind == "math" else self._prose(segment)
            found += [(body_offset + start + at, message) for at, message in parts]
        audit.findings += [Finding(template, skeleton_line(at), message) for at, message in found]

    def _inserted(self, record: Record) -> str | None:
        """What is wrong with an inserted piece, if anything."""
        if record.kind == "untracked":  # typed into a ((( ))) expression
            return _number_message(record.text, self.suggest(record))
        if record.kind == "altered":
            return (f"what {record.source} printed was changed in the template (by a filter or a "
                    f"slice) into \"{record.text[:60]}\"; print it as it is")
        return None

    def _math(self, segment: str, pieces: list[Record], notation_only: bool = False):
        """A typed result, numbers that measure, and the prose inside \text{}, in one stretch of
        math; `notation_only` (a macro body that may be used in math or prose) skips the rules
        that need to know it is math."""
        typed = None if notation_only else segment  # as typed, for the derivation checker
        # a line break in align separates formulas, as a comma does
        segment = LINE_BREAK.sub(lambda m: ";" + " " * (len(m.group()) - 1), segment)
        found = []
        for match in TEXT_IN_MATH.finditer(segment):
            found += [(match.start(1) + at, message) for at, message in self._prose(match.group(1))]
        segment = _mask(TEXT_IN_MATH, segment)
        if notation_only and not MATH_INDICATORS.search(segment):
            return found
        found += math_audit.check_at(segment, pieces.__getitem__, typed, self.typed_steps)
        if notation_only:
            return found
        if re.fullmatch(r"\s*[-−+]?\d+(?:[.,]\d+)?\s*", re.sub(r"[{}]|\\math[a-z]+", "", segment)):  # $9$, ${9}$
            return found + [(0, _number_message(segment.strip(), None))]
        measured = _mask(SCRIPT, _mask(PLACEHOLDER, segment))
        return found + [(m.start(), _number_message(m.group(), None))
                        for m in re.finditer(MEASURED_IN_MATH, measured)]

    def _prose(self, segment: str) -> list[tuple[int, str]]:
        """Numbers, relations and verdict words typed in one stretch of prose."""
        prose = _mask(CONTROL_WORD, _mask(PLACEHOLDER, blank_parameters(segment)))
        found = [(m.start(), _number_message(m.group(), self.suggest(Record("untracked", "", m.group()))))
                 for m in NUMBER.finditer(prose)]
        settings_blanked = _mask(PLACEHOLDER, blank_parameters(segment))
        found += [(m.start(), PROSE_RELATION_MESSAGE) for m in PROSE_RELATION.finditer(settings_blanked)
                  ]
        letters, offsets = _letters_only(_mask(PLACEHOLDER, segment))
        return found + [(offsets[m.start()], _verdict_message(m.group()))
                        for m in VERDICT_WORDS.finditer(letters)]


# Marks whose header a filter changed (|upper, a slice): never a valid piece
TAMPERED = re.compile("[\x02\x1f\x1e\x03][^\x02\x03]{0,200}?(?:\x1e|(?=\x03))|[\x02\x03\x1e\x1f]")
TAMPERED_MESSAGE = ("the invisible marks of an inserted piece were changed (by a filter such as upper, "
                    "or a slice); print results, equations and claims as they are")
PROSE_RELATION_MESSAGE = ("a relation typed in prose, outside math, which nothing verified; "
                          'typeset it with ((( eq("id").latex ))) or ((( definition("id").latex ))) in math')
# What makes a macro's body math (it may be used inside $...$)
MATH_INDICATORS = re.compile(r"[\^_=]|\\(?:frac|partial|hat|sum|prod|nabla|cdot|times|delta|sigma)\b")
TEXT_IN_MATH = re.compile(r"\\(?:text|textrm|textit|textbf|mbox|textnormal|mathrm|mathit|mathbf|"
                          r"mathsf|operatorname)\{([^{}]*)\}")
INVISIBLE = re.compile("\\\\-|\\\\/|\\\\relax\\b\\s*|\\\\hspace\\*?\\{[^{}]*\\}|\u00ad|[\u200b-\u200d\u2060]")


def _letters_only(text: str) -> tuple[str, list[int]]:
    """The text with control words, braces, discretionary hyphens and invisible characters taken
    out (so f\\textbf{aster}, fas\\-ter and \\mbox{fast}er read "faster"), and for each character
    left its offset in `text`."""
    drop = [False] * len(text)
    for pattern in (CONTROL_WORD, INVISIBLE, re.compile(r"[{}]")):
        for match in pattern.finditer(text):
            drop[match.start():match.end()] = [True] * (match.end() - match.start())
    letters, offsets = [], []
    for i, dropped in enumerate(drop):
        if not dropped:  # NFKC: the ligature ﬁ reads as f, i
            for char in unicodedata.normalize("NFKC", text[i]):
                letters.append(char)
                offsets.append(i)
    return "".join(letters), offsets + [len(text)]


def _preamble_definitions(preamble: str) -> list[tuple[int, str]]:
    r"""The bodies of the macros a stretch of LaTeX defines (\newcommand, \renewcommand, \def,
    \DeclareRobustCommand, \NewDocumentCommand), each with its offset; not LaTeX's internal ones,
    whose name or body uses @ (\renewcommand\section{\@startsection...})."""
    out = []
    for match in re.finditer(r"\\(?:newcommand|renewcommand|providecommand|DeclareRobustCommand|"
                             r"[gex]?def|(?:New|Renew|Provide|Declare)DocumentCommand)\*?\s*"
                             r"\{?\s*(\\[A-Za-z@]+)\s*\}?(?:\s*\[[^\]]*\])*\s*(?=\{)", preamble):
        start = match.end()
        if "DocumentCommand" in match.group():  # {argument spec}{body}
            start = group_end(preamble, start)
        end = group_end(preamble, start)
        body = preamble[start + 1:end - 1]
        if "@" not in match.group(1) and "\\@" not in body:
            out.append((start + 1, body))
    return out
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
        digits = re.sub(r"\\(num|qty)\{|\}\{\\percent\}|\}", "", re.sub(r"\\,|\{,\}|,", "", typed))
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
    from report.render.marks import TrackedFloat, TrackedInt
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, (TrackedFloat, TrackedInt)):
            yield value
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
