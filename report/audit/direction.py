"""What a declared claim's sentence says, read against what it declares (docs/audit.md, rule 3).

    said = direction.read(words, mentions, factor, first, second)   # ">", "<", "~", "differ" or None

The sentence's subject is the first declared variant it names that no preposition makes an
object (than, over, to, with, behind, compared with: "Compared with sigmoid, ReLU won" is about
ReLU); after "which" it is the variant just named. Its comparative words give a direction about
the subject (faster, better, sooner, outperformed, beat, won, edge, ahead: the subject's way;
slower, worse, later, trailed, behind, lagged, cannot keep up: the other's), a negation in the
three words before one flips it (not, never, n't, no, cannot), a passive ("was beaten by")
turns it round, and "lower loss" or "fewer epochs" is better. Words of no difference (could not
be told apart, no clear difference, comparable, similar, on par) say "~". `second_comparison`
finds another factor the sentence compares beside the declared one ("..., as did the larger
learning rate").
"""
from __future__ import annotations

import re

from report.audit.comparisons import COMPARATIVE, FACTOR_NOUN, FACTOR_WORDS, VALUE_WORDS, plain

_UP = (r"faster|fastest|quicker|quickest|more quickly|more rapidly|sooner|earlier|better|best|"
       r"higher|highest|stronger|superior|ahead|lead(?:s|ing)?|led|top|edge[ds]?|edging|"
       r"outperform\w*|outpac\w*|overtak\w*|overtook|surpass\w*|exceed\w*|beat(?:s|en|ing)?|"
       r"win(?:s|ning|ner)?|won|dominat\w*|advantage\w*|upper hand|sped up|speeds? up|"
       r"out(?:ran|run\w*|did|do(?:es|ne)?|class\w*|shone|shin\w*|last\w*|strip\w*|scor\w*)|"
       r"(?:keep|keeps|kept|keeping) (?:up|pace)|catch(?:es)? up|caught up|match(?:es|ed|ing)?|"
       r"as (?:fast|quick|quickly|rapidly|well|good|accurate) as|fast|quickly|rapidly|well|above")
_DOWN = (r"slower|slowest|more slowly|later|worse|worst|lower|lowest|weaker|inferior|behind|"
         r"trail\w*|lag(?:s|ged|ging)?|los(?:e|es|t|ing)|underperform\w*|slow\w* down|struggl\w*|"
         r"slow|slowly|poorly|below")
_SAME = (r"(?:told|tell) apart|indistinguishabl\w*|comparabl\w*|similar\w*|on par|par with|"
         r"(?:about|roughly|nearly|much|exactly|just) the same|the same as|equal(?:ly)?|tie[ds]?|"
         r"(?:no|not|n't|without)(?: \w+){0,2} (?:differen\w*|differ\w*|gap|advantage)|"
         r"neither\b.*\b(?:faster|slower|better|worse)")
_DIFFER = r"differen\w*|differ\w*|gap|apart|margin"
UP, DOWN = re.compile(rf"\b(?:{_UP})\b", re.I), re.compile(rf"\b(?:{_DOWN})\b", re.I)
SAME, DIFFER = re.compile(rf"\b(?:{_SAME})\b", re.I), re.compile(rf"\b(?:{_DIFFER})\b", re.I)
EVEN = re.compile(r"keep|kept|catch|caught|match|^as ", re.I)  # words of keeping level with the other
NEGATION = re.compile(r"\b(?:not|never|no|cannot|neither|nor|hardly|failed to|fails to)\b|n't\b", re.I)
# A variant after one of these is the object of the comparison, not its subject
OBJECT = re.compile(r"\b(?:than|over|to|with|against|behind|from|unlike|versus|vs\.?|by|beside|"
                    r"relative to|compared (?:to|with))\s+(?:the\s+)?(?:\w+\s+)?$", re.I)
