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


def equation_lookup(derivations: dict):
    """`eq(id)` gives a verified identity's record; anything else stops the build."""
    records = {r["id"]: r for r in derivations["identities"]}
    # derivations.json is refused when stale, so an id missing from it is a typo in the template
    verified, refuted_ids = (", ".join(i for i, r in records.items() if r["status"] == status)
                             for status in ("verified", "refuted"))

    def eq(identity_id: str) -> dict:
        record = records.get(identity_id)
        if record is None:
            raise ReportError(f"eq({identity_id!r}): no such identity; the verified ones are "
                              f"{verified}")
        if record["status"] != "verified":
            raise ReportError(f"identity {identity_id!r} is {record['status']} in "
                              f"results/derivations.json: only verified equations are typeset")
        return record

    def refuted(claim_id: str) -> dict:
        """A claim shown as wrong must have been refuted, with its counterexample."""
        record = records.get(claim_id)
        if record is None:
            raise ReportError(f"refuted({claim_id!r}): no such claim; the refuted ones are "
                              f"{refuted_ids}")
        if record["status"] != "refuted":
            raise ReportError(f"claim {claim_id!r} is shown as refuted but results/derivations.json "
                              f"says {record['status']}")
        return record

    return eq, refuted, records


def build_context(sections: dict | None = None, results: Path = paths.RESULTS) -> dict:
    """Everything the templates may show; `results` is results/ or results/quick/."""
    sections = sections or config.load()
    derivations = load_results("derivations", sections, results)
    q1, q2 = (load_results(name, sections, results) for name in ("q1", "q2"))
    eq, refuted, records = equation_lookup(derivations)
    return {
        "student": config.as_dict(sections["student"]),
        "student_unset": config.unset_student_keys(sections["student"]),
        "report": config.as_dict(sections["report"]),
        "quick": q1["provenance"]["quick"],
        "q1": q1, "q2": q2,
        "identities": [r for r in records.values() if r["kind"] == "identity"],
        "eq": eq, "refuted": refuted,
        "claims": claims.Claims(q1, q2),
        "figures": load_figures(results, sections["data"].dataset),
        "dataset": q1["dataset"],
        # the draft's numbers and the course's threshold are MNIST's: compared only there
        "draft_applies": q1["dataset"]["name"] == DEFAULT_DATASET,
        "draft": claims.DRAFT,
        "provenance": {"q1": q1["provenance"], "q2": q2["provenance"],
                       "derivations": derivations["provenance"]},
    }
