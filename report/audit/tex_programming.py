"""TeX programming in templates: a template is prose, so it needs neither Lua nor new macros.

    findings = tex_programming.scan(text, "templates/q1.tex.j2", origin, preamble_end)

The prose audit (prose.py) reads what a template types; TeX programming can type behind its back:
`\\def\\pa{fas}\\def\\pb{ter}` spells a verdict, `\\directlua{tex.print(...)}` prints a number,
`\\char102`, `^^66` and `\\csname` spell words and commands letter by letter, `\\catcode` makes
any character a command, and file commands read or write what the build never checked. Each use
is one finding at its template line, called by the build step (report/__main__.py) on every
rendered template. main.tex.j2's preamble (before \\begin{document}) holds the document's settings:
there the page budget's own macros may be defined (PREAMBLE_DEFINITIONS), the rest is not.
TeX's confinement (report/tex/confine.lua) stops the same commands from reaching outside the build
folder; this audit stops them from forging what the PDF says.
"""
from __future__ import annotations

import re

from report.audit.run import Finding
from report.render import marks

COMMENT = re.compile(r"(?<!\\)%[^\n]*")
CONTROL_WORD = re.compile(r"\\([A-Za-z@]+)")
# ^^66 (f) and ^^M: TeX's notation for any character by its code
CARET_NOTATION = re.compile(r"\^\^(?:[0-9a-f]{2}|[\x00-\x7f])")

LUA = ("directlua", "luaexec", "luadirect", "latelua", "lateluafunction", "luafunction",
       "luafunctioncall", "luabytecode", "luabytecodecall", "luacode", "luacodestar",
       "luaescapestring", "luastring", "luastringN", "luastringO", "luatexluafunction")
# commands that make or rename a command, or change what characters mean
DEFINITIONS = ("def", "gdef", "edef", "xdef", "let", "futurelet", "newcommand", "renewcommand",
               "providecommand", "DeclareRobustCommand", "NewDocumentCommand",
               "RenewDocumentCommand", "ProvideDocumentCommand", "DeclareDocumentCommand",
               "NewExpandableDocumentCommand", "newenvironment", "renewenvironment",
               "NewDocumentEnvironment", "RenewDocumentEnvironment", "DeclareTextCommand",
               "chardef", "mathchardef", "countdef", "toksdef", "Umathchardef", "newcommandx",
               "NewCommandCopy", "RenewCommandCopy", "DeclareCommandCopy", "LetLtxMacro",
               "everypar", "everymath", "everydisplay", "everyhbox", "everyvbox", "everyeof")
SPELLING = ("csname", "ifcsname", "lastnamedcs", "begincsname", "scantokens", "scantextokens",
            "catcode", "uccode", "lccode", "sfcode", "char", "Uchar", "Ucharcat", "symbol",
            "ExplSyntaxOn", "makeatletter", "detokenize", "unexpanded", "string",
            "tokenized", "expanded")
FILES = ("openin", "openout", "read", "readline", "closein", "closeout", "immediate",
         "write", "special", "pdfextension", "pdffeedback", "pdfvariable", "saveimageresource",
         "useimageresource", "pdfximage", "pdfobj", "pdfliteral", "font", "fontspec",
         "setmainfont", "newfontfamily", "InputIfFileExists", "verbatiminput", "lstinputlisting",
         "VerbatimInput", "import", "subimport", "includepdf", "usepackage", "RequirePackage",
         "documentclass", "LoadClass", "addbibresource", "bibliography", "include", "input",
         "includegraphics", "endinput", "openaux", "@@input", "@input", "@iinput")
# numbers TeX makes up, which no results file holds: \the\inputlineno after 96 blank lines
# prints 97, \the\uniformdeviate 100 a random one
NUMBERS = ("inputlineno", "uniformdeviate", "normaldeviate", "pdfuniformdeviate",
           "pdfnormaldeviate", "randomseed", "year", "month", "day", "time", "luatexversion",
           "luatexrevision", "eTeXversion", "eTeXrevision", "romannumeral", "numexpr")
# main.tex.j2's preamble: the document's own settings (packages, fonts, the page budget's marks)
PREAMBLE_SETTINGS = {"makeatletter", "usepackage", "documentclass", "write", "font", "fontspec",
                     "setmainfont", "newfontfamily", "string"}
# the commands the shipped preamble defines (the page budget's marks and the section heading that
# writes them): any other definition, even there, could spell words in pieces (\x@a{fas}
# \x@b{ter} \pa{\x@a\x@b}) that the prose audit reads apart
PREAMBLE_DEFINITIONS = {"budget@mark", "budget@write", "budget@part", "budgetpart", "budgetend",
                        "section"}
# LaTeX's layout parameters, set by redefining them (\renewcommand{\arraystretch}{1.2}): a number,
# which the prose audit reads as a setting
LAYOUT_PARAMETERS = {"arraystretch", "baselinestretch", "textfraction", "topfraction",
                     "bottomfraction", "floatpagefraction", "dbltopfraction",
                     "dblfloatpagefraction"}
DEFINED = re.compile(r"\s*\*?\s*\{?\s*\\([A-Za-z@]+)")

WHY = {
    **{name: "runs Lua, which can print any number or word past the audit" for name in LUA},
    **{name: "defines a command, which can spell words past the audit; write the words, or "
             "insert the value with ((( ... )))" for name in DEFINITIONS},
    **{name: "builds words or commands letter by letter, past the audit" for name in SPELLING},
    **{name: "reads or writes files or PDF objects the build never checked" for name in FILES},
    **{name: "prints a number TeX makes up, which no results file holds" for name in NUMBERS},
}


