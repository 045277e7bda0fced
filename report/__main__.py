"""Build the report: results/ -> Jinja context -> templates/*.tex.j2 -> latexmk -> report/report.pdf

    python -m report build          # what `make report` runs after the experiments
    QUICK=1 python -m report build  # report/report-quick.pdf from results/quick/
"""
import json
import time

from hw1.atomic import write_text
from pipeline import cli, paths, provenance
from report import budget, context, latex, render


def build() -> dict:
    start = time.perf_counter()
    ctx = context.build_context()
    line_maps = render.render_all(ctx, paths.BUILD)
    body_pages = latex.typeset(paths.BUILD, paths.PDF, line_maps)
    info = {"pdf": str(paths.PDF.relative_to(paths.ROOT)), "body_pages": body_pages,
            "quick": paths.QUICK, "seconds": round(time.perf_counter() - start, 2),
            "results": {name: ctx["provenance"][name]["code_hash"] for name in ctx["provenance"]},
            # what the PDF was built from, by hash: the submission refuses it when any changed
            "inputs": provenance.file_hashes(context.pdf_sources(paths.RESULTS, ctx["dataset"]["name"])),
            "layout": budget.measure(latex.read_log(paths.BUILD))}
    write_text(paths.BUILD / "build.json", json.dumps(info, indent=1))
    return info


def _build_line(args) -> str:
    info = build()
    line = (f"report: wrote {info['pdf']} ({info['body_pages']} pages of main body) "
            f"in {info['seconds']} s")
    over_budget = budget.check(info)
    # a draft over budget is normal while writing; `make submission` refuses it
    return f"{line}\nwarning: {over_budget}" if over_budget else line


if __name__ == "__main__":
    cli.run("report", __doc__, {"build": cli.Command(_build_line, "render the templates and typeset the PDF")})
