"""Comparative sentences in the prose, checked against the measured numbers.

A template states a comparison only through `check("claim_id")`: when the metrics contradict it,
the build fails and names the claim, so the prose can never drift from the results.
"""
from __future__ import annotations

import math

from pipeline import cli

COURSE_PASS_TEST_ACC = 0.75                                 # the course: Task 1 needs >= 75 %
DRAFT = {"test_acc": 0.89, "sigmoid_epochs_ratio": 4}      # what the draft stated, to compare

class ReportError(cli.UserError):
    """A problem the user can fix (missing or stale results, a template error); one short message."""


def _epochs(summary: dict) -> float:
    """Mean epochs to reach the target test accuracy; infinity when a seed never reached it."""
    value = summary["epochs_to_target_mean"]
    return math.inf if value is None else value


def _variants(q1: dict, factor: str) -> dict:
    return q1["ablations"][factor]["variants"]


def claims(q1: dict, q2: dict) -> dict:
    """{claim id: (holds, the numbers behind it)}."""
    act, lr, loss = (_variants(q1, f) for f in ("activation", "lr", "loss"))
    relu, sigmoid = act.get("relu"), act.get("sigmoid")
    random, control, draft = q2["random"], q2["control"], q2["draft"]
    result = {
        "main_passes_course_threshold": (q1["main"]["test_acc_mean"] >= COURSE_PASS_TEST_ACC,
                                         f"main test accuracy {q1['main']['test_acc_mean']:.4f}"),
        "random_memorised": (random["final_train_loss_max"] < 0.01,
                             f"largest final train loss {random['final_train_loss_max']:.2e}"),
        "random_test_loss_above_ln2": (random["test_loss_mean"] > q2["ln2"],
                                       f"test loss {random['test_loss_mean']:.3f}"),
        "random_test_acc_near_chance": (abs(random["test_acc_mean"] - 0.5) < 0.03,
                                        f"test accuracy {random['test_acc_mean']:.4f}"),
        "control_beats_chance": (control["test_acc_mean"] > 0.6,
                                 f"control test accuracy {control['test_acc_mean']:.4f}"),
        "draft_setting_not_memorised": (draft["final_train_loss_mean"] > 0.1,
                                        f"draft final train loss {draft['final_train_loss_mean']:.3f}"),
    }
    if relu and sigmoid:
        result["sigmoid_slower_than_relu"] = (
            _epochs(sigmoid) > _epochs(relu),
            f"epochs to target: relu {relu['epochs_to_target_mean']}, "
            f"sigmoid {sigmoid['epochs_to_target_mean']}")
    return result


def check(table: dict, claim_id: str) -> str:
    """'' when the claim holds; otherwise stop the build, naming the claim and its numbers."""
    if claim_id not in table:
        raise ReportError(f"the templates check an unknown claim {claim_id!r}; "
                          f"known: {', '.join(sorted(table))}")
    holds, numbers = table[claim_id]
    if not holds:
        raise ReportError(f"the prose claims {claim_id!r} but the results contradict it "
                          f"({numbers}); rewrite that sentence in the templates")
    return ""


def fastest(variants: dict) -> tuple[str, float]:
    """The variant with the fewest mean epochs to the target (ties: higher accuracy after epoch 1)."""
    name = min(variants, key=lambda v: (_epochs(variants[v]),
                                        -(variants[v]["test_acc_epoch1_mean"] or 0)))
    return name, _epochs(variants[name])


def speed_ratio(slow: dict, fast: dict) -> float | None:
    """How many times more epochs `slow` needed; None when either never reached the target."""
    a, b = _epochs(slow), _epochs(fast)
    return None if math.isinf(a) or math.isinf(b) else a / b
