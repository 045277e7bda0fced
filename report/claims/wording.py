"""The report's comparative sentences, worded from the measured numbers.

No template types a comparison ("faster", "confirmed", "above ln 2", "memorises"): it asks
`Claims`, which decides the direction from the results and returns the words as a LaTeX fragment,
so a sentence cannot state the opposite of the numbers. A claim that the configuration cannot
test (no sigmoid run, a single learning rate) gives nothing to state.

Speed of convergence is the mean test accuracy over the epochs (the area under the test-accuracy
curve), one value per seed. Two variants differ only when an exact two-sided permutation test on
those per-seed values (report/claims/permutation.py) gives p <= ALPHA = 0.01; each comparison is tested
on its own, and `comparisons()` lists every one with its effect and p for the appendix. With n
seeds the smallest p is 2 / C(2n, n), so fewer than 5 seeds can call no difference, and then
none is. A variant that diverged on any seed is behind every variant that did not.
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from report.claims import permutation
from report.render.jinja import counted, display, escape, num, pct, sci

ALPHA = 0.01   # the level at which a comparison calls a difference

COURSE_PASS_TEST_ACC = 0.75                                           # Task 1 needs >= 75 %
DRAFT = {"sigmoid_epochs_ratio": 4, "lr": 0.01}    # what the draft claimed (its 89 % is typed in q1.tex.j2)
MEMORISED_TRAIN_LOSS = 0.01   # the course's "a training loss of about 0", on every seed
# An accuracy within three binomial standard errors of 1/2 (1.5 points on 10,000 test images)
# is what coin flips give: chance level.
CHANCE_STANDARD_ERRORS = 3
FIRST_EVALUATION = 1   # test accuracy is measured after each epoch, the first after epoch 1

FACTOR_NAMES = {"activation": "activations", "lr": "learning rates", "loss": "losses",
                "hidden": "hidden sizes"}


@dataclass(frozen=True)
class Speed:
    """How fast one ablation variant converged: its mean test accuracy over epochs, per seed."""
    name: str                          # as the report shows it (LaTeX)
    per_seed: tuple[float, ...]        # the seeds that did not diverge
    diverged_seeds: tuple[int, ...]

    @classmethod
    def of(cls, value: str, summary: dict) -> "Speed":
        return cls(display(value),
                   tuple(summary["test_acc_over_epochs_per_seed"]),
                   tuple(d["seed"] for d in summary["diverged"]))

    @property
    def diverged(self) -> bool:
        return bool(self.diverged_seeds)

    @property
    def mean(self) -> float:
        return -math.inf if self.diverged else statistics.fmean(self.per_seed)

    def label(self) -> str:
        """The name with its number, e.g. 'ReLU (97.0 %)'."""
        if not self.diverged:
            return rf"{self.name} ({pct(self.mean, 1)})"
        if not self.per_seed:
            return f"{self.name} (diverged)"
        return f"{self.name} (diverged with seed {join(map(str, self.diverged_seeds))})"


@dataclass(frozen=True)
class Comparison:
    """Two variants of one factor, compared: the difference of their means and its p-value."""
    factor: str
    first: Speed
    second: Speed
    effect: float | None     # mean(first) - mean(second), as a fraction; None if one diverged
    p: float | None          # exact permutation p-value; None if one diverged

    @property
    def order(self) -> int:
        """+1 when `first` converged faster, -1 when slower, 0 when they cannot be told apart."""
        if self.first.diverged or self.second.diverged:
            return int(self.second.diverged) - int(self.first.diverged)
        if self.p > ALPHA:
            return 0
        return 1 if self.effect > 0 else -1


    @property
    def factor_name(self) -> str:
        """The factor as the prose spells it: learning rate, hidden layers."""
        return display(self.factor)

    @property
    def verdict(self) -> str:
        """The call, as the appendix's table words it."""
        if self.p is None:
            return "the diverged one is behind"
        return {1: "faster", -1: "slower", 0: "not told apart"}[self.order]


def compare(a: Speed, b: Speed, factor: str = "") -> Comparison:
    if a.diverged or b.diverged:
        return Comparison(factor, a, b, None, None)
    return Comparison(factor, a, b, a.mean - b.mean, permutation.p_value(list(a.per_seed), list(b.per_seed)))


