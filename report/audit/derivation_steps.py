"""The typed-derivation hook of the audit: a relation typed by hand in a template's math is
checked step by step (derivations/chain.py) instead of refused.

    judge(math) -> Verdict | None       the interface the audit calls (docs/audit.md)
    TypedSteps                          what the verified steps add up to (summary, build.json)
    shown_wrong(step, caller)           a template's block that shows a chain as wrong on purpose

Outcomes are cached on disk (use_cache: the build folder) by the chain's text and the hash of
the derivations code, so a template-only rebuild proves nothing again.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from derivations import chain, chain_text
from derivations.chain_ast import ChainError
from report.errors import ReportError

CACHE_FILE = "typed_steps_cache.json"
SHOWN = 60   # characters of a side shown in a one-line problem


@dataclass(frozen=True)
class Step:
    lhs: str            # the left side as typed (LaTeX), layout (&, \text{}, \quad) removed
    rhs: str            # the right side as typed
    offset: int         # character offset in `math` where this step's relation sign stands
    verified: bool
    detail: str         # verified: "max |autograd - formula| = 3.1e-16 ..."; else the counterexample


@dataclass(frozen=True)
class Verdict:
    steps: tuple[Step, ...]      # the consecutive equalities found and checked
    problem: str | None          # None when every step is verified; else one line for the user
    problem_offset: int          # offset in `math` the problem points at (0 if none)


_cache = chain.Cache(None)


def use_cache(build_dir: Path | None) -> None:
    """Keep outcomes in build_dir/typed_steps_cache.json (None: in memory only)."""
    global _cache
    _cache = chain.Cache(None if build_dir is None else Path(build_dir) / CACHE_FILE)


def cache_stats() -> dict:
    return {"hits": _cache.hits, "misses": _cache.misses}


def _short(text: str) -> str:
    return text if len(text) <= SHOWN else text[:SHOWN - 3] + "..."


def judge(math: str) -> Verdict | None:
    """`math`: the content of one math node as the template typed it (inline, or the body of
    equation/align/gather/multline, starred or not), inserted values unwrapped to plain LaTeX.
    None when the math holds no chain of equalities; otherwise the verdict."""
    try:
        misses = _cache.misses
        outcomes = chain.check_math(math, _cache)
        if _cache.misses != misses:
            _cache.save()
    except ChainError as err:
        return Verdict((), f'"{_short(" ".join(math.split()))}" is typed math the derivation '
                           f"checker cannot read: {err}",
                       min(max(err.offset, 0), len(math)))
    if outcomes is None:
        return None
    steps = tuple(Step(o.lhs, o.rhs, o.offset, o.verified, o.detail) for o in outcomes)
    wrong = next((s for s in steps if not s.verified), None)
    if wrong is None:
        return Verdict(steps, None, 0)
    verb = "is wrong" if "the left side is" in wrong.detail else "is not verified"
    return Verdict(steps, f"the typed step `{_short(wrong.lhs)} = {_short(wrong.rhs)}` {verb}: "
                          f"{wrong.detail}", wrong.offset)


def findings(typed: str | None, record_of, steps, readable_only: bool = False
             ) -> list[tuple[int, str]] | None:
    """The audit's hook (report/audit/mathmode.py): one math segment as typed, with the
    placeholders of inserted pieces (record_of(n).text is their LaTeX). None when it holds no
    chain to check (the audit reports the relation as typed by hand), and with readable_only
    when the checker cannot read it (the notation rules judge it); [] when every step is
    verified (counted in `steps`, a TypedSteps); else the problem at its offset in `typed`."""
    if typed is None:
        return None
    text, where = _unwrapped(typed, record_of)
    verdict = judge(text)
    if verdict is None or readable_only and not verdict.steps:
        return None
    if verdict.problem:
        return [(where[min(verdict.problem_offset, len(where) - 1)], verdict.problem)]
    if steps is not None:
        steps.add(text, verdict)
    return []


def _unwrapped(math: str, record_of) -> tuple[str, list[int]]:
    """The math with each inserted piece's placeholder replaced by its LaTeX, and for each
    character the offset in `math` it came from."""
    text, where, pos = [], [], 0
    for match in re.finditer("\x1a(\\d+)\x1b", math):
        text.append(math[pos:match.start()])
        where += range(pos, match.start())
        piece = record_of(int(match.group(1))).text
        text.append(piece)
        where += [match.start()] * len(piece)
        pos = match.end()
    text.append(math[pos:])
    where += range(pos, len(math) + 1)
    return "".join(text), where


ERROR = re.compile(r"= ([0-9.e+-]+)")


@dataclass
class TypedSteps:
    """The typed derivation steps the audit verified: chains, steps, the largest autograd error."""
    chains: int = 0
    steps: int = 0
    max_abs_err: float = 0.0
    where: list = field(default_factory=list)

    def add(self, math: str, verdict: Verdict) -> None:
        self.chains += len(chain_text.chains(math))
        self.steps += len(verdict.steps)
        for step in verdict.steps:
            found = ERROR.search(step.detail)
            if found:
                self.max_abs_err = max(self.max_abs_err, float(found.group(1)))

    def record(self) -> dict:
        return {"chains": self.chains, "steps": self.steps, "max_abs_err": self.max_abs_err}


def first_refuted(body: str) -> tuple[int, Step, list[Step]] | None:
    """(its number among the block's steps, the step, every step) of the first refuted step in
    the math of a block of LaTeX."""
    from report.audit import latex  # the audit's reader of LaTeX
    steps = []
    reading = latex.read(body)
    prose = reading.text().replace(latex.FORMULA, " ")
    if prose.strip():  # marked as a whole, prose here would pass unaudited
        raise ReportError(f"shown_wrong holds math only (an align* or equation), not "
                          f"\"{_short(' '.join(prose.split()))}\"")
    for formula in reading.formulas:
        verdict = judge(body[formula.start:formula.start + len(formula.text)])
        if verdict is None:
            continue
        if not verdict.steps and verdict.problem:
            raise ReportError(verdict.problem)
        steps += verdict.steps
    for number, step in enumerate(steps, start=1):
        if not step.verified:
            return number, step, steps
    return None


def shown_wrong(step: int, caller=None) -> str:
    """`((* call shown_wrong(2) *)) math ((* endcall *))`: the block's chains are shown as wrong
    on purpose; the build checks that step `step` (counted over the block's steps) is the first
    one refuted, and prints the block followed by a sentence naming that step and its
    counterexample, marked as a refuted piece (the audit does not report it)."""
    from report.render import marks
    if caller is None:
        raise ReportError("shown_wrong is a call block: ((* call shown_wrong(2) *)) ... "
                          "((* endcall *))")
    body = marks.strip(re.sub("\x00(?:[^\x00:]*:)?\\d+\x00", "", str(caller())))  # line sentinels (report/render/jinja.py)
    found = first_refuted(body)
    if found is None or found[0] != step or "the left side is" not in found[1].detail:
        actual = "no step is refuted" if found is None else f"step {found[0]} is the first wrong one"
        raise ReportError(f"shown_wrong({step}): the block is declared wrong at step {step}, but "
                          f"{actual}")
    number, wrong, steps = found
    verified = [str(n) for n, s in enumerate(steps, start=1) if s.verified]
    shown = (f"Step {verified[0]} of {len(steps)} is" if len(verified) == 1 else
             f"Steps {', '.join(verified)} of {len(steps)} are" if verified else "No step is")
    sentence = (rf"\par\noindent {shown} verified; step~{number} (equality sign {number}) is "
                rf"where it goes wrong: {_latex_text(wrong.detail)}.\par" "\n")
    return marks.mark("refuted", body.rstrip("\n") + "\n" + sentence, f"shown_wrong({step})")


VALUE = re.compile(r"\b[nijk] = -?\d+|[zy] = \([^)]*\)|f' = \([^)]*\)|-?\d+\.\d+(?:e-?\d+)?")


def _latex_text(text: str) -> str:
    """A counterexample line in LaTeX: its values set in math."""
    return VALUE.sub(lambda m: f"${m.group()}$", text)
