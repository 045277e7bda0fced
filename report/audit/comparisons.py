"""Which sentences compare this report's variants, whatever words they use (docs/audit.md).

A sentence (ended by . ! ? or ;, a paragraph, a table cell, a caption or an item) compares when,
outside a declared claim, it

1. names two different values of one factor (ReLU ... sigmoid; Adam ... SGD; MSE ...
   cross-entropy; random ... real labels; two learning rates inserted from the results) with an
   evaluative word or an outcome (named alone, they are described: "We compare ReLU and
   sigmoid units"), or
2. names one value, the main configuration or the draft's claims or setting, with an evaluative
   word (a comparative or superlative, a ranking: ahead, trails, keeps up, on top, edge; a
   verdict: holds, confirmed, wrong; a difference), or
3. names a factor (activation, learning rate, loss function, width, depth, layers, optimiser)
   with a comparative and a word for what the results measure (converged, learned, accuracy,
   loss, epochs, difference, ...), or
4. gives "the draft" a verdict about a factor ("the draft was right about the activation").

A table row's cells are also read together (report/audit/run.py). A declared claim's own words
are read by direction.py.

A general statement about learning names no value and measures nothing ("a larger learning rate
takes larger steps"): it passes. Values are named by their spelling in the prose, through markup
(Re\\-LU), or by a value inserted from the results (((( c.activation|display ))), a learning rate).
"""
from __future__ import annotations

import re
import unicodedata

FACTORS = {   # factor: (the words naming the factor, {value: the words naming it})
    "activation": (r"activations?|activation functions?|non-?linearit(?:y|ies)",
                   {"relu": r"relus?|rectifiers?|rectified linear(?: units?)?", "sigmoid": r"sigmoid(?:s|al)?|logistic",
                    "tanh": r"tanh|hyperbolic tangent"}),
    "loss": (r"loss functions?|losses|objectives?|choices? of loss",
             {"mse": r"mse|(?:mean )?squared[- ]errors?|l2 loss", "ce": r"cross[- ]?entropy|ce|log[- ]loss"}),
    "lr": (r"learning[- ]rates?|step[- ]sizes?|lrs?", {}),
    "hidden": (r"hidden (?:sizes?|units?|widths?)|widths?|depths?|architectures?|"
               r"network sizes?|wider|deeper|narrower|shallower|(?:bigger|smaller|larger) networks?|"
               r"more (?:units|neurons|layers)|fewer (?:units|neurons|layers)", {}),
    "optimizer": (r"optimi[sz]ers?", {"adam": r"adam", "sgd": r"sgd|(?:plain |stochastic )?gradient descent"}),
    "labels": (r"labels?|labell?ings?",
               {"random": r"random labels?|coin[- ]flips?|random labell?ing",
                "real": r"real labels?|true labels?|parity labels?|the control|control run"}),
    "configuration": (r"configurations?|baselines?",
                      {"main": r"main (?:configuration|model|network|run)|the baseline",
                       "draft": r"(?:the )?draft(?:'s)? (?:claims?|settings?|configuration|network|run|"
                                r"model|learning rate)"}),
}
# Learning rates and optimisers inserted from the results: the keys they come from
VARIANT_KEY = re.compile(r"ablations\.(\w+)\.variants(?:\.([\w-]+)|\[\"([^\"]+)\"\])")
INSERTED_FACTOR = [(re.compile(r"(?:^|\.)(?:lr|ablate_lr\[\d+\]|draft_lr)$"), "lr"),
                   (re.compile(r"optimizer$|draft_optimizer$"), "optimizer"),
                   (re.compile(r"activation$|ablate_activation\[\d+\]$"), "activation"),
                   (re.compile(r"\.loss$|ablate_loss\[\d+\]$"), "loss")]
