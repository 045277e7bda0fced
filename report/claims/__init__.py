"""Statistics and their wording: the comparisons between variants (permutation.py: an exact
two-sided permutation test over seeds) and the sentences that state them (wording.py).

May import: report.render.jinja's number filters, report.errors.
"""