EXCLUDED = re.compile(r"\b(?:not|rather than|instead of)\s+(?:the\s+)?$", re.I)  # "sigmoid, not ReLU, won"
PASSIVE = re.compile(r"\b(?:was|were|is|are|be|been|being|got|gets)\s+(?:\w+\s+)?$", re.I)
# "lower loss", "fewer epochs", "more epochs": the measure decides which way is better
COSTS = re.compile(r"^\s+(?:\w+\s+)?(?:loss(?:es)?|errors?|epochs?|steps?|iterations?|time)\b", re.I)
MORE_LESS = re.compile(r"\b(?:(more|fewer|less)\s+(?:\w+\s+)?(?:epochs?|steps?|iterations?|time))\b", re.I)
WORDS_OF = {">": "{a} converged faster than {b}", "<": "{b} converged faster than {a}",
            "~": "{a} and {b} could not be told apart", "not>": "{a} did not converge faster than {b}",
            "not<": "{b} did not converge faster than {a}", "differ": "{a} and {b} differ, not which way",
            None: "no comparison of {a} and {b}"}


def read(words: str, mentions: list[tuple[int, str]], first: str, second: str):
    """(what the words say about `first` against `second`, the words that say it). `mentions`:
    (index in words, the declared variant it names: first or second), in order."""
    text = plain(words)
    found = []  # (relation about first, the word), for each comparative word about a variant
    for pattern, sign in ((UP, 1), (DOWN, -1)):
        for match in pattern.finditer(text):
            relation = _direction(text, match, sign, mentions, first, second)
            if relation:
                found.append((relation, match.group()))
    for match in MORE_LESS.finditer(text):
        subject = _subject(text, mentions, match.start(), first, second)
        if subject is not None:
            up = match.group(1).lower() != "more"
            found.append((">" if up == (subject == first) else "<", match.group()))
    same = SAME.search(text)
    if same and not re.fullmatch(r"(?i)(?:told|tell) apart", same.group()) or (
            same and _negated(text, same.start())):
        return "~", same.group()
    if found:
        relation, word = found[0]
        contrary = [f for f in found if f[0] != relation]
        return (relation, word) if not contrary else ("both", f"{word}, {contrary[0][1]}")
    differ = DIFFER.search(text)
    if differ and not _negated(text, differ.start()):
        return "differ", differ.group()
    return None, ""


def _direction(text: str, match, sign: int, mentions, first: str, second: str) -> str | None:
    """What one comparative word (`sign` 1: the subject's way) says about first against second."""
    if SIZED.match(text, match.start()):  # "the higher learning rate" names a variant
        return None
    at, word = match.start(), match.group().lower()
    left = re.search(r"\b(?:left|leaves?|leaving)\b(?:\s+\S+){0,4}\s*$", text[:at], re.I)
    if word == "behind" and left:
        sign, at = 1, left.start()  # "ReLU left sigmoid behind": about ReLU
    if word in ("lower", "lowest", "higher", "highest") and COSTS.match(text[match.end():]):
        sign = -sign  # lower loss is better
    subject = _subject(text, mentions, at, first, second)
    if subject is None:
        return None
    if PASSIVE.search(text[:match.start()]) and re.match(r"\s+by\b", text[match.end():], re.I):
        sign = -sign  # "was beaten by"
    relation = ">" if (sign > 0) == (subject == first) else "<"
    negated = _negated(text, match.start())
    if EVEN.search(word):  # "cannot keep up": slower; "kept up": the same
        return {">": "<", "<": ">"}[relation] if negated else "~"
    return "not" + relation if negated else relation  # "not faster": at most as fast


def _negated(text: str, at: int) -> bool:
    before = " ".join(re.findall(r"[\w']+", text[:at])[-3:])
    return bool(NEGATION.search(before)) and NEGATION.search(before).group().lower() not in ("nor",) \
        and not re.search(r"\bnot only\b", before, re.I)