_COMPARATIVE = (r"faster|fastest|slower|slowest|quicker|quickest|more quickly|sooner|earlier|later|"
                r"higher|highest|lower|lowest|larger|largest|smaller|smallest|greater|greatest|bigger|"
                r"biggest|wider|widest|deeper|deepest|narrower|shallower|stronger|weaker|better|best|"
                r"worse|worst|fewer|fewest|more|most|less|least|"
                r"top|edge[ds]?|edging|lead(?:s|ing)?|led|ahead|behind|trail\w*|lag\w*|beat\w*|win\w*|won|"
                r"los(?:e|es|t|ing)|(?:keep|keeps|kept|keeping) up|catch(?:es)? up|caught up|"
                r"outperform\w*|underperform\w*|outpac\w*|overtak\w*|surpass\w*|exceed\w*|"
                r"out(?:ran|run\w*|did|do(?:es|ne)?|class\w*|shone|shin\w*|last\w*|strip\w*|scor\w*)|"
                r"(?:every|all|any) other|the rest|"
                r"dominat\w*|superior|inferior|advantage\w*|upper hand|on par|par with|rival\w*|"
                r"(?:about|roughly|nearly|much|exactly|just) the same|the same as|as \w+ as|"
                r"equal(?:ly)?|tie[ds]?|differen\w*|differ\w*|gap|margin|improv\w*|degrad\w*|"
                r"hurt\w*|sped up|speed\w* up|slow\w* down|pays? off|paid off")
_VERDICT = (r"hold(?:s|ing)?|held|confirm\w*|contradict\w*|refut\w*|support\w*|wrong|"
            r"correct\w*|incorrect|valid\w*|invalid\w*|disprov\w*|prove[dns]?|agree\w*|"
            r"disagree\w*|(?:was|were|is|are|be|been|proved?)\s+(?:\w+\s+)?right|mistaken|stands?|fast|slow|quick(?:ly)?|well|poor(?:ly)?|good|bad(?:ly)?|clear(?:ly)?|match\w*|"
            r"significant\w*|noticeabl\w*|marked(?:ly)?|substantial\w*|slight(?:ly)?|struggl\w*|"
            r"fail\w*|succeed\w*|excel\w*|shine\w*|impressive\w*|slow\w*|sped|apart|outlast\w*")
COMPARATIVE = re.compile(rf"\b(?:{_COMPARATIVE})\b", re.IGNORECASE)
EVALUATIVE = re.compile(rf"\b(?:{_COMPARATIVE}|{_VERDICT})\b", re.IGNORECASE)
OUTCOME = re.compile(r"\b(?:converg\w*|learn\w*|train\w*|accura\w*|loss(?:es)?|errors?|reach\w*|"
                     r"scor\w*|perform\w*|results?|differen\w*|matter\w*|effects?|help\w*|hurt\w*|"
                     r"speed\w*|fast\w*|slow\w*|quick\w*|epochs?|fit\w*|generali[sz]\w*|"
                     r"memori[sz]\w*|improv\w*|gains?|edge|top|lead\w*|trail\w*|ahead|behind|"
                     r"beat\w*|win\w*|keeps? up|catch(?:es)? up|outperform\w*|advantage|benefit\w*|"
                     r"better|worse|best|worst|progress\w*|pays? off|paid off)\b", re.IGNORECASE)
# What two variants named together must be said to have for the sentence to compare them (how
# they were trained, or for how many epochs, describes them)
RESULT = re.compile(OUTCOME.pattern.replace(r"train\w*|", "").replace(r"epochs?|", ""), re.IGNORECASE)
# Two variants set against each other: a comparison even without a comparative
SET_AGAINST = re.compile(r"\b(?:vs\.?|versus|against|whereas|head[- ]to[- ]head)(?!\w)", re.IGNORECASE)
DRAFT = re.compile(r"\bthe draft\b", re.IGNORECASE)
SENTENCE_END = re.compile(r"(?<!\b[A-Z])(?<!\be\.g)(?<!\bi\.e)(?<!\bet al)(?<!\bFig)(?<!\bEq)"
                          r"[.!?;](?=[\s\u00a0\ufffc\"')]|$)|\n\s*\n")
