"""latexmk driver: typeset the rendered .tex files, map LaTeX errors back to template lines.

latexmk runs LuaLaTeX (names in any script) with -interaction=nonstopmode -halt-on-error
-file-line-error, reading no latexmkrc, confined to the build folder: no shell escape, no sockets,
kpathsea's paranoid openin_any/openout_any for TeX's own files, and confine.lua (loaded with --lua
before the format, from outside the build folder) for Lua's files, images and PDF objects; a
refused read or write is reported at its template line. The PDF is copied to a temporary name and
renamed over the target only on success, so a failed build never leaves a PDF that looks freshly
built.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from hw1.atomic import atomic_write, write_bytes
from report.errors import ReportError

ERROR_LINE = re.compile(r"^(?:\./)?([\w.-]+\.tex):(\d+): (.*)$")
# TeX is confined (typeset): kpathsea refuses \input of a path outside the build folder, which
# LaTeX then reports as not found; confine.lua refuses Lua's reads and writes outside it.
OUTSIDE_INPUT = re.compile(r"File `((?:/|~|.*\.\./)[^']*)' not found")
CONFINED_LUA = re.compile(r"^.*?(TeX may not [^\n]*?)(?:: it reads only.*)?$", re.M)
CONFINEMENT = ("TeX reads only the build folder, the figures and TeX's own files, and writes "
               "only the build folder")
CONFINE_LUA = Path(__file__).with_name("confine.lua")
STOPPED = re.compile(r"Emergency stop|Fatal error occurred")
LUA_ERROR = re.compile(r"\[\\directlua\]:\d+: (.*)$", re.M)
BANG_ERROR = re.compile(r"^! (.*)$", re.M)
# kpathsea's paranoid mode for TeX's own \input and \openout: no absolute paths, no .., no dot
# files; no \write18. (LuaTeX's --safer would do more, but luaotfload refuses to run under it:
# confine.lua does it instead.)
CONFINED_ENV = {"openin_any": "p", "openout_any": "p", "shell_escape": "f",
                # Lua modules from TeX's trees only, not the build folder (TeX's default puts "."
                # first): LuaTeX's own module loader takes bytecode that TeX could write there
                "LUAINPUTS": "$TEXMF/scripts/{$progname,$engine,}/{lua,}//;"
                             "$TEXMF/tex/{lualatex,latex,luatex,generic,}//"}
BODY_PAGES = re.compile(r"^BODYPAGES=(\d+)$", re.M)
# \tracinglostchars=3 (main.tex.j2) makes a glyph missing from its font an error, raised at
# shipout with no line of its own
MISSING_CHAR = re.compile(r"^Missing character: There is no (.) \(U\+([0-9A-F]+)\) in font "
                          r"\[?([^\]:!]+)", re.M)


def lualatex_command(confine: Path = CONFINE_LUA) -> str:
    """LuaLaTeX as latexmk runs it (through the shell): confine.lua loaded with --lua before the
    format, from report/tex/ where TeX may not write, so that no pass can replace it; no sockets;
    %P: the document after the pretex line below."""
    return (f"lualatex --lua={shlex.quote(str(confine))} --nosocket --no-shell-escape "
            f"-file-line-error %O %P")


def latexmk_command(confine: Path = CONFINE_LUA) -> list[str]:
    """latexmk with every setting on its command line and no rc file read (-norc): a latexmkrc is
    Perl, and TeX may write one into the folder it builds in. -g: run LaTeX even when latexmk sees
    no change, since it otherwise reports a run that Ctrl-C interrupted (in `make watch`, say) as
    failed again and again without retrying it. The pretex line, before the document's first line,
    tells confine.lua that from now on asking to run a program is an error (the libraries loaded
    before it are only told no)."""
    return ["latexmk", "-norc", "-pdflua", r"-usepretex=\directlua{hw1_document_begins()}",
            f"-lualatex={lualatex_command(confine)}", "-g", "-interaction=nonstopmode",
            "-halt-on-error", "-file-line-error"]


def confined_env() -> dict:
    """The environment TeX runs in: kpathsea's limits set, and the variables that would widen its
    reach removed (TEXINPUTS and the other search paths could add /etc to where \\input looks;
    TEXMFOUTPUT is a folder the paranoid mode lets TeX write in)."""
    kept = {key: value for key, value in os.environ.items()
            if not key.upper().endswith("INPUTS") and key.upper() != "TEXMFOUTPUT"}
    return {**kept, "max_print_line": "1000", **CONFINED_ENV}


def first_error(log: str) -> tuple[str, int, str] | None:
    """(file, line, message) of the first file:line: error in a LaTeX log."""
    for line in log.splitlines():
        match = ERROR_LINE.match(line.strip())
        if match:
            return match.group(1), int(match.group(2)), match.group(3)
    return None


def missing_character(log: str, line_maps: dict, build_dir: Path) -> str | None:
    """A character no font has, at the template line that holds it."""
    found = MISSING_CHAR.search(log)
    if found is None:
        return None
    char, code, font = found.groups()
    where = "a template"
    for tex, (template, origin) in line_maps.items():
        lines = (build_dir / tex).read_text().split("\n") if (build_dir / tex).exists() else []
        hits = [number for number, line in enumerate(lines) if char in line]
        if hits:
            where = f"{template}:{origin[hits[0]] or '?'}"
            break
    return (f"{where}: LaTeX error: the font {font} has no {char} (U+{code}); write it another "
            f"way (names in other scripts belong in config.toml [student] name)")


def explain(log: str, line_maps: dict, build_dir: Path | None = None) -> str:
    """One short message: template file and line, the LaTeX message, the rendered location."""
    missing = missing_character(log, line_maps, build_dir) if build_dir else None
    if missing:
        return missing
    found = first_error(log)
    bibtex = bibtex_error(build_dir) if build_dir and found is None else None
    if bibtex:
        return bibtex
    if found is None:
        tail = " | ".join(log.strip().splitlines()[-5:])
        return f"LaTeX failed without a file:line error; the end of its log: {tail}"
    tex, line, message = found
    message = _cause(log, message)
    if tex in line_maps:
        template, origin = line_maps[tex]
        template_line = origin[line - 1] if 0 < line <= len(origin) else 0
        return (f"{template}:{template_line or '?'}: LaTeX error: {message} "
                f"(rendered as {tex}:{line})")
    return f"{tex}:{line}: LaTeX error: {message}"


# "Overfull \hbox (2.29797pt too wide) in paragraph at lines 4--15" (or "in alignment at"); the
# lines are those of the file being read, which the log's "(./q1.tex" ... ")" nesting tells.
OVERFULL = re.compile(r"^Overfull \\hbox \(([\d.]+)pt too wide\) .*?at lines (\d+)--(\d+)")
UNDEFINED_CITATION = re.compile(r"Citation `([^']*)' on page \d+ undefined on input line (\d+)")
LOG_FILE_OR_PAREN = re.compile(r"\((?:\./)?([\w./-]+\.\w+)?|\)")
# BibTeX's errors in main.blg: "Illegal end of database file---line 2 of file references.bib"
BIBTEX_ERROR = re.compile(r"^(.*?)---line (\d+) of file (\S+)$", re.M)
BIBTEX_NO_FILE = re.compile(r"^I couldn't open (?:database )?file (\S+)$", re.M)


def _lines_and_files(log: str):
    """Each log line with the file TeX was reading when it wrote it (None before any)."""
    files = []  # the stack of what each "(" opened (None: not a file)
    box_contents = False
    for log_line in log.splitlines():
        yield log_line, next((name for name in reversed(files) if name), None)
        # an over- or underfull box report shows the line's text up to a blank line, and a
        # parenthesis there may close on the next line of the paragraph: not the log's nesting
        if log_line.startswith(("Overfull \\", "Underfull \\")):
            box_contents = True
        if box_contents:
            box_contents = bool(log_line.strip())
            continue
        for token in LOG_FILE_OR_PAREN.finditer(log_line):
            if token.group() == ")":
                if files:
                    files.pop()
            else:
                files.append(token.group(1))


def typeset_warnings(log: str, line_maps: dict) -> list[str]:
    """One warning per line of text wider than the text area (LaTeX reports those over \\hfuzz,
    0.1 pt) and per citation whose key templates/*.bib lacks, at its template line."""
    found = []
    for log_line, reading in _lines_and_files(log):
        if match := OVERFULL.match(log_line):
            width, first, last = float(match.group(1)), int(match.group(2)), int(match.group(3))
            found.append(_overfull_message(reading, first, last, width, line_maps))
        elif match := UNDEFINED_CITATION.search(log_line):
            key, line = match.group(1), int(match.group(2))
            where = _template_lines(reading, line, line, line_maps)[0]
            found.append(f"{where}: no entry {key!r} in templates/*.bib: the PDF shows (?) for "
                         f"it; add the entry or correct the key")
    return found


def _template_lines(tex: str | None, first: int, last: int, line_maps) -> tuple[str, list[int]]:
    """'templates/x.tex.j2:N' (or the rendered file's own name) and the template lines."""
    if tex not in line_maps:
        return f"{tex or 'the document'}:{first}", []
    template, origin = line_maps[tex]
    lines = sorted({origin[n - 1] for n in range(first, last + 1) if 0 < n <= len(origin)} - {0})
    return f"{template}:{lines[0] if lines else '?'}", lines


def _overfull_message(tex: str | None, first: int, last: int, width: float, line_maps) -> str:
    what = f"a line is {width:.1f} pt wider than the text (overfull \\hbox)"
    if tex not in line_maps:
        return f"{tex or 'the document'}:{first}--{last}: {what}"
    where, lines = _template_lines(tex, first, last, line_maps)
    span = f", template lines {lines[0]}-{lines[-1]}" if len(lines) > 1 else ""
    return f"{where}: {what}{span} (rendered as {tex}:{first}--{last}); reword or shorten it"


def bibtex_error(build_dir: Path, main: str = "main.tex") -> str | None:
    """BibTeX's first error (a .bib file it cannot read or parse), at the file's line."""
    blg = build_dir / main.replace(".tex", ".blg")
    text = blg.read_text(errors="replace") if blg.exists() else ""
    if missing := BIBTEX_NO_FILE.search(text):
        name = missing.group(1)
        return (f"templates/{name} is missing (templates/main.tex.j2 reads its reference list "
                f"from it); restore it with `git checkout templates/{name}`")
    if style := re.search(r"I couldn't open style file (\S+)\.bst", text):
        return (f"templates/main.tex.j2: \\bibliographystyle{{{style.group(1)}}}: BibTeX has no "
                f"such style (TeX's own styles only, such as plainnat); correct the name")
    if error := BIBTEX_ERROR.search(text):
        message, line, name = error.groups()
        return f"templates/{name}:{line}: BibTeX error: {message.strip()}"
    return None


def write_bytes_if_changed(path: Path, content: bytes) -> None:
    """Unchanged files keep their time stamps, so latexmk sees nothing new."""
    if not path.is_file() or path.read_bytes() != content:
        write_bytes(path, content)


def _cause(log: str, message: str) -> str:
    """What stopped LaTeX, where its file:line message says only that it stopped: a path the
    confinement refused, or the error (a LaTeX `!` line, a Lua error) that came before."""
    confined, outside = CONFINED_LUA.search(log), OUTSIDE_INPUT.search(log)
    if confined:
        return f"{confined.group(1)}: {CONFINEMENT}"
    if outside:
        return f"{outside.group(1)} is outside the build folder: {CONFINEMENT}"
    if not STOPPED.search(message):
        return message
    earlier = LUA_ERROR.search(log) or BANG_ERROR.search(log)
    return earlier.group(1).strip() if earlier else message


def read_log(build_dir: Path, main: str = "main.tex") -> str:
    """The LaTeX log of the last run ("" before the first)."""
    log_path = build_dir / main.replace(".tex", ".log")
    return log_path.read_text(errors="replace") if log_path.exists() else ""


def typeset(build_dir: Path, pdf: Path, line_maps: dict, main: str = "main.tex") -> int:
    """Build main.tex in build_dir into `pdf`; return the number of pages of the main body."""
    if shutil.which("latexmk") is None:
        raise ReportError("latexmk is not installed; run `make setup` (it installs TeX)")
    (build_dir / CONFINE_LUA.name).unlink(missing_ok=True)  # where older builds copied it
    for stale in pdf.parent.glob(f".{pdf.name}.*.tmp"):  # a build killed while copying the PDF
        stale.unlink(missing_ok=True)
    done = subprocess.run(latexmk_command() + [main], cwd=build_dir, capture_output=True, text=True,
                          env=confined_env())
    log = read_log(build_dir, main) or done.stdout
    if done.returncode != 0:
        message = explain(log, line_maps, build_dir)
        # a failed run's auxiliary files (a \bibstyle BibTeX cannot read, a half-written .aux)
        # would fail the next run too, after the template is fixed: the next run starts afresh
        for leftover in ("aux", "bbl", "blg", "fdb_latexmk", "fls"):
            (build_dir / main.replace(".tex", f".{leftover}")).unlink(missing_ok=True)
        raise ReportError(message)
    with atomic_write(pdf) as tmp:
        shutil.copyfile(build_dir / main.replace(".tex", ".pdf"), tmp)
    pages = BODY_PAGES.findall(log)
    return int(pages[-1]) if pages else 0
