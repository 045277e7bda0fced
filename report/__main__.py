"""Build the report: results/ -> Jinja context -> templates/*.tex.j2 -> audit -> latexmk -> report/report.pdf

    python -m report build          # what `make report` runs after the experiments
    QUICK=1 python -m report build  # report/report-quick.pdf from results/quick/

The audit (report/audit/prose.py) reads the rendered templates before LaTeX does: a number, relation
or verdict word typed by hand stops the build with every finding, one line each, and no PDF is
typeset ([report] audit = "warn" typesets a draft whose first page says it failed the audit).
Its summary is printed and kept in report/build/<full|quick>/audit.txt. TeX programming in a
template (report/audit/tex_programming.py) is a finding the same way.

Make runs this step on every `make report`: it typesets only when the content of an input differs
from what build.json recorded (`up_to_date`), since Make judges by time stamps alone. The PDF and
build.json are recorded in the ledger (pipeline/ledger.py), which the submission checks.
"""
import json
import os
import time
from pathlib import Path

from hw1.atomic import write_text
from pipeline import cli, config, ledger, paths, provenance
from report.audit import derivation_steps
from report.audit import run as audit_mod
from report.tex import budget
from report.bundle import refusals
from report.render import context
from report.tex import fonts
from report.tex import latexmk as latex
from report.render import jinja as render
from report.claims.wording import ALPHA  # the level every comparison is decided at
from report.errors import ReportError


class AuditError(ReportError):
    """Templates typed numbers, relations or verdicts by hand; the message lists each."""


def warn_on_first_page(build_dir, findings: list) -> None:
    """[report] audit = "warn": a red box at the top of page 1 says the draft failed its audit."""
    main = build_dir / "main.tex"
    box = (r"\noindent\fcolorbox{red}{red!8}{\parbox{\dimexpr\linewidth-2\fboxsep-2\fboxrule}"
           rf"{{\bfseries AUDIT FAILED: {len(findings)} number(s), relation(s) or comparison(s) "
           rf"typed by hand in the templates ({render.escape(paths.relative(build_dir / 'audit.txt'))})."
           r" Not for submission.}}\par")
    text = main.read_text()
    write_text(main, text.replace("\\begin{document}\n", "\\begin{document}\n" + box + "\n", 1))


def record_audit(found: audit_mod.Audit, build_dir) -> str:
    """report/build/<mode>/audit.txt: the summary, every finding, every inserted piece's source."""
    summary = found.summary(ALPHA)
    lines = [summary, "", "findings:" if found.findings else "findings: none",
             *(f"  {f}" for f in found.sorted_findings()), "", "inserted (template:line kind source: LaTeX):",
             *(f"  {t}:{line} {r.kind} {r.source or '-'}: {r.text}" for t, line, r in found.used)]
    write_text(build_dir / "audit.txt", "\n".join(lines) + "\n")
    return summary


def build(mode: paths.Mode, ctx: dict | None = None, templates=paths.TEMPLATES,
          build_dir: Path | None = None, pdf: Path | None = None) -> dict:
    """Render, audit and typeset the report of `mode` (its results, build folder and PDF, unless
    given); what was built, as build.json records it."""
    start, started_at = time.perf_counter(), time.time()
    build_dir, pdf = build_dir or mode.build, pdf or mode.pdf
    found = audit_mod.Audit()
    derivation_steps.use_cache(build_dir)  # typed derivation steps checked once per text
    ctx = ctx or context.build_context(None, mode.results)
    fonts.ensure(ctx["student"]["name"])  # installs a font the name needs, or says how
    # what the PDF is built from, by hash, read before rendering: an edit saved during the build
    # makes the PDF stale (the submission compares these hashes)
    inputs = provenance.file_hashes(context.pdf_sources(mode.results, ctx["dataset"]["name"]))
    line_maps = render.render_all(ctx, build_dir, templates, audit=found)
    summary = record_audit(found, build_dir)
    findings = [str(f) for f in found.sorted_findings()]
    if findings and ctx["report"]["audit"] != "warn":
        raise AuditError(
            f"the audit found {len(findings)} thing(s) typed by hand in the templates, so no "
            f"PDF was typeset (the last one is kept); write each as suggested, or set [report] "
            f'audit = "warn" in config.toml for a draft marked as failing:\n'
            + "\n".join(f"  {f}" for f in findings)
            + "".join(f"\n  warning: {w}" for w in refusals.found(ctx, found)) + f"\n{summary}")
    if findings:
        warn_on_first_page(build_dir, findings)
    body_pages = latex.typeset(build_dir, pdf, line_maps)
    log = latex.read_log(build_dir)
    info = {"pdf": paths.relative(pdf), "body_pages": body_pages,
            "quick": mode.quick, "seconds": round(time.perf_counter() - start, 2),
            "audit": "failed" if findings else "passed", "audit_summary": summary,
            "refusals": refusals.found(ctx, found),
            "audit_findings": findings, "typed_steps": found.typed_steps.record(),
            "results": {name: ctx["provenance"][name]["code_hash"] for name in ctx["provenance"]},
            "inputs": inputs,
            "layout": budget.measure(log), "warnings": latex.typeset_warnings(log, line_maps)}
    write_text(build_dir / "build.json", json.dumps(info, indent=1))
    # dated when the templates were read: Make sees a template saved during the build as newer
    for built in (pdf, build_dir / "build.json"):
        os.utime(built, (started_at, started_at))
    ledger.record(pdf, build_dir / "build.json")  # the submission packs only these, unedited
    return info


def up_to_date(mode: paths.Mode) -> dict | None:
    """build.json, when the PDF was built from files with exactly the content they have now: Make
    runs this step on every `make report` (a file put back with an older time stamp is no change
    to Make, but may be one to the PDF), and it typesets only when an input's content changed."""
    build_dir, pdf, results = mode.build, mode.pdf, mode.results
    try:
        info = json.loads((build_dir / "build.json").read_text(encoding="utf-8"))
        dataset = config.read_dataset(results)
    except (OSError, ValueError, cli.UserError):
        return None
    if not pdf.is_file() or not isinstance(info, dict) or info.get("quick") != mode.quick:
        return None
    try:  # a PDF or build.json edited by hand is built again
        for built in (pdf, build_dir / "build.json"):
            ledger.check(built, paths.make_command("report", results))
    except ledger.TamperedError:
        return None
    now = provenance.file_hashes(context.pdf_sources(results, dataset))
    return info if info.get("inputs") == now else None


def _build_line(args) -> str:
    if (info := up_to_date(args.mode)) is not None:
        return (f"report: {info['pdf']} is up to date: its {len(info['inputs'])} inputs hold what "
                f"it was built from")
    info = build(args.mode)
    line = (f"report: wrote {info['pdf']} ({render.counted(info['body_pages'], 'page')} of main body) "
            f"in {info['seconds']} s\n{info['audit_summary']}")
    # what `make submission` would refuse, said now: a draft learns it in seconds
    warnings = refusals.warnings(info) + info["audit_findings"] + info["warnings"]
    return "\n".join([line] + [f"warning: {warning}" for warning in warnings])


if __name__ == "__main__":
    cli.run("report", __doc__, {"build": cli.Command(_build_line, "render the templates and typeset the PDF")})