FACTOR_WORDS = {factor: re.compile(rf"\b(?:{words})\b", re.IGNORECASE)
                for factor, (words, _) in FACTORS.items()}
VALUE_WORDS = {(factor, value): re.compile(rf"\b(?:{words})\b", re.IGNORECASE)
               for factor, (_, values) in FACTORS.items() for value, words in values.items()}


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in the prose."""
    out, start = [], 0
    for match in SENTENCE_END.finditer(text):
        out.append((start, match.end()))
        start = match.end()
    return out + [(start, len(text))]


def plain(text: str) -> str:
    """Ligatures and other compatibility forms as plain letters (ﬁ -> fi); soft hyphens gone."""
    return unicodedata.normalize("NFKC", text).replace("\u00ad", "").replace("\u200b", "").translate(LOOKALIKES)


# Cyrillic and Greek letters drawn like Latin ones: RеLU with a Cyrillic е still names ReLU
LOOKALIKES = str.maketrans("аеорсухіѕјАВЕКМНОРСТХΑΒΕΖΗΙΚΜΝΟΡΤΥΧο", "aeopcyxisjABEKMHOPCTXABEZHIKMNOPTYXo")


def named(text: str, inserted: list[tuple[str, str]] = ()) -> set[tuple[str, str]]:
    """The (factor, value) pairs a sentence names: in its words, or inserted from the results
    as (source, text)."""
    text = plain(text)
    found = {key for key, pattern in VALUE_WORDS.items() if pattern.search(text)}
    for source, shown in inserted:
        variant = VARIANT_KEY.search(source)  # a variant's result names the variant
        if variant:
            found.add((variant.group(1), variant.group(2) or variant.group(3)))
            continue
        for pattern, factor in INSERTED_FACTOR:
            if pattern.search(source):
                found.add((factor, plain(shown).strip().lower()))
        found |= {key for key, pattern in VALUE_WORDS.items() if pattern.search(plain(shown))}
    return found


def factors(text: str) -> set[str]:
    text = plain(text)
    return {factor for factor, pattern in FACTOR_WORDS.items() if pattern.search(text)}


def judge(text: str, inserted: list[tuple[str, str]] = ()) -> tuple[str, int, tuple] | None:
    """Why the sentence is a comparison of this report's variants, where in it, and what it names
    (its factor and values, for the claim that would declare it); or None."""
    values = named(text, inserted)
    by_factor: dict[str, set[str]] = {}
    for factor, value in values:
        by_factor.setdefault(factor, set()).add(value)
    several = sorted(f for f, v in by_factor.items() if len(v) > 1)
    text = plain(text)
    measured = _unnamed(text)
    word = EVALUATIVE.search(text)
    against = word or SET_AGAINST.search(text) or RESULT.search(measured)
    said = against.group() if against else "its result inserted" if _variant_result(inserted) else None
    if several and said:  # naming two variants alone describes them
        factor = several[0]
        return (f"it names two {FACTOR_NOUN.get(factor, factor)} ({', '.join(sorted(by_factor[factor]))}) "
                f'with "{said}"', _first_name(text), (factor, sorted(by_factor[factor])))
    if values and word:
        factor, value = sorted(values, key=lambda v: (v[0] not in CLAIMABLE, v))[0]
        return (f'it says "{word.group()}" of {value} ({FACTOR_NOUN.get(factor, factor)})', word.start(),
                (factor, [value]))
    if DRAFT.search(text) and factors(text) and word:  # "the draft was right about the activation"
        factor = sorted(factors(text))[0]
        return (f'it says "{word.group()}" of the draft and {FACTOR_NOUN.get(factor)}', word.start(), (factor, []))
    comparative, outcome = COMPARATIVE.search(text), OUTCOME.search(measured)
    if factors(text) and comparative and outcome:
        factor = sorted(factors(text))[0]
        return (f'it compares {FACTOR_NOUN.get(factor)} ("{comparative.group()}", '
                f'"{outcome.group()}")', comparative.start(), (factor, []))
    return None


def _variant_result(inserted) -> bool:
    """A variant's result inserted beside another variant ("ReLU: ((( ...relu.test_acc_mean )))")."""
    return any(re.search(r"variants(?:\.[\w-]+|\[\"[^\"]+\"\])\.\w", source) for source, _ in inserted)


