"""TeX: typesetting the rendered LaTeX with latexmk, confined to the build folder (latexmk.py,
confine.lua), the two-page budget (budget.py), the fonts a [student] name needs (fonts.py) and
TeX's installation from Debian (ensure_tex.sh).

May import: pipeline, report.errors, report.render.jinja (font tables).
"""
