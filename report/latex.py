"""latexmk driver: typeset the rendered .tex files, map LaTeX errors back to template lines.

latexmk runs LuaLaTeX (-lualatex: names in any script) with -interaction=nonstopmode
-halt-on-error -file-line-error and no shell escape. The PDF is copied to a temporary name and
renamed over the target only on success, so a failed build never leaves a PDF that looks freshly
built.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from hw1.atomic import atomic_write
from report.errors import ReportError

ERROR_LINE = re.compile(r"^(?:\./)?([\w.-]+\.tex):(\d+): (.*)$")
BODY_PAGES = re.compile(r"^BODYPAGES=(\d+)$", re.M)
# \tracinglostchars=3 (main.tex.j2) makes a glyph missing from its font an error, raised at
# shipout with no line of its own
MISSING_CHAR = re.compile(r"^Missing character: There is no (.) \(U\+([0-9A-F]+)\) in font "
                          r"\[?([^\]:!]+)", re.M)
# -g: run LaTeX even when latexmk sees no change, since it otherwise reports a run that Ctrl-C
# interrupted (in `make watch`, say) as failed again and again without retrying it
LATEXMK = ["latexmk", "-lualatex", "-g", "-interaction=nonstopmode", "-halt-on-error",
           "-file-line-error", "-no-shell-escape"]


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
    if found is None:
        tail = " | ".join(log.strip().splitlines()[-5:])
        return f"LaTeX failed without a file:line error; the end of its log: {tail}"
    tex, line, message = found
    if tex in line_maps:
        template, origin = line_maps[tex]
        template_line = origin[line - 1] if 0 < line <= len(origin) else 0
        return (f"{template}:{template_line or '?'}: LaTeX error: {message} "
                f"(rendered as {tex}:{line})")
    return f"{tex}:{line}: LaTeX error: {message}"


def read_log(build_dir: Path, main: str = "main.tex") -> str:
    """The LaTeX log of the last run ("" before the first)."""
    log_path = build_dir / main.replace(".tex", ".log")
    return log_path.read_text(errors="replace") if log_path.exists() else ""


def typeset(build_dir: Path, pdf: Path, line_maps: dict, main: str = "main.tex") -> int:
    """Build main.tex in build_dir into `pdf`; return the number of pages of the main body."""
    if shutil.which("latexmk") is None:
        raise ReportError("latexmk is not installed; run `make setup` (it installs TeX)")
    done = subprocess.run(LATEXMK + [main], cwd=build_dir, capture_output=True, text=True,
                          env={**os.environ, "max_print_line": "1000"})
    log = read_log(build_dir, main) or done.stdout
    if done.returncode != 0:
        raise ReportError(explain(log, line_maps, build_dir))
    with atomic_write(pdf) as tmp:
        shutil.copyfile(build_dir / main.replace(".tex", ".pdf"), tmp)
    pages = BODY_PAGES.findall(log)
    return int(pages[-1]) if pages else 0
