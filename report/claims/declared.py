"""Comparisons in the student's own words, declared and checked against the data.

    ((* call claim("activation", "relu", ">", "sigmoid") *))ReLU learned clearly faster than
    sigmoid((* endcall *))

declares that ReLU converged faster than sigmoid, in whatever words the sentence uses. The
relation is `>` (the first converged faster), `<` (slower) or `~` (the two cannot be told apart);
speed of convergence is what report/claims/wording.py measures (the mean test accuracy over the
epochs, per seed) and the verdict is its exact permutation test at ALPHA. The audit
(report/audit/run.py) checks each declared claim: one the data do not support, reversed or not
significant (a quick build has one seed, which can support no difference), stops the build with
its p-value and what the data do support. `claims.supports(...)` gives the same verdict to a
template that branches on it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from report.claims import permutation
from report.claims.wording import ALPHA, Claims, Speed, compare, join, over_seeds
from report.errors import ReportError
from report.render import marks

RELATIONS = {">": "converged faster than", "<": "converged slower than",
             "~": "cannot be told apart from"}
ORDER = {">": 1, "<": -1, "~": 0}
SENTINEL = re.compile("\x00[^\x00]*\x00")


@dataclass(frozen=True)
class Checked:
    """A declared claim against the data."""
    said: str            # "ReLU converged faster than sigmoid"
    supported: bool
    p: float | None
    support: str         # what the data do support, as a clause

    def problem(self) -> str:
        return (f'the claim "{self.said}" is not supported at alpha = {ALPHA:g}: {self.support}; '
                f"state what the data support, or branch on claims.supports(...)")


def _speeds(claims: Claims, factor: str) -> dict[str, Speed]:
    ablations = claims.q1.get("ablations", {})
    if factor not in ablations:
        raise ReportError(f"claim({factor!r}, ...): Task 1 ablates no factor {factor!r}; the factors "
                          f"are {', '.join(repr(f) for f in ablations)}")
    return claims._speeds(factor)


def _variant(speeds: dict[str, Speed], factor: str, value) -> str:
    """The variant's key: as config.toml writes it (relu, 0.1, 128-64) or as the prose shows it."""
    wanted = str(value).strip().lower()
    for key, speed in speeds.items():
        if wanted in (key.lower(), speed.name.lower()) or _same_number(wanted, key):
            return key
    raise ReportError(f"claim({factor!r}, {value!r}, ...): no {factor} variant {value!r}; the "
                      f"variants are {', '.join(repr(k) for k in speeds)}")


def _same_number(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def check(claims: Claims, factor: str, first, relation: str, second) -> Checked:
    """The declared claim `first relation second` of one factor, against the data."""
    if relation not in RELATIONS:
        raise ReportError(f"claim(..., {relation!r}, ...): the relation is one of "
                          f"{', '.join(repr(r) for r in RELATIONS)} (faster, slower, not told apart)")
    speeds = _speeds(claims, factor)
    a, b = (speeds[_variant(speeds, factor, v)] for v in (first, second))
    if a is b:
        raise ReportError(f"claim({factor!r}, {first!r}, {relation!r}, {second!r}) compares a "
                          f"variant with itself")
    said = f"{a.name} {RELATIONS[relation]} {b.name}"
    found = compare(a, b, factor)
    seeds = len(a.per_seed) or claims.n_seeds
    if found.p is None:
        support = f"{join(s.label() for s in (a, b) if s.diverged)} diverged"
    else:
        floor = permutation.smallest_p(len(a.per_seed), len(b.per_seed))
        measured = f"p = {found.p:.4f} {over_seeds(seeds)} (the smallest p possible: {floor:.4f})"
        truth = {1: f"{a.label()} converged faster than {b.label()}",
                 -1: f"{b.label()} converged faster than {a.label()}",
                 0: f"{a.label()} and {b.label()} cannot be told apart {over_seeds(seeds)}"}
        support = f"{measured}; the data support: {truth[found.order]}"
    return Checked(said, found.order == ORDER[relation], found.p, _plain(support))


def _plain(latex: str) -> str:
    """A clause for the terminal: \\qty{97.0}{\\percent} -> 97.0 %."""
    text = re.sub(r"\\qty\{([^}]*)\}\{\\percent\}", r"\1 %", latex)
    return re.sub(r"\\num\{([^}]*)\}", r"\1", text)


def source(factor, first, relation, second) -> str:
    return f"{factor}: {first} {relation} {second}"


def parse(source_text: str) -> tuple[str, str, str, str]:
    factor, rest = source_text.split(": ", 1)
    first, relation, second = rest.rsplit(" ", 2)
    return factor, first, relation, second


def claim_call(audited_claims):
    """`claim` as the templates call it: the sentence between call and endcall, marked as a
    declared claim (its words stay readable to the audit: numbers in it are still checked)."""
    def claim(factor, first, relation, second, caller=None):
        underlying = underlying_claims(audited_claims)
        if not isinstance(underlying, Claims):
            raise ReportError("claim(...) needs the results' claims; none are in this build")
        check(underlying, str(factor), first, str(relation), second)  # a wrong name stops here
        body = caller() if caller is not None else ""
        return marks.wrap("ownclaim", str(body), source(factor, first, relation, second),
                          SENTINEL.sub("", str(body)))
    return claim


def underlying_claims(claims) -> Claims | None:
    """The Claims behind the templates' `claims` (marked for the audit, or as it is)."""
    return claims if isinstance(claims, Claims) else getattr(claims, "_claims", None)


def supports(claims: Claims, factor: str, first, relation: str, second) -> bool:
    """Whether the data support the claim: for a template that branches on it."""
    return check(claims, factor, first, relation, second).supported