def faster(a: Speed, b: Speed) -> int:
    """+1 when `a` converged faster than `b`, -1 when slower, 0 when the seeds cannot tell."""
    return compare(a, b).order


def decidable(n_seeds: int) -> bool:
    """Whether n seeds per variant can reach ALPHA at all."""
    return permutation.smallest_p(n_seeds, n_seeds) <= ALPHA


def join(items, conjunction: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    if not items:
        return ""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _factor_name(factor: str) -> str:
    return FACTOR_NAMES.get(factor, f"{escape(factor)} values")


def over_seeds(n: int) -> str:
    return "with one seed" if n == 1 else f"over {n} seeds"


@dataclass(frozen=True)
class Verdict:
    """One of the draft's claims, measured: what it said, the outcome, and the numbers' reason."""
    topic: str       # what the claim is about, for the summary: "sigmoid", "learning-rate"
    said: str
    outcome: str     # "is confirmed", "is contradicted", "is not decided", ...
    reason: str

    @property
    def full(self) -> str:
        """'that sigmoid needs ... is confirmed in direction: to reach 90 %, ...'"""
        return f"{self.said} {self.outcome}: {self.reason}"

    @property
    def brief(self) -> str:
        """'sigmoid claim is confirmed in direction'"""
        return f"{self.topic} claim {self.outcome}"


def memorised(summary: dict) -> bool:
    """Every training label fitted and the training loss about 0, on every seed."""
    return summary["final_train_loss_max"] < MEMORISED_TRAIN_LOSS and summary["train_acc_mean"] == 1.0


def versus_chance(accuracy: float, n_test: int) -> str:
    margin = CHANCE_STANDARD_ERRORS * math.sqrt(0.25 / n_test)
    if abs(accuracy - 0.5) <= margin:
        return "at chance level"
    return "above chance level" if accuracy > 0.5 else "below chance level"


class Claims:
    """Every comparative the templates state, as `claims.<method>()` in a template."""

    def __init__(self, q1: dict, q2: dict):
        self.q1, self.q2 = q1, q2
        self.n_seeds = len(q1["main"]["seeds"])

    # --- Task 1 -------------------------------------------------------------------------------

    def course_threshold(self) -> str:
        passed = self.q1["main"]["test_acc_mean"] >= COURSE_PASS_TEST_ACC
        return f"{'meeting' if passed else 'short of'} the course's {pct(COURSE_PASS_TEST_ACC, 0)}"

    def _speeds(self, factor: str) -> dict[str, Speed]:
        variants = self.q1["ablations"][factor]["variants"]
        return {value: Speed.of(value, summary) for value, summary in variants.items()}

    def _compared(self) -> dict[str, list[Speed]]:
        """Each ablated factor with two values or more: its variants, fastest mean first."""
        ranked = {factor: sorted(self._speeds(factor).values(), key=lambda s: s.mean, reverse=True)
                  for factor in self.q1["ablations"]}
        return {factor: speeds for factor, speeds in ranked.items() if len(speeds) > 1}

    @property
    def chance_standard_errors(self) -> int:
        """How many binomial standard errors around one half count as chance level."""
        return CHANCE_STANDARD_ERRORS

    def supports(self, factor: str, first, relation: str, second) -> bool:
        """Whether the data support `first relation second` (report/claims/declared.py)."""
        from report.claims import declared  # declared builds on this module
        return declared.supports(self, factor, first, relation, second)

    def rule(self) -> str:
        """The rule behind every comparison, said once in the prose."""
        return (rf"differences are called at $\alpha = {ALPHA:g}$ by an exact two-sided "
                rf"permutation test over the {self.n_seeds} seeds of each variant")

    def rankings(self, skip: str = "") -> list[str]:
        """One sentence per compared factor (but `skip`, which the template words itself): which
        value converged fastest."""
        compared = {f: s for f, s in self._compared().items() if f != skip}
        if compared and not decidable(self.n_seeds):  # nothing can be decided: say so once
            means = "; ".join(f"{_factor_name(factor)}: {', '.join(s.label() for s in speeds)}"
                              for factor, speeds in compared.items())
            smallest = permutation.smallest_p(self.n_seeds, self.n_seeds)
            seeds = "one seed" if self.n_seeds == 1 else f"{self.n_seeds} seeds"
            return [f"With {seeds} per variant no difference can reach "
                    rf"$\alpha = {ALPHA:g}$ (the smallest possible $p$ is {num(smallest, 2)}), so none "
                    f"is called: {means}."]
        return [f"Of the {_factor_name(factor)}, {self._ranking(speeds)}."
                for factor, speeds in compared.items()]

    def comparisons(self) -> list[Comparison]:
        """Every comparison the rankings make (the fastest of each factor against each other
        variant), with its effect and p-value, for the appendix."""
        return [compare(best, other, factor)
                for factor, (best, *others) in self._compared().items() for other in others]

    def fastest(self) -> str:
        """For the summary: 'fastest: ReLU, learning rate 0.1 or 0.05 (not told apart)', the value
        of each compared factor that converged fastest; '' when no difference can be called."""
        if not decidable(self.n_seeds):
            return ""
        found = []
        for factor, (best, *others) in self._compared().items():
            level = [s.name for s in others if faster(best, s) == 0]
            prefix = "learning rate " if factor == "lr" else ""
            found.append(f"{prefix}{join([best.name, *level], 'or')} (not told apart)" if level
                         else f"{prefix}{best.name}")
        return f"fastest: {', '.join(found)}" if found else ""

    def _ranking(self, speeds: list[Speed]) -> str:
        best, others = speeds[0], speeds[1:]  # best first: no other is faster than it
        behind = join(s.label() for s in others if faster(best, s) > 0)
        level = join(s.label() for s in others if faster(best, s) == 0)
        seeds = over_seeds(self.n_seeds)
        if len(others) == 1:
            if behind:
                return f"{best.label()} converged faster than {behind}"
            return f"{best.label()} and {level} cannot be told apart {seeds}"
        if not level:
            return f"{best.label()} converged fastest, ahead of {behind}"
        if not behind:
            return f"{best.label()} led, but {level} cannot be told apart from it {seeds}"
        return (f"{best.label()} converged fastest, ahead of {behind}, while {level} cannot be "
                f"told apart from it {seeds}")

    def draft_claims(self) -> list[Verdict]:
        """The draft's Task 1 claims that this configuration tests, each with its verdict."""
        return [v for v in (self._draft_sigmoid(), self._draft_lr()) if v is not None]

    def _draft_sigmoid(self) -> Verdict | None:
        speeds = self._speeds("activation")
        if not {"relu", "sigmoid"} <= speeds.keys():
            return None
        said = rf"that sigmoid needs about ${DRAFT['sigmoid_epochs_ratio']}\times$ as many epochs as ReLU"
        order = faster(speeds["relu"], speeds["sigmoid"])
        reason = self._epochs_to_target("relu", "sigmoid")
        if order > 0:  # the ranking of the activations says "slower"; the reason adds how much
            return Verdict("sigmoid", said, "is confirmed in direction", reason)
        if order < 0:
            return Verdict("sigmoid", said, "is contradicted", f"sigmoid converged faster; {reason}")
        return Verdict("sigmoid", said, "is not decided",
                       f"the two cannot be told apart {over_seeds(self.n_seeds)}; {reason}")

    def _epochs_to_target(self, fast: str, slow: str) -> str:
        """What "epochs to reach the target" says of two activations, as a clause."""
        variants = self.q1["ablations"]["activation"]["variants"]
        a, b = (variants[v]["epochs_to_target_mean"] for v in (fast, slow))
        names = {v: display(v) for v in (fast, slow)}
        target = pct(self.q1["config"]["target_test_acc"], 0)
        within = f"within {counted(self.q1['config']['epochs'], 'epoch')}"
        if a is not None and b is not None and a <= FIRST_EVALUATION:
            # the first evaluation is after epoch 1: reaching the target there bounds the ratio
            return (rf"to reach {target}, {names[slow]} needed {num(b, 1)} epochs on average and "
                    rf"{names[fast]} reached it by its first evaluation, after one epoch: at least "
                    rf"{num(b / a, 1)}$\times$ as many")
        if a is not None and b is not None:
            return (rf"to reach {target}, {names[slow]} needed {num(b / a, 1)}$\times$ the epochs "
                    rf"of {names[fast]}")
        if a is None and b is None:
            return f"neither reached {target} {within}"
        missed, reached = (names[slow], names[fast]) if b is None else (names[fast], names[slow])
        return f"{missed} did not reach {target} {within}, {reached} did"

    def _draft_lr(self) -> Verdict | None:
        by_lr = {float(value): speed for value, speed in self._speeds("lr").items()}
        base = by_lr.get(DRAFT["lr"])
        larger = [speed for lr, speed in sorted(by_lr.items()) if lr > DRAFT["lr"]]
        if base is None or not larger:
            return None
        said = f"that learning rate {base.name} converges faster than {join(s.name for s in larger)}"
        ahead = join(s.name for s in larger if faster(s, base) > 0)
        behind = join(s.name for s in larger if faster(base, s) > 0)
        level = join(s.name for s in larger if faster(base, s) == 0)
        if ahead:
            return Verdict("learning-rate", said, "is contradicted", f"{ahead} converged faster")
        if not level:
            return Verdict("learning-rate", said, "is confirmed", f"{base.name} converged faster than {behind}")
        also = f", though it converged faster than {behind}" if behind else ""
        return Verdict("learning-rate", said, "is not decided",
                       f"{level} cannot be told apart from it {over_seeds(self.n_seeds)}{also}")

    # --- Task 2 -------------------------------------------------------------------------------

    def memorises(self, kind: str) -> str:
        """'memorises' or 'does not memorise', for the `random` or `draft` runs."""
        return "memorises" if memorised(self.q2[kind]) else "does not memorise"

    def random_training(self) -> str:
        """How the random-label training ended, and whether that is memorising."""
        r = self.q2["random"]
        fitted = ("every training label fitted" if r["train_acc_mean"] == 1.0
                  else f"{pct(r['train_acc_mean'], 1)} of the training labels fitted")
        verdict = ("the labels are memorised" if memorised(r) else
                   f"the labels are not memorised (that needs a loss under {num(MEMORISED_TRAIN_LOSS, 2)} "
                   f"and every label fitted, on every seed)")
        return f"ended at {sci(r['final_train_loss_mean'])} with {fitted}: {verdict}"

    def draft_setting(self) -> str:
        d = self.q2["draft"]
        if memorised(d):
            return f"reaches a training loss of {sci(d['final_train_loss_mean'])}: it memorises the labels"
        return (f"only reaches a training loss of {num(d['final_train_loss_mean'], 3)}: "
                f"it does not memorise the labels")

    def test_loss_vs_ln2(self, kind: str = "random") -> str:
        """Whether the `random` or `control` runs' test loss is above ln 2, on every seed."""
        per_seed = self.q2[kind]["test_loss_per_seed"]
        every = " on every seed" if len(per_seed) > 1 else ""
        if min(per_seed) > self.q2["ln2"]:
            return rf"above $\ln 2${every}"
        if max(per_seed) < self.q2["ln2"]:
            return rf"below $\ln 2${every}"
        return r"around $\ln 2$ (above it on some seeds, below on others)"

    def control_loss(self) -> str:
        """What the control's test loss shows beside its accuracy, as a clause ('' if nothing)."""
        k = self.q2["control"]
        above = min(k["test_loss_per_seed"]) > self.q2["ln2"]
        informative = versus_chance(k["test_acc_mean"], self.q2["n_test"]) == "above chance level"
        if above and informative:
            return (": its predictions carry information, yet its confident mistakes keep the mean "
                    r"loss above $\ln 2$, which alone does not show that nothing generalises")
        return ""

    def test_acc_vs_chance(self, kind: str) -> str:
        return versus_chance(self.q2[kind]["test_acc_mean"], self.q2["n_test"])

    def chance_margin(self) -> str:
        """Half the width of the chance band, as a percentage."""
        return pct(CHANCE_STANDARD_ERRORS * math.sqrt(0.25 / self.q2["n_test"]), 1)

    def q2_conclusion(self) -> str:
        """': memorisation without generalisation' when the numbers show exactly that."""
        r = self.q2["random"]
        shown = (memorised(r) and min(r["test_loss_per_seed"]) > self.q2["ln2"]
                 and self.test_acc_vs_chance("random") == "at chance level")
        return ": memorisation without generalisation" if shown else ""
