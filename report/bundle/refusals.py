"""What `make submission` would refuse, found by `make report` so that a draft says it in seconds.

`warnings(info)` gives one line per reason for build.json's `info`: the PDF must print each task's
saved weights' accuracy (the graders check it), [student] must be set, the dataset must be the
course's, the audit must pass, and the full build's body must fit the page budget (a quick draft
near the limit is likely to overflow it: the full build prints spreads and rankings the quick one
does not). `found(context, audit)` records the first three at build time.
"""
from __future__ import annotations

from hw1.names import DEFAULT_DATASET
from pipeline.tasks import TASKS
from report.tex import budget

LIMIT_PAGES = 2
# The full build's title block has no quick-run box (about 3 lines) but prints spreads (± over
# 5 seeds) and ranking sentences the quick one does not: measured on the shipped templates, the
# body is then as long as the quick draft's without its box, within a line
FULL_TITLE_LINES, FULL_EXTRA_LINES = 3, 1


def found(context: dict, audit) -> list[str]:
    """The refusals the context and the audit show (build.json keeps them)."""
    out = []
    for task in TASKS:
        section, key = task.saved_acc
        source = f"{task.name}.{section}.{key}"
        printed = [r for _, _, r in audit.used if r.source == source and r.kind == "number"
                   and "." in r.text and len(r.text.split("{")[1].split(".")[1].split("}")[0]) == 2]
        if not printed:
            out.append(f"the PDF does not print the saved {task.name} weights' accuracy with two "
                       f"decimals, which the graders check: keep ((( {source}|pct(2) ))) in "
                       f"templates/{task.name}.tex.j2 (make submission refuses it)")
    unset = context.get("student_unset") or []
    if unset:
        out.append(f"{' and '.join(unset)} not set in config.toml [student] (make submission refuses it)")
    dataset = context.get("dataset", {}).get("name", DEFAULT_DATASET)
    if dataset != DEFAULT_DATASET:
        out.append(f"[data] dataset = {dataset!r}: the course grades {DEFAULT_DATASET} (make submission "
                   f"refuses it)")
    return out


def warnings(info: dict) -> list[str]:
    out = list(info.get("refusals", []))
    if info.get("audit") == "failed":
        out.append('the audit failed ([report] audit = "warn" typeset it anyway): make submission refuses it')
    over = budget.check(info, LIMIT_PAGES)
    if over:
        out.append(f"{over} (make submission refuses it)")
    elif info.get("quick") and info.get("layout") and _full_estimate(info["layout"]) > 0:
        lines = round(_full_estimate(info["layout"]) / info["layout"]["line_pt"])
        out.append(f"the full build is likely to run about {max(lines, 1)} line(s) past its "
                   f"{LIMIT_PAGES}-page limit (it prints spreads and rankings this quick draft does "
                   f"not; make submission refuses that): shorten "
                   f"{budget.longest_sections(info['layout'], 2)}")
    return out


def _full_estimate(layout: dict) -> float:
    """By how much (pt) the full build's body is likely to pass the limit (negative: fits)."""
    line = layout["line_pt"]
    body = sum(pt for name, pt in layout["parts"].items() if name != "title")
    full = body + FULL_TITLE_LINES * line + FULL_EXTRA_LINES * line
    return full - LIMIT_PAGES * layout["text_height_pt"]
