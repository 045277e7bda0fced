"""The Jinja context: every number and equation the report shows, read from results/ and config.toml.

Results are refused when missing (naming the make target that writes them) or stale (their
recorded code or config hash differs from the current files).
"""
from __future__ import annotations

import json
from pathlib import Path

from experiments import config, paths, provenance
from report import claims
from report.claims import ReportError

# results file -> (experiment whose code produced it, config section, make target)
SOURCES = {
    "derivations": (paths.DERIVATIONS_JSON, None, "make derivations"),
    "q1": (paths.Q1 / "metrics.json", "q1", "make experiments"),
    "q2": (paths.Q2 / "metrics.json", "q2", "make experiments"),
}
FIGURES = {"q1_accuracy": paths.Q1 / "q1_accuracy.pdf", "q1_ablations": paths.Q1 / "q1_ablations.pdf",
           "q1_confusion": paths.Q1 / "q1_confusion.pdf",
           "q1_misclassified": paths.Q1 / "q1_misclassified.pdf", "q2_loss": paths.Q2 / "q2_loss.pdf"}


def _rel(path: Path) -> str:
    return str(path.relative_to(paths.ROOT)) if path.is_relative_to(paths.ROOT) else str(path)


def load_results(name: str, sections: dict) -> dict:
    path, section, target = SOURCES[name]
    if not path.exists():
        raise ReportError(f"{_rel(path)} is missing; run `{target}` to produce it")
    data = json.loads(path.read_text())
    recorded = data["provenance"]
    if recorded["code_hash"] != provenance.code_hash(name):
        raise ReportError(f"{_rel(path)} is stale: the code of {name} ({', '.join(paths.CODE[name])}) "
                          f"changed since it ran; run `{target}` to refresh it")
    if section and recorded["config_hash"] != config.section_hash(sections[section]):
        raise ReportError(f"{_rel(path)} is stale: [{section}] in config.toml changed since it "
                          f"ran; run `{target}` to refresh it")
    return data


def load_figures() -> dict:
    for name, path in FIGURES.items():
        if not path.exists():
            raise ReportError(f"{_rel(path)} is missing; run `make experiments` to draw it")
    return {name: str(path) for name, path in FIGURES.items()}


def equation_lookup(derivations: dict):
    """`eq(id)` gives a verified identity's record; anything else stops the build."""
    records = {r["id"]: r for r in derivations["identities"]}

    def eq(identity_id: str) -> dict:
        record = records.get(identity_id)
        if record is None:
            raise ReportError(f"identity {identity_id!r} is not in results/derivations.json; "
                              f"run `make derivations`")
        if record["status"] != "verified":
            raise ReportError(f"identity {identity_id!r} is {record['status']} in "
                              f"results/derivations.json: only verified equations are typeset")
        return record

    def refuted(claim_id: str) -> dict:
        """A claim shown as wrong must have been refuted, with its counterexample."""
        record = records.get(claim_id)
        if record is None or record["status"] != "refuted":
            raise ReportError(f"claim {claim_id!r} is shown as refuted but results/derivations.json "
                              f"says {record['status'] if record else 'nothing'}")
        return record

    return eq, refuted, records


def build_context(sections: dict | None = None) -> dict:
    sections = sections or config.load()
    derivations = load_results("derivations", sections)
    q1, q2 = load_results("q1", sections), load_results("q2", sections)
    eq, refuted, records = equation_lookup(derivations)
    table = claims.claims(q1, q2)
    return {
        "student": config.as_dict(sections["student"]),
        "report": config.as_dict(sections["report"]),
        "quick": paths.QUICK,
        "q1": q1, "q2": q2,
        "identities": [r for r in records.values() if r["kind"] == "identity"],
        "eq": eq, "refuted": refuted,
        "check": lambda claim_id: claims.check(table, claim_id),
        "fastest": claims.fastest, "speed_ratio": claims.speed_ratio,
        "figures": load_figures(),
        "provenance": {"q1": q1["provenance"], "q2": q2["provenance"],
                       "derivations": derivations["provenance"]},
    }
