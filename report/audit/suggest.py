"""For a number typed by hand: the expressions that print it, chosen by meaning as well as value.

The meaning comes from the words beside the number ("10 epochs", "learning rate 0.1", "128
units", "97 % test accuracy"; "two hidden layers" counts layers, "batches of 32 images" is a
batch size): only keys of that kind are offered. Only the template's task's keys are offered,
another task's when the sentence names it ("Task~2's"). A constant of the problem ("50 %
chance") is declared with typed(...), and a ratio ("twice as fast") is no result. Values are those
of this build and of the full configuration in config.toml (a quick draft's "10 epochs" means the
full run's epochs, printed by ((( q1.config.epochs ))), which shows 2 in the quick build). When
several keys fit, all are listed.
"""
from __future__ import annotations

import dataclasses
import re

from report.render.marks import TrackedFloat, TrackedInt, track

# (words beside the number, the keys that hold such a number)
MEANINGS = [
    (r"epochs?", r"(?:^|\.)(?:epochs|draft_epochs|epochs_to_target_mean)$|epochs_to_train_loss"),
    (r"learning[- ]rates?|lrs?|step[- ]sizes?", r"(?:^|\.)(?:lr|draft_lr)$|ablate_lr\[\d+\]$|\.lr$"),
    # a count of layers ("two hidden layers"): how many, not how wide
    (r"hidden layers", r"hidden\|length$"),
    (r"units?|neurons?|hidden|wid(?:e|th)|layers?|network|architecture", r"hidden\[\d+\]$|layers\[\d+\]$"),
    (r"pixels?|inputs?|input (?:size|features|dimensions?)|features", r"layers\[0\]$"),
    (r"outputs?|classes|logits", r"layers\[\d+\]$"),
    (r"seeds?", r"seeds(?:\[\d+\]|\|length)$"),
    (r"(?:mini-?)?batch(?:es)?|batch size", r"batch_size$"),
    (r"train(?:ing)? (?:images?|examples?|samples?|digits?|labels?|points?|set)", r"n_train$|train_monitor_size$"),
    (r"test (?:images?|examples?|samples?|digits?|labels?|points?|set)", r"n_test$"),
    (r"images?|examples?|samples?|digits?|labels?|points?", r"n_train$|n_test$|train_monitor_size$"),
    (r"test accura\w*", r"test_acc"),
    (r"train(?:ing)? accura\w*", r"train_acc"),
    (r"accura\w*|correct|right", r"acc"),
    (r"loss(?:es)?|nats?|entropy", r"loss"),
    (r"seconds?|minutes?|time", r"wall_time"),
]
# Words that make a number a constant of the problem, not a result: declare it with typed(...)
CONSTANT = r"chance|guess\w*|balanced|fair coin|coin[- ]flips?|uniform(?:ly)?|by definition|at random"
# A ratio of two results ("twice as fast", "3 times faster"): no key holds it
RATIO = re.compile(r"^(?:twice|thrice|double|triple|half)\b|^\s*(?:times|x|\u00d7|-fold)\b", re.IGNORECASE)
RATIO_AFTER = re.compile(r"^\s*(?:times|x|\u00d7|-?fold)?\s*(?:as\s+\w+\b|faster|slower|more|fewer|less|"
                         r"longer|shorter|higher|lower|larger|smaller|the)\b", re.IGNORECASE)
MEANINGS.append((CONSTANT, CONSTANT))  # the nearest words decide: "50 % chance", "128 training labels"
NEAR = 40  # characters on each side of the number that say what it is
# Records of how the results were made, never what a sentence means by a number
UNSUGGESTED = r"provenance|n_runs|saved_seed|\.seeds\["


