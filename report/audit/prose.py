"""The rules for prose as read (report/audit/latex.py): numbers typed by hand, in digits or in
words, and relations typed outside math. docs/audit.md states them for the writer.

The prose arrives with LaTeX's markup already read: parameters, labels and comments are gone,
`~` is a no-break space (U+00A0), `\\,` a thin space (U+2009), a formula is U+FFFC and a value
inserted from the results is U+FFFC too (it is checked where it was inserted).
"""
from __future__ import annotations

import re

SPACE = r"[\s\u00a0\u2009]"
NUMBER_TEXT = r"(?:\d+(?:(?:[.,]|\u2009)\d+)*|\.\d+)"
# A number in digits: not part of a word or name (q1, ResNet-50, 2D), with its percent sign
NUMBER = re.compile(r"(?<![\w.#])(?<![A-Za-z][-\u2212])[-\u2212]?" + NUMBER_TEXT +
                    r"(?!\d|(?:pt|mm|cm|in|ex|em|bp|pc|sp|dd|cc|mu|fil+|D)\b)"
                    rf"(?:{SPACE}*(?:%|percent\b|per{SPACE}cent\b))?")
# Words that name a numbered thing, tied to its number by ~: Task~1, Fig.~2, Tasks~1 and~2
LABEL_WORDS = (r"(?:Tasks?|Homework|Questions?|Parts?|Figures?|Figs?\.|Tables?|Tabs?\.|Sections?|"
               r"Secs?\.|Equations?|Eqs?\.|Appendix|Chapters?|Steps?|Pages?|pp?\.|Items?|Lines?|"
               r"Layers?|Problems?|Exercises?|Lemmas?|Theorems?|and|or|to)")
TIED_LABEL = re.compile(r"\b" + LABEL_WORDS + r"\u00a0(\d+(?:\.\d+)*)(?![\d.]*" + SPACE + r"*%)")
MACRO_PARAMETER = re.compile(r"#\d")

# Numbers in words: a cardinal from two up, "one" when it counts something against another
# number (one in ten, one percent), fractions used as amounts (half of, about a third), and
# multiples (twice, three times as many)
_UNITS = ("two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
          "sixteen|seventeen|eighteen|nineteen")
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_CARDINAL = (rf"(?:(?:{_TENS})(?:[-\s](?:one|{_UNITS}))?|{_UNITS}|hundred|thousand|million|billion|"
             r"dozens?|(?:a|one)\s+(?:hundred|thousand|million))")
_FRACTION = r"(?:halves|half|thirds?|quarters?|fifths?|tenths?|hundredths?)"
SPELLED = re.compile(
    rf"\b(?:{_CARDINAL}(?:\s+(?:point|and)\s+\w+)?(?:\s+(?:out\s+of|in)\s+(?:{_CARDINAL}|one))?"
    rf"(?:\s+(?:percent|per\s+cent))?"
    rf"|one\s+(?:percent|per\s+cent|in\s+(?:a|every|each)?\s*\w+|out\s+of\s+\w+)"
    rf"|(?:(?:a|one|about|nearly|almost|roughly|over|under|only|just|exactly|some|barely)\s+)"
    rf"{_FRACTION}|{_FRACTION}\s+of|twice|thrice|doubl(?:e|ed|es|ing)|tripl(?:e|ed|es|ing)|"
    rf"quadrupl\w*|halv(?:e|ed|es|ing))\b", re.IGNORECASE)
# "the two rates": the ones just named, not a measured count
THE_FEW = re.compile(r"two|three", re.IGNORECASE)
# Relations typed in prose, outside math (z = Wx + b, ≤, ≈)
PROSE_RELATION = re.compile(r"[=\u2260\u2264\u2265\u2248<>\u227b\u227a]")


def numbers(prose: str, bibliographic: bool = False) -> list[tuple[int, str]]:
    """(index, the number as typed) for every number typed in the prose; `bibliographic` (the
    fields of a reference: year, volume, pages) keeps only percentages."""
    prose = MACRO_PARAMETER.sub("  ", prose)
    prose = TIED_LABEL.sub(lambda m: m.group()[:m.start(1) - m.start()] + " " * len(m.group(1)), prose)
    found = [(m.start(), m.group()) for m in NUMBER.finditer(prose)
             if not bibliographic or re.search("%|percent|cent", m.group())]
    if not bibliographic:
        found += [(m.start(), m.group()) for m in SPELLED.finditer(prose)
                  if not (THE_FEW.fullmatch(m.group()) and re.search(r"\b(?:the|these|those)\s+$", prose[:m.start()], re.I))]
    return sorted(found)


def relations(prose: str) -> list[int]:
    return [m.start() for m in PROSE_RELATION.finditer(prose)]


def readable(latex: str) -> str:
    """A number as the reader sees it: \\qty{97}{\\percent} -> 97 %, \\num{9} -> 9, 97~\\% -> 97 %."""
    text = re.sub(r"\\qty\{([^}]*)\}\{\\percent\}", r"\1 %", latex)
    text = re.sub(r"\\(?:num|qty)\{([^}]*)\}", r"\1", text)
    text = re.sub(rf"(?:{SPACE}|\\,|~)*(?:\\%|\\percent|%)", " %", text)
    text = re.sub(rf"{SPACE}+", " ", text)
    return text.replace("+-", "±").strip()


def number_message(typed: str, suggestion: str | None) -> str:
    instead = suggestion or ('write it from the results through num, pct or sci, or declare a fact '
                             'from elsewhere with ((( <number>|typed("what it is") )))')
    return f'"{readable(typed)}" is typed by hand and will not follow the results; {instead}'


RELATION_MESSAGE = ("a relation typed in prose, outside math, which nothing verified; typeset it "
                    'with ((( eq("id").latex ))) or ((( definition("id").latex ))) in math')
