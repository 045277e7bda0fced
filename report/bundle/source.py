"""`make source`: the report's LaTeX alone -> report/hw1_<id>_source.zip, verified before it is kept.

    python -m report.bundle.source pack         # after `make report`; QUICK=1: hw1_<id>_source-quick.zip

What goes in, for Overleaf (compiler: LuaLaTeX) or anyone with TeX Live and no Python:

    main.tex, title.tex, theory.tex, ...     report/build/: the templates as rendered for the PDF
    figures/<name>.pdf                       each figure main.tex includes, its path rewritten here
    *.bib                                    the works cited (templates/references.bib)
    latexmkrc                                report/bundle/source.latexmkrc: LuaLaTeX, main.tex

Before it is kept, the zip is unzipped into an empty folder and `latexmk` (reading that latexmkrc,
with TeX confined as for the report) builds it there; the PDF must have the pages and the text of report/report.pdf, and LaTeX's
recorder must show that it read no file of this repository. The zip is written under a temporary
name and renamed only then; on failure none is left (an older one is removed first, as it would
pass for this one).
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
import zipfile
from pathlib import Path

from pypdf import PdfReader

from hw1.atomic import atomic_write
from pipeline import cli, config, paths
from report.tex import latexmk as latex
from report.errors import ReportError
from report.bundle.submission import normalized, pdf_text, sweep_killed_runs, write_zip

LATEXMKRC = Path(__file__).with_name("source.latexmkrc")
FIGURES = "figures"
INCLUDE = re.compile(r"(\\includegraphics\s*(?:\[[^\]]*\])?\s*\{)([^}]*)(\})")
# The bundle's latexmkrc chooses the engine and the file (latexmk reads it before TeX has run, so
# it is the file packed); TeX is then confined as in `make report`: the confined LuaLaTeX command,
# kpathsea's limits, and no other rc file (-norc).
VERIFY_RC = "latexmkrc"
SOURCE_PREFIX = "hw1-source-"  # then the pid of the `make source` that made the folder
REBUILD = "run `make report`, then `make source`"


class SourceError(ReportError):
    """The bundle would not build elsewhere as the report did; the message says what differs."""


def rendered_tex(build: Path) -> list[Path]:
    """The .tex file of each template, as the last `make report` rendered it."""
    files = [build / template.name.removesuffix(".j2")
             for template in sorted(paths.TEMPLATES.glob("*.tex.j2"))]
    absent = [path for path in files if not path.is_file()]
    if absent:
        raise SourceError(f"{paths.relative(absent[0])} is missing; {REBUILD}")
    return files


def _figure_source(written: str, build: Path) -> Path:
    path = Path(written)
    path = path if path.is_absolute() else build / path
    if not path.is_file():
        raise SourceError(f"a rendered .tex file includes the figure {written}, which does not "
                          f"exist; {REBUILD}")
    return path


def with_local_figures(tex: str, build: Path, figures: dict[str, Path]) -> str:
    """The LaTeX with each included figure's path rewritten to figures/<its name>, recording
    {name in the zip: source file} in `figures`."""
    def local(match: re.Match) -> str:
        source = _figure_source(match.group(2), build)
        name = f"{FIGURES}/{source.name}"
        if figures.setdefault(name, source) != source:
            raise SourceError(f"two figures share the name {source.name} ({figures[name]} and "
                              f"{source}); the bundle's figures/ folder holds one of each name")
        return match.group(1) + name + match.group(3)
    return INCLUDE.sub(local, tex)


def contents(build: Path) -> dict[str, Path | bytes]:
    """{name in the zip: source file or bytes}."""
    files: dict[str, Path | bytes] = {}
    figures: dict[str, Path] = {}
    for tex in rendered_tex(build):
        files[tex.name] = with_local_figures(tex.read_text(), build, figures).encode()
    files.update(figures)
    for bib in sorted(build.glob("*.bib")):  # the works cited: BibTeX runs where it is compiled
        files[bib.name] = bib
    files["latexmkrc"] = LATEXMKRC
    return files


def build_unzipped(zip_path: Path, folder: Path) -> Path:
    """Unzip into the empty `folder` and run latexmk there as a user would; the PDF."""
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(folder)
    command = latex.latexmk_command()
    command[1:2] = ["-norc", "-r", VERIFY_RC]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=900,
                          env=latex.confined_env())
    if done.returncode != 0:
        log = latex.read_log(folder)
        why = (latex.explain(log, {}, folder).replace(": LaTeX error: ", ": ", 1)
               if latex.first_error(log) else done.stdout.strip()[-300:])
        raise SourceError(f"the bundle does not build from an empty folder: {why}; {REBUILD}")
    return folder / "main.pdf"


def read_outside(folder: Path) -> list[str]:
    """Files of this repository that LaTeX read (its recorder, main.fls): none, when the bundle
    stands alone."""
    recorded = (folder / "main.fls").read_text(errors="replace").splitlines()
    read = {line.removeprefix("INPUT ") for line in recorded if line.startswith("INPUT ")}
    return sorted(path for path in read
                  if (folder / path).resolve().is_relative_to(paths.ROOT.resolve()))


def first_difference(ours: str, theirs: str) -> str:
    """Where two normalized texts part (spaces removed), with the 20 characters before."""
    at = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
    return (f"after {ours[max(0, at - 20):at]!r}: {ours[at:at + 30]!r} where the report has "
            f"{theirs[at:at + 30]!r}")


def verify(zip_path: Path, pdf: Path, report: callable = print) -> None:
    sweep_killed_runs(SOURCE_PREFIX)
    with tempfile.TemporaryDirectory(prefix=f"{SOURCE_PREFIX}{os.getpid()}-") as tmp:
        built = build_unzipped(zip_path, Path(tmp))
        report("  ok  latexmk builds it from an empty folder (LuaLaTeX and main.tex from latexmkrc)")
        outside = read_outside(Path(tmp))
        if outside:
            raise SourceError(f"the bundle's LaTeX read {outside[0]}, a file of this repository; "
                              f"{REBUILD}")
        report("  ok  LaTeX read no file of this repository")
        pages, expected = len(PdfReader(built).pages), len(PdfReader(pdf).pages)
        if pages != expected:
            raise SourceError(f"the bundle builds {pages} pages, {paths.relative(pdf)} has "
                              f"{expected}; {REBUILD}")
        ours, theirs = normalized(pdf_text(built)), normalized(pdf_text(pdf))
        if ours != theirs:
            raise SourceError(f"the bundle's PDF text differs from {paths.relative(pdf)}'s "
                              f"{first_difference(ours, theirs)}; {REBUILD}")
        report(f"  ok  {pages} pages and the same text as {paths.relative(pdf)}")


def pack(mode: paths.Mode, build: Path | None = None, pdf: Path | None = None,
         out: Path | None = None, report: callable = print) -> Path:
    """Write the bundle of `mode`'s report under a temporary name, verify it, then rename it."""
    build, pdf = build or mode.build, pdf or mode.pdf
    if not pdf.is_file():
        raise SourceError(f"{paths.relative(pdf)} is missing; {REBUILD}")
    out = out or mode.source_zip(config.load(quick=mode.quick)["student"].id)
    out.unlink(missing_ok=True)  # an older bundle would pass for this one
    for stale in out.parent.glob(f".{out.name}.*.tmp"):  # left by a packing that was killed
        stale.unlink()
    try:
        with atomic_write(out) as tmp:
            write_zip(tmp, contents(build))
            report(f"source: verifying {out.name}")
            verify(tmp, pdf, report)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return out


def _pack_line(args) -> str:
    out = pack(args.mode)
    with zipfile.ZipFile(out) as z:
        count = len(z.infolist())
    return (f"source: wrote {paths.relative(out)} ({count} files, {out.stat().st_size / 1e6:.1f} MB), "
            f"verified; for Overleaf: New Project > Upload Project, then Menu > Compiler: LuaLaTeX")


if __name__ == "__main__":
    cli.run("report.bundle.source", __doc__, {"pack": cli.Command(_pack_line, "build and verify the bundle")})
