"""The deliverables: `make submission` (submission.py: pack and verify the zip the course receives,
eval_runner.py runs a grader's eval script in a fresh interpreter) and `make source` (source.py:
the LaTeX sources for Overleaf, source.latexmkrc).

May import: pipeline, hw1, report.tex, report.render.context, report.errors.
"""
