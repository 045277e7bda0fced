"""The report: `python -m report build` renders templates/ with the results, audits what they
typed, and typesets report/report.pdf (report-quick.pdf with QUICK=1) in report/build/.

Rooms: render/ (context and Jinja), audit/ (what a template typed by hand), claims/ (statistics
and their wording), tex/ (latexmk, confinement, page budget, fonts), bundle/ (submission and
source zips). watch.py rebuilds on every save; errors.py is the one error a user sees.
The outputs (report.pdf, build/, the zips) are written beside these folders and never committed.
"""
