"""Typed derivation chains `A = B = C ...` checked step by step: each consecutive equality proven
by SymPy for n = 2..6 classes at every pattern of its free indices (i = k and i != k, under the
chain's conditions), and compared with torch autograd at random points at every entry.

    chain_text.py   math -> chains (sides, relation signs, conditions, cases), with offsets
    chain_ast.py    one side -> an expression tree (chain_latex.lark; never evaluated)
    chain_proof.py  the exact proof (SymPy)      chain_numeric.py   the numbers (autograd)

Why a pattern of the indices stands for all its entries: nothing in the language names a class
by number (indices are letters, sums run over every class), so relabelling the classes maps
every entry (i, k) with i != k onto (1, 2), and the proof is over all inputs at once. The
numbers are checked at every entry anyway.

A step is `verified` when proven and autograd agrees; `refuted` when autograd finds a point
where the sides differ (the counterexample); otherwise it is a problem saying what was not
shown. Outcomes are cached on disk by the chain's text and this code's hash (a template-only
rebuild proves nothing again).
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
import signal
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from derivations import chain_ast
from derivations import chain_tree as ast
from derivations import chain_text
from derivations.chain_ast import ChainError

N_VALUES = range(2, 7)
POINTS = 6                 # random points per n and entry, batched
TOLERANCE = 1e-9           # relative: |left - right| <= TOLERANCE * (1 + |left| + |right|)
STEP_SECONDS = 30          # one step's proof; a longer one is refused (split the step)
MAX_FREE_INDICES = 3
CODE_FILES = ("chain.py", "chain_ast.py", "chain_text.py", "chain_proof.py", "chain_numeric.py",
              "chain_latex.lark")


@dataclass(frozen=True)
class StepOutcome:
    lhs: str
    rhs: str
    offset: int
    verified: bool
    detail: str
    max_abs_err: float
    refuted: bool = False


def code_hash() -> str:
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in CODE_FILES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


class Cache:
    """Outcomes of chains already checked, by chain text and code hash, in a JSON file."""

    def __init__(self, path: Path | None = None):
        self.path, self.code = path, code_hash()
        self.entries, self.hits, self.misses = {}, 0, 0
        if path is not None and path.is_file():
            try:
                stored = json.loads(path.read_text())
                if stored.get("code") == self.code:
                    self.entries = stored["chains"]
            except (ValueError, KeyError, TypeError):
                self.entries = {}  # damaged: checked again

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"code": self.code, "chains": self.entries}))
        temporary.replace(self.path)


@dataclass
class Step:
    lhs: chain_text.Side
    rhs: chain_text.Side
    left: object
    right: object
    offset: int
    conditions: frozenset


def steps_of(chain: chain_text.Chain) -> list[Step]:
    """The chain's consecutive equalities, a cases side expanded into one step per case."""
    trees = [_trees(side) for side in chain.sides]
    out = []
    for (a, b), offset in zip(zip(range(len(trees)), range(1, len(trees))), chain.relations):
        lefts, rights = trees[a], trees[b]
        if len(lefts) > 1 and len(rights) > 1:
            raise ChainError("two cases sides beside each other: write one of them out", offset)
        for (lside, left, lcond), (rside, right, rcond) in itertools.product(lefts, rights):
            out.append(Step(lside, rside, left, right, offset,
                            frozenset(chain.conditions | set(lcond) | set(rcond))))
    return out


def _trees(side: chain_text.Side) -> list:
    rows = side.cases or [(side, [])]
    out = []
    for case_side, conditions in rows:
        try:
            out.append((case_side, chain_ast.parse_side(case_side.text), conditions))
        except ChainError as err:
            raise err.shifted(case_side.offset) from None
    return out


def setting(trees: list) -> str:
    """z: logits only; own: z_m = f_m(w_m) (some derivative by w_k); shared: z_m = f_m(w)."""
    found = {("own" if node.index else "shared") for tree in trees for node in ast.walk(tree)
             if isinstance(node, ast.Deriv) and node.wrt == "w"}
    if len(found) > 1:
        raise ChainError(r"one chain differentiates by w_k and by w: a weight per logit, or one "
                         r"for all, not both")
    return found.pop() if found else "z"


def _check_ranges(trees: list, offset: int) -> None:
    ranges = {node.range for tree in trees for node in ast.walk(tree)
              if isinstance(node, ast.Sum) and node.range}
    if len(ranges) > 1:
        raise ChainError(f"the sums of this chain number the classes differently "
                         f"({', '.join(sorted(ranges))}): write one", offset)


def patterns(indices: list, conditions) -> list[dict]:
    """One representative entry per pattern of equal and different free indices that meets the
    conditions: indices in one block share a class."""
    out = []
    for labels in itertools.product(range(len(indices)), repeat=len(indices)):
        if any(labels[p] > max(labels[:p], default=-1) + 1 for p in range(len(labels))):
            continue  # not in canonical order: the same pattern as another
        env = {index: label + 1 for index, label in zip(indices, labels)}
        if all((env[c.a] == env[c.b]) == c.equal for c in conditions):
            out.append(env)
    return out


