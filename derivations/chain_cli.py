"""`python -m derivations check --chain '...'`: a typed derivation checked step by step, one line
per step. Exit 0 when every step is verified, 1 when one is refuted or not proven, 2 when the
chain cannot be read (chain_ast.ChainError, one line on stderr)."""
from __future__ import annotations

import re

from derivations import chain, chain_text
from derivations.chain_ast import ChainError

LEFT_SIDES = {"z": r"\frac{\partial \hat{y}_i}{\partial z_k}",
              "w": r"\frac{\partial \hat{y}_i}{\partial w_k}"}
CASE_CONDITIONS = {"all": "", "diagonal": r" \quad (k = i)", "offdiagonal": r" \quad (k \neq i)"}


DELIMITERS = re.compile(r"^\s*(?:\$\$?|\\\[|\\\(|\\begin\{(?:equation|align|gather|multline)\*?\})"
                        r"|(?:\$\$?|\\\]|\\\)|\\end\{(?:equation|align|gather|multline)\*?\})\s*$")


def with_left_side(text: str, wrt: str) -> str:
    """The chain as checked: one with no left side (it starts with `=`, or it is an expression
    with no relation at all) is about the entry LEFT_SIDES[wrt]; a chain with its own left side
    is checked as typed."""
    stripped = DELIMITERS.sub("", text).strip()  # pasted with its $ ... $ or environment
    if stripped.startswith("=") or not chain_text.chains(stripped):
        return f"{LEFT_SIDES[wrt]} {'' if stripped.startswith('=') else '= '}{stripped}"
    return stripped


def run(text: str, wrt: str = "z", cases: str = "all") -> tuple[str, int]:
    math = text
    try:
        math = with_left_side(text, wrt) + CASE_CONDITIONS[cases]
        outcomes = chain.check_math(math)
    except ChainError as err:
        raise ChainError(f"{err} (at column {err.offset + 1} of: {' '.join(math.split())[:120]})",
                         err.offset) from None
    if not outcomes:
        raise ChainError("no equality to check: write A = B (= C ...)")
    lines, code = [], 0
    for number, step in enumerate(outcomes, start=1):
        status = "verified" if step.verified else "refuted" if step.refuted else "not verified"
        code = code or (0 if step.verified else 1)
        lines.append(f"step {number} {status}: {step.lhs} = {step.rhs}\n  {step.detail}")
    bad = next((n for n, s in enumerate(outcomes, start=1) if not s.verified), None)
    steps = "1 step" if len(outcomes) == 1 else f"all {len(outcomes)} steps"
    lines.append(f"{steps} verified (SymPy, n = 2..6; autograd)" if bad is None
                 else f"the chain fails at step {bad} of {len(outcomes)}")
    return "\n".join(lines), code
