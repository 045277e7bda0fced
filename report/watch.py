"""`make watch`: rebuild the PDF each time a template or config.toml is saved.

    make watch            # report/report.pdf
    QUICK=1 make watch    # report/report-quick.pdf, from results/quick/

Each save runs `make report`, so a prose or [student] edit only re-renders and re-typesets (a
[q1] or [q2] edit re-runs its task first), and prints one line: the time and the page count, with
the budget warning when the body is past two pages, or the error with its template file and line
(the audit's findings follow it, one line each).
An error does not stop the watch; Ctrl-C does. Files are watched by watchfiles (inotify on Linux).
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import datetime
from pathlib import Path

import watchfiles
from pypdf import PdfReader

from pipeline import cli, paths
from report.tex import budget
from report.render import jinja as render

MAKE_REPORT = ["make", "--no-print-directory", "report"]


def is_source(change: watchfiles.Change, path: str) -> bool:
    """A template, the bibliography or config.toml, not an editor's swap or backup file beside them."""
    path = Path(path)
    return path == paths.CONFIG or (path.parent == paths.TEMPLATES
                                    and path.name.endswith((".tex.j2", ".bib")))


def rebuild(mode: paths.Mode) -> str:
    """Run `make report` for `mode`; what it did, as one line."""
    start = time.perf_counter()
    done = subprocess.run(MAKE_REPORT, cwd=paths.ROOT, capture_output=True, text=True,
                          env={**os.environ, "QUICK": "1" if mode.quick else ""})
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        return f"failed after {seconds:.1f} s: {first_error(done.stderr + done.stdout)}"
    if "report: wrote" not in done.stdout:  # the build's own line: make did not rebuild the PDF
        return f"no change to the PDF ({pages(mode)})"
    return f"rebuilt in {seconds:.1f} s: {pages(mode)}"


def first_error(output: str) -> str:
    """The pipeline's own `error: ...` line (a LaTeX error names its template file and line),
    else the last line make printed."""
    lines = [line for line in output.splitlines() if line.strip()]
    errors = [index for index, line in enumerate(lines) if line.startswith("error: ")]
    if not errors:
        return lines[-1] if lines else "make failed without a message"
    first = errors[0]
    # the audit's findings follow its error line, indented, one each: all of them are shown
    findings = [line for line in lines[first + 1:] if line.startswith("  ")]
    return "\n".join([lines[first].removeprefix("error: "), *findings])


def pages(mode: paths.Mode) -> str:
    """Pages of the built PDF, and the budget warning when its body is too long."""
    record = mode.build / "build.json"
    if not record.exists():  # report/build/ deleted while make still finds the PDF up to date
        pdf = mode.pdf.relative_to(paths.ROOT)
        return f"{pdf}, pages unknown: report/build/ is gone; delete {pdf} to rebuild it"
    info = json.loads(record.read_text())
    total = len(PdfReader(paths.ROOT / info["pdf"]).pages)
    line = f"{info['pdf']}, {render.counted(info['body_pages'], 'page')} of main body, {total} in all"
    over_budget = budget.check(info)
    line = f"{line}; over budget: {over_budget}" if over_budget else line
    warnings = info.get("warnings", [])  # (a build.json from before they were recorded has none)
    more = f" (and {len(warnings) - 1} more: `make report` lists them)" if len(warnings) > 1 else ""
    return f"{line}; {warnings[0]}{more}" if warnings else line


def say(saved: str, outcome: str) -> None:
    print(f"{datetime.now():%H:%M:%S} {saved}: {outcome}", flush=True)


def watch(args) -> str:
    print(f"watch: rebuilding {args.mode.pdf.relative_to(paths.ROOT)} on every save of "
          f"templates/*.tex.j2, templates/*.bib or config.toml; Ctrl-C stops", flush=True)
    try:
        started = False
        # templates/ holds no folders; the root is watched alone, for config.toml, not the
        # results and builds below it. watchfiles starts watching at the first iteration, which
        # yields (an empty set, after 0.2 s) before the first build: a save made while that build
        # runs is then seen, not lost.
        for changes in watchfiles.watch(paths.TEMPLATES, paths.ROOT, watch_filter=is_source,
                                        recursive=False, yield_on_timeout=True, rust_timeout=200):
            if not started:
                say("start", rebuild(args.mode))  # so that the PDF matches the files from the first save on
                started = True
            if changes:
                saved = sorted({str(Path(path).relative_to(paths.ROOT)) for _, path in changes})
                say(", ".join(saved), rebuild(args.mode))
    except KeyboardInterrupt:  # Ctrl-C is how the watch ends, not an error
        return "\nwatch: stopped"
    return "watch: stopped"


if __name__ == "__main__":
    cli.run("report.watch", __doc__, {"watch": cli.Command(watch, "rebuild the PDF on every save")})