def _sections(line_maps: dict) -> set[str]:
    return {tex.removesuffix(".tex") for tex in line_maps}


def _argument(text: str, at: int) -> str:
    """The first {...} or plain word after position `at` (after an optional [...])."""
    found = re.compile(r"\s*(?:\[[^\]]*\]\s*)?(?:\{([^{}]*)\}|([^\s{}\\]+))").match(text, at)
    return (found.group(1) or found.group(2) or "") if found else ""


def _allowed(name: str, argument: str, in_preamble: bool, sections: set[str],
             defined: str = "") -> bool:
    """The uses a template needs: \\input of its own sections, figures by their staged relative
    path, the document's settings in main.tex.j2's preamble, \\write to the log (-1) there."""
    if name in ("input", "include"):
        return argument.removesuffix(".tex") in sections
    if name == "includegraphics":
        return bool(argument) and not argument.startswith(("/", "~")) and ".." not in argument
    if name == "write":
        return in_preamble and argument.startswith("-1")
    if name in ("usepackage", "documentclass"):
        return in_preamble and "/" not in argument and ".." not in argument
    if name == "bibliography":
        return "/" not in argument and ".." not in argument
    if name in DEFINITIONS:
        return defined in LAYOUT_PARAMETERS or in_preamble and defined in PREAMBLE_DEFINITIONS
    return in_preamble and name in PREAMBLE_SETTINGS - {"write", "usepackage", "documentclass"}


def scan(text: str, template: str, origin: list, preamble_end: int = 0,
         sections: set[str] | None = None) -> list[Finding]:
    """One finding per use of TeX programming in one rendered template. `origin`: the template
    line of each rendered line, or its (template file, line) when included templates are read
    with it; `preamble_end`: the offset of \\begin{document} (0: no preamble); `sections`: the
    names \\input may take (the templates)."""
    sections = sections or set()
    code = COMMENT.sub(lambda m: " " * len(m.group()), text)  # offsets kept
    found = []

    def at(offset: int, message: str) -> Finding:
        number = code.count("\n", 0, offset)
        source = origin[number] if number < len(origin) else None
        if isinstance(source, tuple):  # (template file, line), as report/render/jinja.py locates
            file, line = source
            return Finding(f"templates/{file}" if file else template, line or "?", message)
        return Finding(template, source or "?", message)

    for match in CONTROL_WORD.finditer(code):
        name = match.group(1)
        if name not in WHY:
            continue
        argument = _argument(code, match.end())
        named = DEFINED.match(code, match.end())
        defined = named.group(1) if named and name in DEFINITIONS else ""
        if _allowed(name, argument, match.start() < preamble_end, sections, defined):
            continue
        shown = f"\\{name}" + (f"{{{argument}}}" if name in FILES and argument else "") + (
            f"\\{defined}" if defined else "")
        found.append(at(match.start(), f"{shown}: TeX programming in a template {WHY[name]}"))
    for match in re.finditer(r"\\begin\s*\{(luacode\*?|luadirect|luaexec)\}", code):
        found.append(at(match.start(), f"\\begin{{{match.group(1)}}}: TeX programming in a "
                                       f"template {WHY['directlua']}"))
    for match in CARET_NOTATION.finditer(code):
        found.append(at(match.start(), f"{match.group()}: TeX programming in a template "
                                       f"{WHY['char']}"))
    return found


BIB_PREAMBLE = re.compile(r"@\s*preamble\b", re.I)


def scan_bib(text: str, where: str) -> list[Finding]:
    """A .bib file's TeX reaches the PDF too: BibTeX copies @preamble{...} and every field into
    the bibliography that LaTeX typesets."""
    origin = list(range(1, text.count("\n") + 2))
    found = scan(text, where, origin)
    for match in BIB_PREAMBLE.finditer(text):
        found.append(Finding(where, text.count("\n", 0, match.start()) + 1,
                             f"{match.group()}: TeX programming in the references: BibTeX copies "
                             f"it into the document as TeX"))
    return found


def findings(rendered: dict, template_dir, with_bib: bool = True) -> list[Finding]:
    """The audit's call (report/audit/run.py): rendered = {template name: (marked text,
    [(template file, line)] per line)}; with_bib: templates/*.bib too."""
    sections = {path.name.removesuffix(".tex.j2") for path in template_dir.glob("*.tex.j2")}
    found = []
    for name, (text, where) in rendered.items():
        text = marks.strip(text)  # the text as LaTeX reads it (marks hold no line breaks)
        body = text.find(r"\begin{document}") if name == "main.tex.j2" else 0
        found += scan(text, f"templates/{name}", where, max(body, 0), sections)
    if with_bib:
        for bib in sorted(template_dir.glob("*.bib")):
            found += scan_bib(bib.read_text(encoding="utf-8", errors="replace"),
                              f"templates/{bib.name}")
    return found


def scan_rendered(build_dir, line_maps: dict, main: str = "main.tex") -> list[Finding]:
    """Every rendered template's findings (line_maps: render_all's {tex: (template, origin)}),
    and the references' (the .bib files render_all copied beside them)."""
    found = []
    for tex, (template, origin) in line_maps.items():
        text = (build_dir / tex).read_text(encoding="utf-8")
        body = text.find(r"\begin{document}") if tex == main else 0
        found += scan(text, template, origin, max(body, 0), _sections(line_maps))
    for bib in sorted(build_dir.glob("*.bib")):
        found += scan_bib(bib.read_text(encoding="utf-8"), f"templates/{bib.name}")
    return found
