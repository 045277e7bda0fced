"""Build the report: results/ -> Jinja context -> templates/*.tex.j2 -> latexmk -> report/report.pdf

    python -m report build          # what `make report` runs after the experiments
    QUICK=1 python -m report build  # report/report-quick.pdf from results/quick/
"""
import json
import sys
import time

from pipeline import config, paths
from report import budget, context, latex, render
from report.claims import ReportError


def build() -> dict:
    start = time.perf_counter()
    ctx = context.build_context()
    line_maps = render.render_all(ctx, paths.BUILD)
    body_pages = latex.typeset(paths.BUILD, paths.PDF, line_maps)
    info = {"pdf": str(paths.PDF.relative_to(paths.ROOT)), "body_pages": body_pages,
            "quick": paths.QUICK, "seconds": round(time.perf_counter() - start, 2),
            "results": {name: ctx["provenance"][name]["code_hash"] for name in ctx["provenance"]},
            "layout": budget.measure(latex.read_log(paths.BUILD))}
    (paths.BUILD / "build.json").write_text(json.dumps(info, indent=1))
    return info


def main(argv: list[str]) -> int:
    if argv != ["build"]:
        print("usage: python -m report build")
        return 2
    try:
        info = build()
    except (ReportError, config.ConfigError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"report: wrote {info['pdf']} ({info['body_pages']} pages of main body) "
          f"in {info['seconds']} s")
    over_budget = budget.check(info)
    if over_budget:  # a draft over budget is normal while writing; `make submission` refuses it
        print(f"warning: {over_budget}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
