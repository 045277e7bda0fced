"""Jinja2 -> LaTeX: one .tex per template, with a map from rendered lines back to template lines.

Delimiters LaTeX never uses: ((* blocks *)), ((( expressions ))), ((= comments =)).
StrictUndefined, trim and lstrip blocks, no autoescape: every text value goes through `e`
(pylatexenc), every number through a siunitx filter (`num`, `pct`, `sci`), never typed by hand.
The document is typeset by LuaLaTeX, so text is UTF-8 and a [student] name may be in any script
pipeline/config.py accepts: `name_fonts` gives the font of each script the name uses.

Line map: before compiling, each template line whose end is outside any Jinja tag gets a sentinel
expression that prints `\\x00<line>\\x00`; after rendering, the sentinels on each output line tell
which template line it came from, and are removed. LaTeX errors are reported at that line.
"""
from __future__ import annotations

import math
import re
import traceback
import unicodedata
from pathlib import Path

import jinja2
from pylatexenc.latexencode import RULE_DICT, UnicodeToLatexConversionRule, UnicodeToLatexEncoder

from hw1.atomic import write_text
from pipeline import config, paths
from report.errors import ReportError

SENTINEL = re.compile(r"\x00(\d+)\x00")
OPENERS, CLOSERS = ("((*", "(((", "((="), ("*))", ")))", "=))")
ASCII_RUN = re.compile(r"[\x00-\x7f]+")
# pylatexenc's defaults, except that " stays a straight quote: its '' would set a closing quote
# even where the name opens one
STRAIGHT_QUOTE = UnicodeToLatexConversionRule(RULE_DICT, {ord('"'): r"\textquotedbl{}"})
LATEX_SPECIALS = UnicodeToLatexEncoder(conversion_rules=[STRAIGHT_QUOTE, "defaults"],
                                       non_ascii_only=False, unknown_char_warning=False)

# The font of each script a [student] name may use beyond Latin (set in Latin Modern, the body's
# font): (babel locale, font, fontspec options). CMU Serif is Computer Modern drawn for Greek and
# Cyrillic, so those names match the body. HarfBuzz shapes Arabic; without the common ligatures,
# since pdftotext reads the ligature of الله back reversed. Debian packages: report/ensure_tex.sh.
NAME_FONTS = {
    "Greek": ("greek", "CMU Serif", ""),
    "Cyrillic": ("russian", "CMU Serif", ""),
    "Hebrew": ("hebrew", "Noto Serif Hebrew", ""),
    "Arabic": ("arabic", "Noto Naskh Arabic", "Renderer=HarfBuzz,Ligatures=NoCommon"),
    "Chinese": ("chinese", "Noto Serif CJK SC", ""),
}


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


def name_fonts(name: str) -> list[tuple[str, str, str]]:
    """(babel locale, font, options) for each script of the name that Latin Modern lacks; the
    template declares only these, as loading the CJK font adds one to two seconds to each run."""
    return [NAME_FONTS[script] for script in config.name_scripts(name) if script in NAME_FONTS]


def _finite(value, what: str) -> float:
    if value is None or not math.isfinite(float(value)):
        raise ReportError(f"a template formats {value!r} as {what}; the results hold no such number")
    return float(value)


def num(value, digits: int = 3) -> str:
    return rf"\num{{{_finite(value, 'a number'):.{digits}f}}}"


def sci(value, digits: int = 1) -> str:
    return rf"\num{{{_finite(value, 'a number'):.{digits}e}}}"


def pct(value, digits: int = 1, std=None) -> str:
    """A fraction as a percentage, optionally mean ± std."""
    mean = f"{100 * _finite(value, 'a percentage'):.{digits}f}"
    spread = f" +- {100 * _finite(std, 'a percentage'):.{digits}f}" if std is not None else ""
    return rf"\qty{{{mean}{spread}}}{{\percent}}"


def optimizer_name(name: str) -> str:
    return {"adam": "Adam", "sgd": "SGD"}.get(name, name)


def add_sentinels(source: str) -> str:
    """Append a line sentinel to every line that does not end inside a Jinja tag."""
    out, depth = [], 0
    for number, line in enumerate(source.split("\n"), start=1):
        starts_inside = depth > 0
        depth += sum(line.count(o) for o in OPENERS) - sum(line.count(c) for c in CLOSERS)
        mark = f'((( "\\x00{number}\\x00" )))'
        if depth > 0 or starts_inside:
            out.append(line)
        elif line.rstrip().endswith(("*))", "=))")):
            # before a trailing block tag, so trim_blocks still eats its newline (no blank line)
            indent = len(line) - len(line.lstrip())
            out.append(line[:indent] + mark + line[indent:])
        else:
            out.append(line + mark)
    return "\n".join(out)


def strip_sentinels(rendered: str) -> tuple[str, list[int]]:
    """The LaTeX text and, per output line, the template line that ended it (0 if unknown)."""
    lines, origin, last = [], [], 0
    for line in rendered.split("\n"):
        found = [int(m) for m in SENTINEL.findall(line)]
        last = found[-1] if found else last
        origin.append(last)
        lines.append(SENTINEL.sub("", line))
    return "\n".join(lines), origin


class SentinelLoader(jinja2.FileSystemLoader):
    def get_source(self, environment, template):
        source, filename, uptodate = super().get_source(environment, template)
        return add_sentinels(source), filename, uptodate


def environment(template_dir: Path = paths.TEMPLATES) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=SentinelLoader(str(template_dir)),
        block_start_string="((*", block_end_string="*))",
        variable_start_string="(((", variable_end_string=")))",
        comment_start_string="((=", comment_end_string="=))",
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        autoescape=False, keep_trailing_newline=True)
    env.filters.update(e=escape, num=num, sci=sci, pct=pct, optimizer_name=optimizer_name,
                       name_fonts=name_fonts)
    return env


def _template_line(err: Exception, name: str) -> int | None:
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.endswith(name)]
    return frames[-1].lineno if frames else None


def render_all(context: dict, out_dir: Path, template_dir: Path = paths.TEMPLATES) -> dict:
    """Render every templates/*.tex.j2 to out_dir/*.tex; return {tex name: (template, line map)}."""
    env = environment(template_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    line_maps = {}
    for template_path in sorted(template_dir.glob("*.tex.j2")):
        name = template_path.name
        where = f"templates/{name}"
        try:
            rendered = env.get_template(name).render(context)
        except jinja2.TemplateSyntaxError as err:
            raise ReportError(f"{where}:{err.lineno}: template syntax error: {err.message}") from None
        except jinja2.UndefinedError as err:
            line = _template_line(err, name)
            raise ReportError(f"{where}:{line}: undefined variable: {err.message}") from None
        except ReportError as err:
            line = _template_line(err, name)
            raise ReportError(f"{where}:{line}: {err}") from None
        text, origin = strip_sentinels(rendered)
        tex_name = name.removesuffix(".j2")
        write_text(out_dir / tex_name, text)
        line_maps[tex_name] = (where, origin)
    return line_maps
