"""latexmk driver: typeset the rendered .tex files, map LaTeX errors back to template lines.

latexmk runs with -pdf -interaction=nonstopmode -halt-on-error -file-line-error and no shell
escape. The PDF is copied to a temporary name and renamed over the target only on success, so a
failed build never leaves a PDF that looks freshly built.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from hw1.common import atomic_write
from report.claims import ReportError

ERROR_LINE = re.compile(r"^(?:\./)?([\w.-]+\.tex):(\d+): (.*)$")
BODY_PAGES = re.compile(r"^BODYPAGES=(\d+)$", re.M)
LATEXMK = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-file-line-error",
           "-no-shell-escape"]


def first_error(log: str) -> tuple[str, int, str] | None:
    """(file, line, message) of the first file:line: error in a LaTeX log."""
    for line in log.splitlines():
        match = ERROR_LINE.match(line.strip())
        if match:
            return match.group(1), int(match.group(2)), match.group(3)
    return None


def explain(log: str, line_maps: dict) -> str:
    """One short message: template file and line, the LaTeX message, the rendered location."""
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


def typeset(build_dir: Path, pdf: Path, line_maps: dict, main: str = "main.tex") -> int:
    """Build main.tex in build_dir into `pdf`; return the number of pages of the main body."""
    if shutil.which("latexmk") is None:
        raise ReportError("latexmk is not installed; run `make setup` (it installs TeX)")
    done = subprocess.run(LATEXMK + [main], cwd=build_dir, capture_output=True, text=True,
                          env={**os.environ, "max_print_line": "1000"})
    log_path = build_dir / main.replace(".tex", ".log")
    log = log_path.read_text(errors="replace") if log_path.exists() else done.stdout
    if done.returncode != 0:
        raise ReportError(explain(log, line_maps))
    with atomic_write(pdf) as tmp:
        shutil.copyfile(build_dir / main.replace(".tex", ".pdf"), tmp)
    pages = BODY_PAGES.findall(log)
    return int(pages[-1]) if pages else 0
