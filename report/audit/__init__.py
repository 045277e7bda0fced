"""The audit: reads what the rendered templates typed (outside the marks of verified values) and
reports numbers, relations, results and comparisons typed by hand, by template file:line.

prose.py reads text mode, mathmode.py the math. May import: report.errors, report.render.marks.
"""
