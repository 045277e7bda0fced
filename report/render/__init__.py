"""Rendering: results and config -> the Jinja context -> the templates rendered as LaTeX.

context.py reads results/ and config sections into the values templates print; marks.py tracks
each value's source and wraps what a template prints in verifiable marks; jinja.py holds the
sandboxed Jinja environment, the number filters and the template line map.
May import: pipeline, derivations, report.errors, report.claims, report.audit (none imports this back).
"""
