"""The experiments behind the report's numbers: the datasets, verified by MD5 (datasets.py, and
fetch.py for `make data`), Task 1's grid of variants over seeds (q1.py) and Task 2's random-label
runs (q2.py), each writing its results folder whole; their figures (plots.py); and `make bench`
(bench.py). The training itself is the graders' code in hw1/.

May import: hw1, pipeline; nothing of derivations/ or report/.
"""