def _subject(text: str, mentions, at: int, first: str, second: str) -> str | None:
    """The declared variant a comparative word at `at` is about."""
    before = [(i, v) for i, v in mentions if i < at and not EXCLUDED.search(text[max(0, i - 20):i])]
    if before and re.search(r"\b(?:which|who|that)\b", text[before[-1][0]:at], re.I):
        return before[-1][1]
    subjects = [(i, v) for i, v in mentions if not OBJECT.search(text[max(0, i - 40):i])
                and not EXCLUDED.search(text[max(0, i - 20):i])]
    nearest = [v for i, v in subjects if i < at][-1:] or [v for i, v in subjects]
    if nearest:  # the variant named last before the word, not as an object, is what it is about
        return nearest[0]
    objects = {v for _, v in mentions}
    if len(objects) == 1:  # only the object is named ("better than sigmoid"): the other one
        return first if objects == {second} else second
    # every variant after a preposition ("with ReLU ... than with sigmoid"): the one named first
    return (before or mentions or [(0, None)])[0][1]


def allows(declared: str, said: str | None) -> bool:
    """Whether what the words say states the declared relation."""
    if declared == "~":
        return said in ("~", None, "not>", "not<")
    return said == declared


def describe(said: str | None, a: str, b: str) -> str:
    return WORDS_OF.get(said, "{a} faster than {b} and the reverse").format(a=a, b=b)


OTHER_MODIFIER = re.compile(r"\b(?:larger|smaller|higher|lower|bigger|wider|deeper|narrower|shallower|"
                            r"more|fewer|other|second|alternative)\s+(?:\w+\s+)?$", re.I)
COMPARATIVE_NAME = re.compile(r"wider|deeper|narrower|shallower|more|fewer|bigger|smaller|larger", re.I)
CONDITION = re.compile(r"\b(?:same|fixed|identical|default|shared|common|main|given|every|each|one)\s+(?:\w+\s+)?$", re.I)


def second_comparison(words: str, factor: str) -> str | None:
    """Another factor compared inside the claim's sentence, as the message names it; or None."""
    text = plain(words)
    for other, pattern in FACTOR_WORDS.items():
        if other in (factor, "configuration"):
            continue
        for match in pattern.finditer(text):
            before = text[max(0, match.start() - 40):match.start()]
            after = re.split(r"[,;:()]|\b(?:and|but|while|whereas)\b", text[match.end():])[0]
            compared = (OTHER_MODIFIER.search(before) or COMPARATIVE_NAME.match(match.group())
                        or re.search(r"\b(?:as|so) (?:did|does|was|were|had)\b", before, re.I)
                        or COMPARATIVE.search(after) or UP.search(after) or DOWN.search(after))
            if compared and not CONDITION.search(before):
                return f'"{match.group()}" ({FACTOR_NOUN.get(other, other)})'
    return None


def mentions(text: str, factor: str, first: str, second: str) -> list[tuple[int, str]]:
    """(index, first or second) for each naming of a declared variant in the words."""
    text = plain(text)
    found = []
    numbers = {declared: _number(declared) for declared in (first, second)}
    if None not in numbers.values():  # 0.1 written 0.10; "the larger rate": the larger value
        for match in re.finditer(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.]\d)", text):
            found += [(match.start(), d) for d, n in numbers.items() if float(match.group()) == n]
        for match in SIZED.finditer(text):
            pick = max if match.group(1).lower() in ("larger", "higher", "bigger", "wider", "deeper") else min
            found.append((match.start(), pick(numbers, key=numbers.get)))
    for declared in (first, second):
        patterns = [re.compile(r"(?<![\w.])" + re.escape(declared) + r"(?![\w]|\.\d)", re.I)]
        patterns += [pattern for (f, value), pattern in VALUE_WORDS.items()
                     if f == factor and (value == declared.lower() or pattern.fullmatch(declared))]
        found += [(m.start(), declared) for p in patterns for m in p.finditer(text)]
    return sorted(set(found))


# A variant named by its size: "the larger learning rate", "the smaller network"
SIZED = re.compile(r"\b(larger|higher|bigger|wider|deeper|smaller|lower|narrower|shallower)\s+"
                   r"(?:learning\s+)?(?:rates?|lrs?|step sizes?|networks?|models?|nets?|ones?)\b", re.I)


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None
