"""The audit: a step after rendering that reads what the templates typed by hand.

run.py is the step (render -> audit -> appendix) and its findings; latex.py reads the rendered
LaTeX with pylatexenc, driven by the one table in specs.py; the rules: prose.py (numbers in
digits and words, relations), comparisons.py (sentences that compare the report's variants),
direction.py (what a declared claim's words say),
mathmode.py (typed math: notation only; typed relations go through typed_relation), conditions.py
(thresholds in Jinja conditions), bib.py (the printed .bib fields); suggest.py names the key a
typed number meant. docs/audit.md states the rules.
May import: report.errors, report.render.marks, report.claims (declared claims), pipeline.
"""
