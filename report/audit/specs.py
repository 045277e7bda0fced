"""The one table the audit's LaTeX front end reads: what each macro's and environment's arguments
are, and the pylatexenc context built from it.

An argument's role, one letter each, in order (pylatexenc parses them; report/audit/latex.py reads
each by its role):

    p  {parameter}   a setting, never read: a length, a colour, a column spec, a counter's name
    o  [parameter]   optional settings: \\includegraphics[width=...], \\linebreak[4], [htbp]
    l  {label}       a name: \\label, \\ref, \\cite keys, a file to include
    t  {prose}       text the reader sees: \\caption, \\textbf, \\section, \\mbox
    T  [prose]       optional text the reader sees: \\item[...], \\caption[...], \\citep[...]
    m  {math}        math: \\ensuremath
    x  {text or math} in math, a font command around a plain word is prose (\\mathrm{better}),
                     around an expression it is math (\\mathrm{d}x stays notation)
    k  {key=value}   \\hypersetup: the values of the keys in PDF_TEXT_KEYS are prose
    s  *             a star
    d  {definition}  the body of a macro a template defines: read as prose and as notation

Anything not in the table takes no argument: what follows it is read as it comes. LaTeX's own
numeric parameters (\\penalty10000, \\kern-2pt, \\hskip 3pt plus 1fil, \\looseness=-1) are named by
PRIMITIVE_PARAMETER and the number after them is a setting. The table also says what a macro
without arguments reads as (\\% is %, \\, a thin space, \\- nothing).
"""
from __future__ import annotations

import re

from pylatexenc.latexwalker import LatexWalker
from pylatexenc.macrospec import (EnvironmentSpec, LatexContextDb, MacroSpec,
                                  MacroStandardArgsParser, SpecialsSpec)

_LABELS = {name: "l" for name in (
    "label", "ref", "eqref", "pageref", "autoref", "cref", "Cref", "nameref", "input", "include",
    "bibliography", "bibliographystyle", "usepackage", "RequirePackage", "url", "hypertarget",
    "hyperlink", "newcounter", "stepcounter", "refstepcounter", "budgetpart", "tag", "nocite")}
_CITES = {name: "TTl" for name in ("cite", "citep", "citet", "parencite", "textcite", "autocite",
                                   "citeauthor", "citeyear", "footcite")}
_PARAMETERS = {
    "vspace": "sp", "hspace": "sp", "setlength": "pp", "addtolength": "pp", "multicolumn": "ppt",
    "multirow": "opt", "rule": "opp", "raisebox": "pt", "scalebox": "pot", "resizebox": "spp",
    "fontsize": "pp", "linespread": "p", "includegraphics": "sol", "definecolor": "ppp",
    "colorlet": "pp", "color": "op", "textcolor": "opt", "colorbox": "opt", "fcolorbox": "oppt",
    "pagecolor": "op", "parbox": "oopt", "makebox": "oot", "framebox": "oot", "enlargethispage": "sp",
    "needspace": "p", "babelprovide": "op", "babelfont": "opop", "documentclass": "ol",
    "cline": "p", "specialrule": "ppp", "toprule": "o", "midrule": "o",
    "bottomrule": "o", "addlinespace": "o", "hline": "", "newcolumntype": "pop",
    "setcounter": "lp", "addtocounter": "lp", "typeout": "p", "message": "p", "write": "p",
    "PackageWarning": "pp", "ClassWarning": "pp", "sisetup": "p", "captionsetup": "op",
    "linebreak": "o", "pagebreak": "o", "nolinebreak": "o", "nopagebreak": "o", "\\": "so",
    "newline": "", "hyperref": "ot", "href": "lt", "captionof": "sTt", "AtBeginDocument": "d",
    "pdfstringdefDisableCommands": "p", "geometry": "p", "savebox": "l", "usebox": "l",
    "selectlanguage": "p", "foreignlanguage": "pt", "setmainfont": "op", "newfontfamily": "lop",
}
_PROSE = {
    "caption": "Tt", "section": "sTt", "subsection": "sTt", "subsubsection": "sTt",
    "paragraph": "sTt", "subparagraph": "sTt", "chapter": "sTt", "part": "sTt", "footnote": "Tt",
    "footnotetext": "Tt", "item": "T", "title": "Tt", "author": "Tt", "date": "t", "thanks": "t",
    "text": "t", "textrm": "t", "textsf": "t", "texttt": "t", "textit": "t", "textbf": "t",
    "textsc": "t", "textsl": "t", "textup": "t", "textmd": "t", "textnormal": "t", "emph": "t",
    "underline": "t", "mbox": "t", "hbox": "t", "fbox": "t", "intertext": "t", "shortintertext": "t",
    "num": "Tt", "qty": "Ttt", "SI": "Ttt", "unit": "Tt", "si": "Tt", "ang": "Tt", "numrange": "Ttt",
    "textsuperscript": "t", "textsubscript": "t", "uline": "t", "sout": "t",
    "ensuremath": "m", "operatorname": "sx", "mathrm": "x", "mathit": "x", "mathbf": "x",
    "mathsf": "x", "mathtt": "x", "hypersetup": "k",
}
DEFINITIONS = {  # the macro that defines, and the roles of its arguments (the body is `d`)
    "newcommand": "slood", "renewcommand": "slood", "providecommand": "slood",
    "DeclareRobustCommand": "slood", "NewDocumentCommand": "lpd", "RenewDocumentCommand": "lpd",
    "ProvideDocumentCommand": "lpd", "DeclareDocumentCommand": "lpd",
    "newenvironment": "soopdd", "renewenvironment": "soopdd",
}
MACROS = {**_LABELS, **_CITES, **_PARAMETERS, **_PROSE, **DEFINITIONS}
# \def\name{body}, \gdef, \edef, \xdef: the name and the body follow the command itself
TEX_DEFINITIONS = {"def", "gdef", "edef", "xdef"}
# LaTeX's own counters and macros that hold a number: a value given to them is a setting
LATEX_COUNTERS = {"secnumdepth", "tocdepth", "topnumber", "bottomnumber", "totalnumber",
                  "dbltopnumber"}
