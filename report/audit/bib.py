"""The printed fields of templates/*.bib, read like the templates' prose.

BibTeX prints a reference's fields into the PDF, so a note can state a result as well as a
sentence can. The notes (note, annote, addendum, howpublished, abstract) are prose: every rule
applies. The bibliographic fields (author, title, year, pages, ...) are the cited work's facts:
their numbers pass, except percentages, and comparisons of this report's variants are findings.
"""
from __future__ import annotations

import re
from pathlib import Path

from pylatexenc.latexwalker import LatexCharsNode, LatexGroupNode

from report.audit import latex, specs

NOTES = {"note", "annote", "addendum", "howpublished", "abstract"}
LINKS = {"url", "doi", "eprint", "isbn", "issn", "key", "crossref"}  # addresses, not prose
FIELD = re.compile(r"([A-Za-z]+)\s*=\s*$")


def findings(template_dir: Path, read_prose) -> list:
    """Findings of every .bib file; `read_prose(reading, pieces, template, bibliographic=...)`
    gives (offset, message) for the prose read."""
    from report.audit.run import Finding
    out = []
    for path in sorted(Path(template_dir).glob("*.bib")):
        text = path.read_text(errors="replace")
        where = f"templates/{path.name}"
        for start, value, name in fields(text):
            reading = latex.read(value)
            for at, message in read_prose(reading, [], where, bibliographic=name not in NOTES):
                out.append(Finding(where, text.count("\n", 0, start + at) + 1, message))
    return out


def fields(text: str) -> list[tuple[int, str, str]]:
    """(offset, value, field name) of every braced field of every entry."""
    nodes, _, _ = specs.walker(text).get_latex_nodes()
    out = []
    for entry in (n for n in nodes if isinstance(n, LatexGroupNode)):
        name = ""
        for child in entry.nodelist:
            if isinstance(child, LatexCharsNode):
                found = FIELD.search(child.chars)
                name = found.group(1).lower() if found else ""
                for quoted in re.finditer(r'(\w+)\s*=\s*"([^"]*)"', child.chars):
                    out.append((child.pos + quoted.start(2), quoted.group(2), quoted.group(1).lower()))
            elif isinstance(child, LatexGroupNode) and name and name not in LINKS:
                out.append((child.pos + 1, child.latex_verbatim()[1:-1], name))
                name = ""
    return out