def _unnamed(text: str) -> str:
    """The sentence without the names of factors and values, and the nouns they qualify ("MSE
    loss", "the loss (MSE or ...)"): "learning" in "learning rate" measures nothing."""
    for pattern in list(FACTOR_WORDS.values()) + list(VALUE_WORDS.values()):
        text = pattern.sub(" \x00 ", text)
    return re.sub(r"\b(?:loss(?:es)?|functions?|units?)\s*\(?\s*(?=\x00)|(?<=\x00)\s*(?:loss(?:es)?|functions?|units?)\b",
                  " ", text, flags=re.IGNORECASE)


def _first_name(text: str) -> int:
    starts = [m.start() for pattern in VALUE_WORDS.values() for m in [pattern.search(text)] if m]
    return min(starts, default=0)


def undeclared(text: str, inserted, source: str) -> str | None:
    """A variant the sentence of a declared claim names beyond the two it declares, if any."""
    factor, rest = source.split(": ", 1)
    declared = {_key(v) for v in rest.split(" ")[::2]}
    for named_factor, value in sorted(named(text, inserted)):
        if named_factor in ("configuration", "labels"):
            continue
        if named_factor != factor or _key(value) not in declared | {_key(SPELLED.get(v, v)) for v in declared}:
            return f"{value} ({FACTOR_NOUN.get(named_factor, named_factor)})"
    return None


def _key(value: str) -> str:
    """A value as compared: \\num{0.10} -> 0.1, ReLU -> relu."""
    digits = re.search(r"\d+(?:\.\d+)?", value)
    return f"{float(digits.group()):g}" if digits and not re.search(r"[a-z]{2}", value.lower().replace("num", "")) \
        else value.strip().lower()


SPELLED = {"ce": "cross-entropy", "mse": "mse"}
FACTOR_NOUN = {"activation": "activations", "loss": "losses", "lr": "learning rates",
               "hidden": "hidden sizes", "optimizer": "optimisers", "labels": "labellings",
               "configuration": "configurations"}


# The factors Task 1 ablates, which claim(...) can declare; other comparisons are worded by claims
CLAIMABLE = ("activation", "loss", "lr", "hidden")
OTHER_WORDS = {"optimizer": "((( claims.draft_setting() )))", "labels": "((( claims.random_training() )))",
               "configuration": "((( verdict.full ))) of claims.draft_claims()"}


def message(reason: str, names: tuple[str, list[str]] = ("activation", [])) -> str:
    """The finding, with the claim that declares what the sentence names (`names`: its factor and
    the values it names), or, for what no claim expresses, the claims sentence to print."""
    factor, values = names
    if factor not in CLAIMABLE:
        return (f"a comparison of this report's variants typed by hand ({reason}), which nothing "
                f"checks against the numbers; no claim(...) declares {FACTOR_NOUN.get(factor, factor)} "
                f"(claims cover Task 1's {', '.join(CLAIMABLE)}): print the claims sentence "
                f"{OTHER_WORDS[factor]}, or reword it as a description naming no outcome")
    shown = [_key(v) for v in values][:2]
    shown += [f"<{'another' if shown or n else 'one'} {FACTOR_NOUN[factor][:-1]}>" for n in range(2 - len(shown))]
    call = f'claim("{factor}", "{shown[0]}", ">", "{shown[1]}")'
    return (f"a comparison of this report's variants typed by hand ({reason}), which nothing "
            f"checks against the numbers; declare it: ((* call {call} *))your sentence((* endcall *)) "
            f"with >, < or ~ as your words say (`make names` lists the factors and values), or "
            f"print claims.rankings()")
