"""How the report prints values: text escaped for LaTeX, numbers through siunitx (mean ± spread
as one unbreakable value), the configuration's values as the prose spells them, counts with their
noun. Plain text functions, shared by the templates' filters (report/render/jinja.py) and the
sentences that claims word (report/claims/)."""
from __future__ import annotations

import math
import re
import unicodedata

from pylatexenc.latexencode import RULE_DICT, UnicodeToLatexConversionRule, UnicodeToLatexEncoder

from report.errors import ReportError

ASCII_RUN = re.compile(r"[\x00-\x7f]+")
# pylatexenc's defaults, except that " stays a straight quote: its '' would set a closing quote
# even where the name opens one
STRAIGHT_QUOTE = UnicodeToLatexConversionRule(RULE_DICT, {ord('"'): r"\textquotedbl{}"})
LATEX_SPECIALS = UnicodeToLatexEncoder(conversion_rules=[STRAIGHT_QUOTE, "defaults"],
                                       non_ascii_only=False, unknown_char_warning=False)


def escape(value) -> str:
    """Text as LaTeX: pylatexenc escapes the ASCII specials (\\ { } $ & # ^ _ ~ %); any other
    character stays itself, since LuaLaTeX reads UTF-8 (pylatexenc's macros for them, such as
    \\CYRA, exist only in pdfLaTeX's 8-bit encodings). NFC composes a decomposed e + circumflex +
    dot below into the one character ệ that the fonts draw."""
    text = unicodedata.normalize("NFC", str(value))
    latex = ASCII_RUN.sub(lambda run: LATEX_SPECIALS.unicode_to_latex(run.group()), text)
    return TEX_LIGATURE.sub(r"\1\\kern0pt{}", latex)


# The font's TeX ligatures would turn typed `` '' -- !` ?` ,, << >> into other characters (“ ” – ¡ ¿
# „ « »); a zero kern between the two keeps them as typed (LuaTeX ligatures ignore an empty group).
TEX_LIGATURE = re.compile(r"([`'\-!?,<>])(?=[`'\-,<>])")


def _digits(digits) -> int:
    if isinstance(digits, bool) or not isinstance(digits, int) or not 0 <= digits <= 12:
        raise ReportError(f"the number of digits must be a whole number from 0 to 12, not {digits!r}")
    return digits


def _finite(value, what: str) -> float:
    if value is None or not math.isfinite(float(value)):
        raise ReportError(f"a template formats {value!r} as {what}; the results hold no such number")
    return float(value)


def _spread(std, digits: int, scale: float = 1.0) -> str:
    """siunitx's " +- s", which it sets as one unbreakable value ± s; nothing when std is None
    (one seed: no spread was measured)."""
    return f" +- {scale * _finite(std, 'a spread'):.{digits}f}" if std is not None else ""


def num(value, digits: int = 3, std=None) -> str:
    """A number, optionally mean ± std."""
    digits = _digits(digits)
    return rf"\num{{{_finite(value, 'a number'):.{digits}f}{_spread(std, digits)}}}"


def sci(value, digits: int = 1) -> str:
    digits = _digits(digits)
    return rf"\num{{{_finite(value, 'a number'):.{digits}e}}}"


def pct(value, digits: int = 1, std=None) -> str:
    """A fraction as a percentage, optionally mean ± std."""
    digits = _digits(digits)
    mean = f"{100 * _finite(value, 'a percentage'):.{digits}f}"
    return rf"\qty{{{mean}{_spread(std, digits, 100)}}}{{\percent}}"


# How the prose spells the configuration's values and the ablation factors
DISPLAY_NAMES = {"relu": "ReLU", "sigmoid": "sigmoid", "tanh": "tanh", "mse": "MSE",
                 "ce": "cross-entropy", "adam": "Adam", "sgd": "SGD", "lr": "learning rate",
                 "activation": "activation", "loss": "loss", "hidden": "hidden layers",
                 "cpu": "CPU", "cuda": "GPU (CUDA)"}


def display(value) -> str:
    """A value as the prose spells it (relu -> ReLU, ce -> cross-entropy), escaped."""
    return DISPLAY_NAMES.get(str(value), escape(value))


def counted(n: int, noun: str, show=str) -> str:
    """`1 seed`, `3 seeds`: a count with its noun in the right number."""
    return f"{show(n)} {noun}" if n == 1 else f"{show(n)} {noun}s"
