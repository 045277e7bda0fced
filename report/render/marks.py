"""Where each inserted piece of the report came from: tracked values and invisible marks.

The renderer hands the templates their data as *tracked* values: every number and string read
from results/ or the configuration remembers its source ("q1.main.test_acc_mean"), and keeps it
through the arithmetic and filters a template applies (`|length`, `|round`, `/`). A number typed
in a template has no source.

Whatever a `((( expression )))` prints passes through `finalize`, and every sanctioned piece (a
formatted number, an equation from eq(), a sentence from `claims`, a text value from the results)
is wrapped in invisible marks that say what it is and where it came from:

    \\x02 <kind> \\x1f <source> \\x1f <checksum of the LaTeX> \\x1e <the LaTeX inserted> \\x03

The checksum (keyed by a secret drawn at start, so a template cannot compute one) catches a piece
changed after it was marked, such as an equation's LaTeX put through `replace`, and a mark typed
by hand (`"%c..."|format(2, ...)`).

report/audit/prose.py reads the marks back: what lies outside them was typed in the template, and is
what it scans for numbers, relations and verdict words. The marks are removed before LaTeX sees
the text.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets

from report.errors import ReportError
from dataclasses import dataclass

OPEN, SEP, TEXT, CLOSE = "\x02", "\x1f", "\x1e", "\x03"
MARK = re.compile(f"{OPEN}([a-z]+){SEP}([^{TEXT}]*?){SEP}([0-9a-f]{{8}}){TEXT}|{CLOSE}")
CONTROL = re.compile("[\x00-\x1f]")


@dataclass
class Record:
    """One inserted piece: what kind it is, where it came from, the LaTeX it printed."""
    kind: str       # number | typed | untracked | value | relation | definition | claim
    source: str     # results or config key, identity id and part, claims call, or description
    text: str       # the LaTeX inserted


class Tracked:
    """A value read from the results or the configuration, with the key it was read from."""
    _source: str = ""     # underscored: the sandbox keeps templates from reading or setting it
    _typed: bool = False   # a fact from elsewhere, declared in a template with `typed`


def _numeric(value, source: str, typed: bool = False):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    out = (TrackedInt if isinstance(value, int) else TrackedFloat)(value)
    out._source, out._typed = source, typed
    return out


def _plain(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return float(value) if isinstance(value, float) else int(value)


# A result scaled to a unit (x 100 for percent points) is still the result; any other typed
# operand makes a number the results do not hold, typed in part: it is no longer tracked.
NEUTRAL_OPERANDS = {"*": (100, 1000, 1, 0.01), "/": (100, 1000, 1), "+": (0,), "-": (0,)}


def _arithmetic(symbol: str, op, reflected: bool = False):
    def method(self, other=None):
        a, b = _plain(self), _plain(other)
        result = op(a) if other is None and op.__code__.co_argcount == 1 else (
            op(b, a) if reflected else op(a, b))
        if other is not None and not isinstance(other, Tracked) and \
                other not in NEUTRAL_OPERANDS.get(symbol, ()):
            return result  # a number typed into the arithmetic: the audit reports it
        # a literal operand is named in the source too: `x * 0 + 97` shows what was typed
        other_source = getattr(other, "_source", "") or ("" if other is None else repr(_plain(other)))
        sources = [s for s in ((other_source, self._source) if reflected else
                               (self._source, other_source)) if s]
        typed = self._typed or getattr(other, "_typed", False)
        return _numeric(result, f" {symbol} ".join(sources), typed)
    return method


class _Arithmetic(Tracked):
    """Arithmetic keeps the source: `epochs|sum / epochs|length` is still from the results."""
    __add__ = _arithmetic("+", lambda a, b: a + b)
    __radd__ = _arithmetic("+", lambda a, b: a + b, reflected=True)
    __sub__ = _arithmetic("-", lambda a, b: a - b)
    __rsub__ = _arithmetic("-", lambda a, b: a - b, reflected=True)
    __mul__ = _arithmetic("*", lambda a, b: a * b)
    __rmul__ = _arithmetic("*", lambda a, b: a * b, reflected=True)
    __truediv__ = _arithmetic("/", lambda a, b: a / b)
    __rtruediv__ = _arithmetic("/", lambda a, b: a / b, reflected=True)
    __neg__ = _arithmetic("-", lambda a: -a)
    __abs__ = _arithmetic("abs", lambda a: abs(a))

    def __round__(self, digits=None):
        return _numeric(round(_plain(self), digits), self._source, self._typed)


class TrackedInt(_Arithmetic, int):
    pass


class TrackedFloat(_Arithmetic, float):
    pass


class TrackedStr(Tracked, str):
    def __getitem__(self, index):  # a slice of a hash is still the hash
        return _text(str.__getitem__(self, index), self._source)


def _text(value: str, source: str) -> TrackedStr:
    out = TrackedStr(value)
    out._source = source
    return out


class TrackedDict(Tracked, dict):
    pass


class TrackedList(Tracked, list):
    pass


def child(source: str, key) -> str:
    """The Jinja expression of a key below `source`: q1.main, or q1.variants["0.05"]."""
    if isinstance(key, str) and key.isidentifier():
        return f"{source}.{key}"
    return f"{source}[{json.dumps(key)}]"


def track(value, source: str):
    """The value with every number and string in it tracked, keyed by its path below `source`."""
    if isinstance(value, Tracked):
        return value
    if isinstance(value, dict):
        out = TrackedDict({_text(str(k), f"{source} key") if isinstance(k, str) else k:
                           track(v, child(source, k)) for k, v in value.items()})
    elif isinstance(value, (list, tuple)):
        out = TrackedList(track(v, f"{source}[{i}]") for i, v in enumerate(value))
    elif isinstance(value, str):
        return _text(value, source)
    else:
        return _numeric(value, source)
    out._source = source
    return out


def typed(value, what: str = ""):
    """A number from elsewhere (the draft's 89 %, a year), declared as such by the template, with
    what it is: the appendix lists it under that description."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ReportError(f"typed takes a number, not {value!r}")
    if not str(what).strip():
        raise ReportError(f'typed needs to say what the number is: ((( {value}|typed("the draft\'s '
                          f'test accuracy") )))')
    return _numeric(float(value) if isinstance(value, float) else int(value), what, typed=True)


def number_kind(value) -> str:
    if isinstance(value, Tracked):
        return "typed" if value._typed else "number"
    return "untracked"


def mark(kind: str, text: str, source: str) -> str:
    """The text wrapped in marks that say what it is and where it came from."""
    if text == "":
        return text
    return f"{OPEN}{kind}{SEP}{CONTROL.sub(' ', str(source))}{SEP}{checksum(text)}{TEXT}{text}{CLOSE}"


def wrap(kind: str, text: str, source: str, checked: str) -> str:
    """Like `mark`, with the checksum of `checked`: the text as the audit will read it (a claim's
    sentence still holds the renderer's line sentinels, which are taken out before the audit)."""
    return f"{OPEN}{kind}{SEP}{CONTROL.sub(' ', str(source))}{SEP}{checksum(checked)}{TEXT}{text}{CLOSE}"


# A key drawn when the renderer starts: a template cannot know it, so it cannot forge a mark
# (format() can type the control characters, not a valid checksum).
KEY = secrets.token_bytes(16)


def checksum(text: str) -> str:
    return hmac.new(KEY, str(text).encode(), hashlib.blake2s).hexdigest()[:8]


def number(text: str, value) -> str:
    """A formatted number: from the results, declared `typed`, or typed by hand ("untracked")."""
    return mark(number_kind(value), text, value._source if isinstance(value, Tracked) else "")


def finalize(value):
    """What a ((( expression ))) prints: marked when it came from the results."""
    if isinstance(value, str) and OPEN in value:
        return value                       # already marked (a filter, eq(), claims)
    if isinstance(value, (TrackedInt, TrackedFloat)):
        return number(str(value), value)
    if isinstance(value, Tracked):
        return mark("value", str(value), value._source)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number(str(value), value)  # untracked: the audit reports it
    return value


def strip(text: str) -> str:
    """The text without its marks, as LaTeX will read it."""
    return MARK.sub("", text)


class AuditedClaims:
    """`claims` as the templates see it: every sentence it returns is marked as a claim, and
    every number (a p-value, an effect) as a number from that call."""

    def __init__(self, claims):
        self._claims = claims

    def __getattr__(self, name: str):
        attribute = getattr(self._claims, name)
        if not callable(attribute):
            return self._marked(attribute, f"claims.{name}")
        return lambda *args, **kwargs: self._marked(attribute(*args, **kwargs), f"claims.{name}()")

    def _marked(self, value, source: str):
        if isinstance(value, str):
            return mark("claim", value, source)
        if isinstance(value, (list, tuple)):
            return [self._marked(v, source) for v in value]
        if isinstance(value, dict):
            return {k: self._marked(v, source) for k, v in value.items()}
        if isinstance(value, (int, float)) or value is None:
            return track(value, source)
        return _AuditedObject(value, self, source)


class _AuditedObject:
    """A result object of `claims` (a Verdict, a Comparison): its attributes marked alike."""

    def __init__(self, wrapped, claims: AuditedClaims, source: str):
        self._wrapped, self._claims, self._source = wrapped, claims, source

    def __getattr__(self, name: str):
        return self._claims._marked(getattr(self._wrapped, name), f"{self._source}.{name}")
