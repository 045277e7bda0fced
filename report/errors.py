"""The report's one error type, in a module of its own: the renderer, the claims and the LaTeX
driver all raise it, and claims.py words its sentences with the renderer's number formats."""
from pipeline import cli


class ReportError(cli.UserError):
    """A problem the user can fix (missing or stale results, a template error); one short message."""