def entries(indices: list, conditions, n: int):
    for values in itertools.product(range(1, n + 1), repeat=len(indices)):
        env = dict(zip(indices, values))
        if all((env[c.a] == env[c.b]) == c.equal for c in conditions):
            yield env


@contextmanager
def time_limit(seconds: int):
    """A proof that runs too long is stopped (main thread only: signals go there)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    def stop(signum, frame):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _shown(side: chain_text.Side) -> str:
    return " ".join(side.text.split())


def _condition_text(conditions) -> str:
    return ", ".join(rf"{c.a} {'=' if c.equal else '!='} {c.b}" for c in sorted(conditions, key=str))


def check_step(step: Step, kind: str, sum_one: bool) -> StepOutcome:
    from derivations import chain_proof
    indices = sorted(ast.free_indices(step.left) | ast.free_indices(step.right)
                     | {x for c in step.conditions for x in (c.a, c.b)})
    lhs, rhs = _shown(step.lhs), _shown(step.rhs)
    where = f" for {_condition_text(step.conditions)}" if step.conditions else ""
    outcome = lambda ok, detail, err=0.0, refuted=False: StepOutcome(  # noqa: E731
        lhs, rhs + where, step.offset, ok, detail, err, refuted)
    if len(indices) > MAX_FREE_INDICES:
        return outcome(False, f"{len(indices)} free indices ({', '.join(indices)}); at most "
                              f"{MAX_FREE_INDICES}: bind the others with a sum")
    cases = patterns(indices, step.conditions)
    if not cases:
        return outcome(False, f"the conditions {_condition_text(step.conditions)} never hold")
    has_loss = any(isinstance(x, ast.Loss) and x.kind == "any"
                   for tree in (step.left, step.right) for x in ast.walk(tree))
    losses = ("ce", "mse") if has_loss else ("ce",)
    try:
        with time_limit(STEP_SECONDS):
            proven = _proven(chain_proof, step, cases, losses, sum_one)
    except TimeoutError:
        return outcome(False, f"the proof took over {STEP_SECONDS} s: split the step")
    err, counterexample, overflow = _compare(step, indices, kind, losses, sum_one)
    if counterexample is None and overflow is not None and proven is False:
        place = overflow.split(": the left side")[0]
        return outcome(False, f"SymPy could not prove it, and an e^x leaves float64's range where "
                              f"autograd compares the sides ({place}): not checked; write it "
                              f"with smaller constants or split the step")
    if counterexample is not None:
        hint = ""
        if not sum_one and _proven(chain_proof, step, cases, losses, True) is True:
            hint = r" (it holds when \sum_j y_j = 1: declare it, \text{since } \sum_j y_j = 1)"
        hint = hint or _holds_only_when(chain_proof, step, indices, losses, sum_one)
        return outcome(False, counterexample + hint, err, refuted=True)
    if proven == "undefined":
        return outcome(False, "a side divides by zero: the step states nothing", err)
    if not proven:
        return outcome(False, f"SymPy could not prove it exactly, though autograd agrees to "
                              f"{err:.1e}: split the step into smaller ones", err)
    if overflow is not None:  # float64 overflowed where SymPy proves the sides equal
        return outcome(True, f"proven by SymPy; not checked numerically where float64 overflows "
                             f"(max |autograd - formula| = {err:.1e} at the other points)",
                       err)
    return outcome(True, f"max |autograd - formula| = {err:.1e} (n = 2..6, every entry)", err)


def _holds_only_when(chain_proof, step: Step, indices: list, losses, sum_one: bool) -> str:
    """For a refuted step, the index condition under which it holds (\\delta_{ik} = 1 when
    i = k), as a hint to state it in the math; "" when there is none."""
    for a, b in itertools.combinations(indices, 2):
        for equal in (True, False):
            condition = chain_text.Condition(a, b, equal)
            if condition in step.conditions or chain_text.Condition(b, a, equal) in step.conditions:
                continue
            conditions = step.conditions | {condition}
            cases = patterns(indices, conditions)
            if cases and _proven(chain_proof, step, cases, losses, sum_one) is True:
                sign, words = ("=", "if") if equal else (r"\neq", "for")
                return (rf" (it holds only when {a} {'=' if equal else '!='} {b}: state it in "
                        rf"the math, \text{{{words} }} {a} {sign} {b})")
    return ""


def _proven(chain_proof, step: Step, cases: list, losses, sum_one: bool) -> bool | str:
    """True when every pattern at every n is proven; "undefined" where a side divides by zero."""
    for n in N_VALUES:
        for env in cases:
            if max(env.values(), default=1) > n:
                continue
            for loss in losses:
                try:
                    diff = chain_proof.difference(step.left, step.right, n, env, loss, sum_one)
                except ZeroDivisionError:
                    return "undefined"
                if not chain_proof.is_zero(diff, n):
                    return False
    return True


def _compare(step: Step, indices: list, kind: str, losses, sum_one: bool) -> tuple:
    """(max |left - right| where both are finite, the first counterexample where both are finite
    and no e^x left float64's range or None, the first other disagreement or None). For each n, POINTS random points
    at every entry, all in one batch (a row per point and entry). Where an e^x left float64's
    range (e^{z + 1000}), the point is not checked numerically: the proof alone decides."""
    import torch

    from derivations import chain_numeric
    worst, first, overflow = 0.0, None, None
    for n in N_VALUES:
        table = list(entries(indices, step.conditions, n))
        if not table:
            continue
        rows = POINTS * len(table)
        env = {index: torch.tensor([e[index] for e in table], dtype=torch.long).repeat(POINTS)
               for index in indices}
        for loss in losses:
            point = chain_numeric.Point(n, rows, kind, sum_one, seed=n)
            left = chain_numeric.value(step.left, env, point, loss).detach()
            right = chain_numeric.value(step.right, env, point, loss).detach()
            left, right = left.expand(rows), right.expand(rows)
            gap = (left - right).abs()
            both = torch.isfinite(left) & torch.isfinite(right) & ~point.inexact
            if both.any():
                worst = max(worst, float(gap[both].max()))
            apart = (gap > TOLERANCE * (1 + left.abs() + right.abs())) | (
                torch.isfinite(left) != torch.isfinite(right))
            off, one = apart & ~point.inexact, apart & point.inexact
            at = lambda p: _counterexample(  # noqa: E731
                step, n, table[p % len(table)], point, p, float(left[p]), float(right[p]),
                loss if len(losses) > 1 else None)
            if first is None and bool(off.any()):
                first = at(int(off.nonzero()[0]))
            if overflow is None and bool(one.any()):
                overflow = at(int(one.nonzero()[0]))
    return worst, first, overflow


def _counterexample(step, n, env, point, p, left, right, loss) -> str:
    used = {x.kind for tree in (step.left, step.right) for x in ast.walk(tree)
            if isinstance(x, ast.Indexed)}
    shown = point.shown(p)
    inputs = [f"z = ({', '.join(f'{v:g}' for v in shown['z'])})"]
    if "slope" in used or point.setting != "z":
        inputs.append(f"f' = ({', '.join(f'{v:g}' for v in shown[chr(102) + chr(39)])})")
    if "target" in used or any(isinstance(x, ast.Loss) for tree in (step.left, step.right)
                               for x in ast.walk(tree)):
        inputs.append(f"y = ({', '.join(f'{v:g}' for v in shown['y'])})")
    at = ", ".join([f"n = {n}", *(f"{k} = {v}" for k, v in sorted(env.items()))])
    with_loss = f" with L = {loss.upper()}" if loss else ""
    return (f"at {at}{with_loss}, {'; '.join(inputs)}: the left side is {_number(left)}, "
            f"the right side {_number(right)}")


def _number(x: float) -> str:
    return f"{x:.6g}" if math.isfinite(x) else "undefined (not finite in float64)"


def chain_key(chain: chain_text.Chain, steps: list[Step], kind: str) -> str:
    text = json.dumps([[_shown(s.lhs), _shown(s.rhs), sorted(map(str, s.conditions))]
                       for s in steps] + [kind, chain.sum_one])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def check_chain(chain: chain_text.Chain, cache: Cache | None = None) -> list[StepOutcome]:
    steps = steps_of(chain)
    trees = [t for s in steps for t in (s.left, s.right)]
    _check_ranges(trees, chain.relations[0] if chain.relations else 0)
    try:
        kind = setting(trees)
    except ChainError as err:
        raise err.shifted(chain.relations[0]) from None
    key = chain_key(chain, steps, kind)
    if cache is not None and key in cache.entries:
        try:
            stored = [StepOutcome(**{**entry, "offset": step.offset, "lhs": _shown(step.lhs)})
                      for entry, step in zip(cache.entries[key], steps, strict=True)]
            cache.hits += 1
            return stored
        except (TypeError, ValueError):
            pass  # an entry changed by hand: checked again
    outcomes = [check_step(step, kind, chain.sum_one) for step in steps]
    if cache is not None:
        cache.misses += 1
        cache.entries[key] = [asdict(o) for o in outcomes]
    return outcomes


def check_math(math_text: str, cache: Cache | None = None) -> list[StepOutcome] | None:
    """Every step of every chain in the math; None when it holds no chain. ChainError (offset in
    the math) when it cannot be read."""
    found = chain_text.chains(math_text)
    if not found:
        return None
    return [outcome for chain in found for outcome in check_chain(chain, cache)]