class Suggestions:
    """Built once per build from the context; called with a typed number and its surroundings."""

    def __init__(self, context: dict, full_config: dict | None = None):
        self.numbers = list(_tracked([context.get(k) for k in ("q1", "q2")]))
        self.numbers += [track(len(seeds), f"{seeds._source}|length")
                         for seeds in _lists(context, "seeds")]
        self.numbers += [track(len(hidden), f"{hidden._source}|length") for hidden in _lists(context, "hidden")]
        self.full = {}  # key -> the full configuration's value, when a quick build differs
        for task, section in (full_config if full_config is not None else _full_config(context)).items():
            for number in _tracked([track(section, f"{task}.config")]):
                self.full[number._source] = float(number)
            if isinstance(section.get("hidden"), list):
                self.full[f"{task}.config.hidden|length"] = float(len(section["hidden"]))

    def __call__(self, typed: str, before: str = "", after: str = "", template: str = "") -> str | None:
        before, after = re.split(r"[.;!?]\s", before)[-1], re.split(r"[.;!?](?:\s|$)", after)[0]
        value, places, percent = _parse(typed)
        if value is None:
            return None
        task = re.sub(r"^templates/|\.tex\.j2$", "", template)
        if RATIO.search(typed) and RATIO_AFTER.match(after) or re.match(r"\s*(?:times|-?fold)\b", after):
            return ("a ratio of two results is no result: print both values, or let claims word the "
                    "comparison: ((( claims.rankings()|join(\" \") )))")
        keys = _meaning(before, after)
        if keys == CONSTANT:
            shown = f"{value / 100:g}" if percent else f"{value:g}"
            what = "chance level" if percent and re.search("chance|guess", before + after, re.I) else "what it is"
            return (f"a constant of the problem, not a result: declare it with what it is, "
                    f"((( {shown}|typed(\"{what}\"){'|pct(' + str(places) + ')' if percent else ''} )))")
        labelled = (re.search(r"\bTask\W{0,2}([12])(?:'s)?\W+(?:\w+\W+){0,3}$", before[-NEAR:])
                    or re.match(r"\W*(?:\w+\W+){0,3}(?:of|in|for) Task\W{0,2}([12])\b", after))
        if labelled:  # "Task 2's 128 images": that task's keys
            task = f"q{labelled.group(labelled.lastindex)}"
        if percent and (keys is None or "acc" not in keys):
            keys = "acc"  # a percentage here is always an accuracy
        fits = []
        for number in self.numbers:
            key = number._source
            if keys is not None and not re.search(keys, key) or re.search(UNSUGGESTED, key):
                continue
            values = {float(number), self.full.get(key, float(number))}
            exact = ".config." in key  # a setting is what it is: 0.05 is not a typed "0.1"
            if any(v == value if exact and not percent else _prints(v, value, places, percent)
                   for v in values):
                fits.append((key, float(number)))
        fits = sorted(set(fits), key=lambda f: (not f[0].startswith(task + "."), "[" in f[0], len(f[0])))
        own = [f for f in fits if f[0].startswith(task + ".")] if task in ("q1", "q2") else fits
        if not own and keys is not None and task in ("q1", "q2"):
            return self._by_meaning(keys, task, typed)
        chosen = own if task in ("q1", "q2") else fits  # another task's key only when labelled
        if not chosen:
            return None
        shown = [self._shown(key, current, places, percent, task) for key, current in chosen[:5]]
        also = f"; these fit too: {', '.join(shown[1:])}" if len(shown) > 1 else ""
        return f"write {shown[0]} instead{also}"

    def _shown(self, key: str, current: float, places: int, percent: bool, task: str) -> str:
        expression = f"((( {key}|{'pct' if percent else 'num'}({places}) )))"
        notes = []
        if key in self.full and self.full[key] != current:
            notes.append(f"{_value(current)} in this quick build, {_value(self.full[key])} in the full one")
        if task in ("q1", "q2") and not key.startswith(task + "."):
            notes.append(f"Task {key[1]}'s, not this section's")
        return expression + (f" ({'; '.join(notes)})" if notes else "")

    def _by_meaning(self, keys: str, task: str, typed: str) -> str | None:
        """No key of this kind holds the typed value: the keys of this kind, with their values."""
        kind = [n for n in self.numbers if re.search(keys, n._source) and n._source.startswith(task + ".")]
        kind = sorted(kind, key=lambda n: ("[" in n._source, len(n._source)))[:3]
        if not kind:
            return None
        listed = ", ".join(f"((( {n._source} ))) = {_value(float(n))}" for n in kind)
        return f"no result of this kind holds {typed.strip()}: this section's are {listed}"