PARAMETER_MACRO = re.compile(r"[a-z]*(?:stretch|fraction|penalty|number)")
PRIMITIVE_PARAMETER = re.compile(
    r"(?:[a-z]*penalty|[a-z]*demerits|kern|[hv]skip|[hv]fuzz|looseness|tolerance|pretolerance|"
    r"emergencystretch|raise|lower|move(?:left|right)|[a-z]*skip|[a-z]*sep|[a-z]*indent|"
    r"[a-z]*width|[a-z]*height|[hv]rule|hangafter|hangindent|parshape|mag)")
# The number (a dimension, a glue, a count) that a primitive parameter reads after its name
PRIMITIVE_VALUE = re.compile(
    r"\s*=?\s*(?:(?:height|width|depth)\s*)?[-+]?(?:\d+\.?\d*|\.\d+)\s*(?:pt|mm|cm|in|ex|em|bp|pc|"
    r"sp|dd|cc|mu|true\s*pt)?(?:\s*(?:plus|minus)\s*[-+]?[\d.]+\s*(?:pt|mm|cm|em|ex|fil+)\b)*"
    r"(?:\s*(?:height|width|depth)\s*[-+]?[\d.]+\s*(?:pt|mm|cm|em|ex|in|bp))*")
PDF_TEXT_KEYS = {"pdftitle", "pdfauthor", "pdfsubject", "pdfkeywords", "pdfcreator",
                 "pdfproducer", "pdfinfo"}

MATH_ENVIRONMENTS = {"equation", "align", "gather", "multline", "displaymath", "math",
                     "eqnarray", "flalign", "alignat", "dmath", "split", "aligned", "gathered",
                     "cases", "matrix", "pmatrix", "bmatrix", "vmatrix", "array", "subequations"}
ENVIRONMENTS = {  # roles of the arguments after \begin{name}
    "figure": "o", "table": "o", "figure*": "o", "table*": "o", "minipage": "ooop",
    "tabular": "op", "tabular*": "pop", "tabularx": "pop", "tabulary": "pp", "array": "op",
    "longtable": "op", "multicols": "pTo", "wrapfigure": "oopop", "subfigure": "op",
    "alignat": "p", "alignat*": "p", "enumerate": "o", "itemize": "o", "description": "o",
    "center": "", "flushleft": "", "flushright": "", "document": "",
}
# What a macro without arguments reads as in prose (anything else: a space between words)
READS_AS = {"%": "%", ",": "\u2009", ";": " ", ":": " ", "!": "", " ": " ", "quad": " ",
            "qquad": " ", "enspace": " ", "thinspace": "\u2009", "-": "", "/": "", "relax": "",
            "allowbreak": "", "nobreak": "", "textgreater": ">", "textless": "<", "&": "&",
            "$": "$", "#": "#", "_": "_", "{": "{", "}": "}", "textemdash": " \u2014 ",
            "textendash": "\u2013", "percent": "%", "ldots": "...", "dots": "...", "slash": "/",
            "textpercent": "%", "times": "\u00d7", "pm": "\u00b1", "textpm": "\u00b1", "xspace": "",
            "kern0pt": "", "ignorespaces": "", "unskip": "", "leavevmode": "", "noindent": "",
            "centering": "", "raggedright": "", "small": "", "footnotesize": "", "scriptsize": "",
            "normalsize": "", "large": "", "Large": "", "bfseries": "", "itshape": "", "ttfamily": "",
            "textquotedbl": '"', "par": "\n\n", "newline": "\n\n", "\\": "\n\n", "hfill": " ",
            "clearpage": "\n\n", "newpage": "\n\n", "appendix": "", "maketitle": ""}
SENTENCE_BREAKING = {"par", "\\", "newline", "item", "clearpage", "newpage", "caption",
                     "section", "subsection", "subsubsection", "paragraph", "footnote"}


def argspec(roles: str) -> str:
    """pylatexenc's argspec of a role string: `{` for a braced argument, `[` optional, `*` a star."""
    return "".join({"s": "*", "o": "[", "T": "["}.get(role, "{") for role in roles)


def _context() -> LatexContextDb:
    db = LatexContextDb()
    macros = [MacroSpec(name, args_parser=MacroStandardArgsParser(
        argspec(roles), optional_arg_no_space=name == "\\")) for name, roles in MACROS.items()]
    environments = [EnvironmentSpec(name, argspec(roles)) for name, roles in ENVIRONMENTS.items()]
    environments += [EnvironmentSpec(name + star, argspec(ENVIRONMENTS.get(name + star, "")),
                                     is_math_mode=True)
                     for name in MATH_ENVIRONMENTS for star in ("", "*")]
    specials = [SpecialsSpec(chars) for chars in ("~", "&", "---", "--", "``", "''")]
    db.add_context_category("audit", macros=macros, environments=environments, specials=specials)
    db.set_unknown_macro_spec(MacroSpec(""))
    db.set_unknown_environment_spec(EnvironmentSpec(""))
    return db


CONTEXT = _context()


def walker(text: str) -> LatexWalker:
    return LatexWalker(text, latex_context=CONTEXT, tolerant_parsing=True)


def roles(name: str) -> str:
    return MACROS.get(name, "")


def environment_roles(name: str) -> str:
    return ENVIRONMENTS.get(name, "")


def is_math_environment(name: str) -> bool:
    return name.rstrip("*") in MATH_ENVIRONMENTS
