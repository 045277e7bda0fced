"""The two-page budget of the main body: whether it fits, by how much it does not, and where the
length is.

templates/main.tex.j2 writes to the LaTeX log, at shipout, the page and height on the page of each
section heading (named by its template) and of the end of the body. `measure(log)` turns those
into the layout that `python -m report build` stores in build.json; `check(info)` reads it back:

    from report.tex import budget
    info = json.loads((mode.build / "build.json").read_text())
    message = budget.check(info)   # None when the body fits in two pages, else what to shorten

A draft over budget still builds (the message is a warning); `make submission` refuses it.
"""
from __future__ import annotations

import math
import re

LIMIT_PAGES = 2
PT_PER_SP = 1 / 65536
PAGE = re.compile(r"^BUDGETPAGE=([\d.]+)pt,([\d.]+)pt,([\d.]+)pt$", re.M)
MARK = re.compile(r"^BUDGETMARK=(\w+),(\d+),(-?\d+)$", re.M)
SHOWN_SECTIONS = 3


def measure(log: str) -> dict | None:
    """{"text_height_pt", "line_pt", "end_page", "end_depth_pt", "parts"} from a LaTeX log, where
    parts maps each template to the height it takes (pt); None when the log has no marks."""
    page, marks = PAGE.search(log), MARK.findall(log)
    if page is None or not any(name == "end" for name, _, _ in marks):
        return None
    text_height, text_top, line = (float(v) for v in page.groups())

    def depth(page_number: int, y_sp: int) -> float:
        """Distance from the top of page 1's text, counting only the text area of each page."""
        return (page_number - 1) * text_height + text_top - y_sp * PT_PER_SP

    starts = [("title", 0.0)]
    for name, page_number, y_sp in marks:
        starts.append((name, depth(int(page_number), int(y_sp))))
        if name == "end":
            break
    parts: dict[str, float] = {}
    for (name, start), (_, stop) in zip(starts, starts[1:]):
        parts[name] = round(parts.get(name, 0.0) + stop - start, 1)
    end_page, end_y = next((int(p), int(y)) for name, p, y in marks if name == "end")
    return {"text_height_pt": text_height, "line_pt": line, "end_page": end_page,
            "end_depth_pt": round(depth(end_page, end_y), 1), "parts": parts}


# The title block (heading, name and ID, the quick-run box) takes about three lines; past five,
# what grew is the [student] name or the red box of unset [student] keys, not the prose.
TITLE_USUAL_LINES = 5


def longest_sections(layout: dict, count: int = SHOWN_SECTIONS) -> str:
    ranked = sorted(layout["parts"].items(), key=lambda part: -part[1])[:count]
    return ", ".join(f"{_part_name(name)} {_pages(pt / layout['text_height_pt'])}"
                     for name, pt in ranked)


def _part_name(name: str) -> str:
    return ("the title block (templates/title.tex.j2)" if name == "title"
            else f"templates/{name}.tex.j2")


def fix(layout: dict) -> str:
    """What helps: when the title block is longer than it ever is with a usual name, the name or
    the unset-[student] box; otherwise the prose of the sections named."""
    title_lines = layout["parts"].get("title", 0.0) / layout["line_pt"]
    if title_lines > TITLE_USUAL_LINES:
        return (f"the title block takes about {round(title_lines)} lines (usually 3): shorten "
                f"[student] name in config.toml, or set [student] name and id if its red box shows")
    return "shorten these templates"


def _pages(pages: float) -> str:
    return f"{pages:.2f} page{'s' if pages > 1 else ''}"


def check(info: dict, limit_pages: int = LIMIT_PAGES) -> str | None:
    """None when the main body fits in `limit_pages`; otherwise by how much it does not (pages
    and lines) and which sections are longest. `info` is report/build/<full|quick>/build.json."""
    layout = info.get("layout")
    if layout is None:
        if info["body_pages"] <= limit_pages:
            return None
        return (f"the main body has {info['body_pages']} pages, over the limit of {limit_pages} "
                f"(no section lengths recorded: rebuild with `make report`)")
    if layout["end_page"] <= limit_pages:
        return None  # the last line's depth may reach below the text area without making a page
    over = max(layout["end_depth_pt"] - limit_pages * layout["text_height_pt"], 0.0)
    if over < layout["line_pt"] / 2:
        # A full last page puts the zero-height end mark at the top of the next one: no text
        # is past the limit (seen at 0.014 pt over, from rounding of the page depth).
        return None
    lines = max(1, math.ceil(over / layout["line_pt"]))
    return (f"the main body runs {_pages(over / layout['text_height_pt'])} (about {lines} "
            f"line{'s' if lines > 1 else ''}) past its {limit_pages}-page limit; longest "
            f"sections: {longest_sections(layout)}; {fix(layout)}")