def _meaning(before: str, after: str) -> str | None:
    """The keys the words nearest the number point at, or None when none say what it is."""
    owner = re.search(r"([\w-]+(?:\s[\w-]+)?)\s+of\s*$", before)
    if owner:  # "mini-batches of 32 images", "a learning rate of 0.1": what the number is of
        for words, keys in MEANINGS:
            if re.search(rf"\b(?:{words})$", owner.group(1), re.IGNORECASE):
                return keys
    best = None
    for words, keys in MEANINGS:
        pattern = re.compile(rf"\b(?:{words})\b", re.IGNORECASE)
        hits = [m.start() for m in pattern.finditer(after[:NEAR])]
        window = before[-NEAR:]
        hits += [len(window) - m.end() + 1 for m in pattern.finditer(window)] if not hits else []
        if hits and (best is None or min(hits) < best[0]):
            best = (min(hits), keys)
    return best[1] if best else None


WORDS = {w: n for n, w in enumerate("zero one two three four five six seven eight nine ten eleven "
                                    "twelve thirteen fourteen fifteen sixteen seventeen eighteen "
                                    "nineteen".split())}
WORDS.update({w: 10 * n for n, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)})
WORDS.update(hundred=100, thousand=1000, half=0.5, twice=2, double=2)


def _spelled(typed: str) -> float | None:
    """ninety-seven -> 97, ten -> 10, half -> 0.5 (the first quantity said)."""
    words = re.findall(r"[a-z]+", typed.lower())
    total = None
    for word in words:
        if word in WORDS:
            total = (total or 0) + WORDS[word] if (total or 0) % 10 == 0 and WORDS[word] < 10 else WORDS[word]
        elif total is not None:
            break
    return total


def _parse(typed: str) -> tuple[float | None, int, bool]:
    percent = bool(re.search(r"%|percent|cent", typed))
    if not re.search(r"\d", typed):
        spelled = _spelled(typed)
        return spelled, 0, percent
    digits = re.sub(r"[\s\u00a0\u2009,]|\{,\}", "", typed).replace("\u2212", "-")
    found = re.search(r"-?\d+(?:\.\d+)?", digits)
    if found is None:
        return None, 0, percent
    text = found.group()
    return float(text), len(text.split(".")[1]) if "." in text else 0, percent


def _prints(value: float, typed: float, places: int, percent: bool) -> bool:
    if percent:
        return 0 <= value <= 1 and f"{100 * value:.{places}f}" == f"{typed:.{places}f}"
    if value == 0:
        return False
    # a whole number must be the value itself: 0.693 is not what a typed "1" meant
    return value == typed if places == 0 else f"{value:.{places}f}" == f"{typed:.{places}f}"


def _value(value: float) -> str:
    return f"{value:g}"


def _tracked(values):
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, (TrackedFloat, TrackedInt)):
            yield value
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def _lists(context: dict, name: str):
    stack = [context.get(k) for k in ("q1", "q2")]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(v for k, v in value.items() if k != name)
            if isinstance(value.get(name), list) and hasattr(value[name], "_source"):
                yield value[name]


def _full_config(context: dict) -> dict:
    """The task sections of config.toml as the full build reads them, in a quick build."""
    if not context.get("quick"):
        return {}
    if "full_config" in context:  # given (the tests pin it); else config.toml as it is now
        return context["full_config"]
    try:
        from pipeline import config
        sections = config.load(quick=False)
        return {name: dataclasses.asdict(sections[name]) for name in ("q1", "q2") if name in sections}
    except Exception:  # an invalid config.toml is reported by the build itself
        return {}
