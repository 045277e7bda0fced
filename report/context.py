"""The Jinja context: every number and equation the report shows, read from results/ and config.toml.

Results are refused when missing (naming the make command that writes them, QUICK=1 for the quick
results) or stale (their recorded code or config hash differs from the current files, or they are
another dataset's than [data] dataset).
"""
from __future__ import annotations

import json
from pathlib import Path

from hw1 import weights
from hw1.common import DEFAULT_DATASET
from pipeline import config, paths, provenance
from report import claims
from report import provenance_marks as marks
from report.errors import ReportError


def sources(results: Path, dataset: str) -> dict:
    """results file -> (its path, config section, make command that writes it)."""
    tasks = paths.dataset_results(dataset, results)
    experiments = paths.make_command("experiments", results)
    return {"derivations": (results / "derivations.json", None, paths.make_command("derivations", results)),
            "q1": (tasks / "q1" / "metrics.json", "q1", experiments),
            "q2": (tasks / "q2" / "metrics.json", "q2", experiments)}


def figure_paths(results: Path, dataset: str) -> dict:
    tasks = paths.dataset_results(dataset, results)
    return {name: paths.figure(name, tasks) for names in paths.FIGURES.values() for name in names}


def load_results(name: str, sections: dict, results: Path = paths.RESULTS) -> dict:
    dataset = sections["data"].dataset
    path, section, target = sources(results, dataset)[name]
    if not path.exists():
        raise ReportError(f"{paths.relative(path)} is missing; run `{target}` to produce it")
    try:
        data = json.loads(path.read_text())
        data["provenance"]["code_hash"]
    except (ValueError, KeyError, TypeError):  # truncated or hand-edited
        raise ReportError(f"{paths.relative(path)} is damaged; delete it and run `{target}` to "
                          f"write it again") from None
    recorded = data["provenance"]
    if recorded["code_hash"] != provenance.code_hash(name):
        raise ReportError(f"{paths.relative(path)} is stale: the code of {name} ({', '.join(paths.CODE[name])}) "
                          f"changed since it ran; run `{target}` to refresh it")
    if section and recorded["config_hash"] != config.section_hash(sections[section]):
        raise ReportError(f"{paths.relative(path)} is stale: [{section}] in config.toml changed since it "
                          f"ran; run `{target}` to refresh it")
    if section and recorded.get("dataset") != dataset:
        raise ReportError(f"{paths.relative(path)} holds results on {recorded.get('dataset')}, but [data] "
                          f"dataset is {dataset}; run `{target}` to refresh it")
    if section:
        check_weights(data, path, paths.weights(name, path.parent.parent), target)
    return data


def check_weights(metrics: dict, metrics_path: Path, weights_path: Path, target: str) -> None:
    """The saved weights' numbers are stated only for the weights file they were computed from
    (the sha256 that metrics.json records). Make cannot see a file copied over the weights with an
    older time stamp, so the hint deletes it: a missing target makes Make train again."""
    shown, described_by = paths.relative(weights_path), paths.relative(metrics_path)
    if not weights_path.is_file():
        raise ReportError(f"{shown} is missing, so {described_by} describes weights that are "
                          f"not there; run `{target}` to train them again")
    recorded = metrics.get("weights_sha256")
    if recorded is None:
        raise ReportError(f"{described_by} records no sha256 of {shown}; delete {shown} and run "
                          f"`{target}`")
    if weights.sha256(weights_path) != recorded:
        raise ReportError(f"{shown} is not the weights file {described_by} describes (its sha256 "
                          f"differs); delete {shown} and run `{target}` to train it again")


def load_figures(results: Path, dataset: str) -> dict:
    figures = figure_paths(results, dataset)
    for path in figures.values():
        if not path.exists():
            raise ReportError(f"{paths.relative(path)} is missing; run "
                              f"`{paths.make_command('experiments', results)}` to draw it")
    return {name: str(path) for name, path in figures.items()}


PIECES = ("latex", "lhs", "rhs", "condition", "case")  # the LaTeX parts of a derivation record


def _pieces(record: dict, kind: str) -> dict:
    """The record as a template sees it: its LaTeX parts marked as `kind` for the audit, the rest
    tracked (n, points, the counterexample's numbers)."""
    out = marks.track({k: v for k, v in record.items() if k not in PIECES}, record["id"])
    for part in PIECES:
        if part in record:
            out[part] = marks.mark(kind, record[part], f"{record['id']}.{part}")
    return out


def equation_lookup(derivations: dict):
    """`eq(id)` gives a verified identity, `definition(id)` a declared definition, `refuted(id)` a
    claim refuted with its counterexample; anything else stops the build."""
    records = {r["id"]: r for r in derivations["identities"] + derivations.get("definitions", [])}
    # derivations.json is refused when stale, so an id missing from it is a typo in the template
    status_of = {i: "defined" if r.get("kind") == "definition" else r.get("status")
                 for i, r in records.items()}
    listed = {status: ", ".join(i for i, s in status_of.items() if s == status)
              for status in ("verified", "refuted", "defined")}

    def lookup(identity_id: str, status: str, kind: str, call: str) -> dict:
        record = records.get(identity_id)
        if record is None:
            raise ReportError(f"{call}({identity_id!r}): no such {WHAT[status]}; the {status} ones "
                              f"are {listed[status]}")
        if status_of[identity_id] != status:
            raise ReportError(f"{call}({identity_id!r}): {identity_id!r} is {status_of[identity_id]} "
                              f"in results/derivations.json, not {status}: {WHY[status]}")
        return _pieces(record, kind)

    return (lambda i: lookup(i, "verified", "relation", "eq"),
            lambda i: lookup(i, "refuted", "refuted", "refuted"),
            lambda i: lookup(i, "defined", "definition", "definition"),
            records)


WHAT = {"verified": "identity", "refuted": "claim", "defined": "definition"}
WHY = {"verified": "only verified equations are typeset",
       "refuted": "a claim is shown as wrong only with its counterexample",
       "defined": "definition() typesets declared definitions"}


def build_context(sections: dict | None = None, results: Path = paths.RESULTS) -> dict:
    """Everything the templates may show; `results` is results/ or results/quick/. Every value is
    tracked with its source and every equation and sentence marked, for the audit."""
    sections = sections or config.load()
    derivations = load_results("derivations", sections, results)
    q1, q2 = (load_results(name, sections, results) for name in ("q1", "q2"))
    eq, refuted, definition, records = equation_lookup(derivations)
    identities = [r for r in records.values() if r.get("kind") == "identity"]
    return {
        "student": marks.track(config.as_dict(sections["student"]), "config.student"),
        "student_unset": config.unset_student_keys(sections["student"]),
        "report": marks.track(config.as_dict(sections["report"]), "config.report"),
        "quick": q1["provenance"]["quick"],
        "q1": marks.track(q1, "q1"), "q2": marks.track(q2, "q2"),
        "identities": [_pieces(r, "relation") for r in identities],
        "eq": eq, "refuted": refuted, "definition": definition,
        "claims": marks.AuditedClaims(claims.Claims(q1, q2)),
        "figures": load_figures(results, sections["data"].dataset),
        "dataset": marks.track(q1["dataset"], "q1.dataset"),
        # the draft's numbers and the course's threshold are MNIST's: compared only there
        "draft_applies": q1["dataset"]["name"] == DEFAULT_DATASET,
        "provenance": marks.track({"q1": q1["provenance"], "q2": q2["provenance"],
                                   "derivations": derivations["provenance"]}, "provenance"),
    }
