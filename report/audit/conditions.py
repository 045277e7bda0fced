"""Thresholds typed into a template's Jinja conditions: `((* if q1.main.test_acc_mean > 0.95 *))`
chooses the words the PDF prints by a number nobody checks. A condition may compare with 0 and 1
(counts, first and last) or with a number declared `typed`; any other number is a finding."""
from __future__ import annotations

from pathlib import Path

import jinja2
from jinja2 import nodes

ALLOWED = (0, 1)


def findings(template_dir: Path) -> list:
    from report.audit.run import Finding
    out = []
    env = jinja2.Environment(block_start_string="((*", block_end_string="*))",
                             variable_start_string="(((", variable_end_string=")))",
                             comment_start_string="((=", comment_end_string="=))")
    for path in sorted(Path(template_dir).glob("*.j2")):
        try:
            tree = env.parse(path.read_text())
        except jinja2.TemplateSyntaxError:
            continue  # the renderer reports it, with its line
        typed = {a.target.name: a.node for a in tree.find_all(nodes.Assign)
                 if isinstance(a.target, nodes.Name) and isinstance(a.node, nodes.Const)}
        for compare in tree.find_all(nodes.Compare):
            operands = [compare.expr] + [op.expr for op in compare.ops]
            operands = [typed.get(o.name, o) if isinstance(o, nodes.Name) else o for o in operands]
            for operand in operands:
                if isinstance(operand, nodes.Const) and _threshold(operand.value):
                    out.append(Finding(f"templates/{path.name}", compare.lineno,
                                       f"the threshold {operand.value!r} is typed into a condition, so "
                                       f"what the prose says depends on a number nothing checks; "
                                       f"compare through claims (claims.supports(...)) or declare it: "
                                       f'({operand.value!r}|typed("what it is"))'))
    return out


def _threshold(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and value not in ALLOWED)
