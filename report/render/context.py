"""The Jinja context: every number and equation the report shows, read from results/ and the
config sections Make wrote there (results/.config/<section>.json).

Results are refused when missing (naming the make command that writes them, QUICK=1 for the quick
results) or stale (provenance.stale: their recorded code or config hash differs from the current
files, or they are another dataset's than [data] dataset).
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from hw1 import weights
from hw1.names import DEFAULT_DATASET, weights_name
from pipeline import config, ledger, paths, provenance
from pipeline.sources import code_files
from pipeline.tasks import TASKS
from report.claims import wording as claims
from report.audit import derivation_steps
from report.render import marks
from report.errors import ReportError


def sources(results: Path, dataset: str) -> dict:
    """results name (derivations, each task) -> (its file, the make command that writes it)."""
    experiments = paths.make_command("experiments", results)
    return {"derivations": (results / "derivations.json", paths.make_command("derivations", results)),
            **{task.name: (paths.task_results(task.name, dataset, results) / "metrics.json", experiments)
               for task in TASKS}}


def figure_paths(results: Path, dataset: str) -> dict:
    return {name: path for task in TASKS for name, path in paths.figures(task, dataset, results).items()}


def load_results(name: str, sections: dict, results: Path) -> dict:
    path, target = sources(results, sections["data"].dataset)[name]
    if not path.exists():
        raise ReportError(f"{paths.relative(path)} is missing; run `{target}` to produce it")
    ledger.check(path, target)  # as its writer left it: a number edited by hand stops here
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["provenance"]["code_hash"]
    except (ValueError, KeyError, TypeError):  # truncated or hand-edited
        raise ReportError(f"{paths.relative(path)} is damaged; delete it and run `{target}` to "
                          f"write it again") from None
    why = provenance.stale(path, data["provenance"], provenance.results_sources(name, sections),
                           target)
    if why:
        raise ReportError(why)
    if name in TASK_NAMES:
        check_weights(data, path, path.parent / weights_name(name), target)
    return data


TASK_NAMES = {task.name for task in TASKS}


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
    ledger.check(weights_path, target)


def pdf_sources(results: Path, dataset: str) -> list[Path]:
    """Every file the PDF is built from: the templates, the renderer's code, the config sections
    it shows, the derivations, and each task's metrics, weights and figures (build.json records
    their hashes: the build step re-typesets when one's content differs, whatever its time stamp,
    and the submission refuses a PDF whose sources changed since)."""
    return [*sorted(paths.TEMPLATES.glob("*.tex.j2")), *sorted(paths.TEMPLATES.glob("*.bib")),
            *(paths.ROOT / f for f in code_files("report")),
            *(results / ".config" / f"{name}.json" for name in ("student", "data", "report")),
            *(path for path, _ in sources(results, dataset).values()),
            *(paths.weights(task.name, dataset, results) for task in TASKS),
            *figure_paths(results, dataset).values()]


def load_figures(results: Path, dataset: str) -> dict:
    figures = figure_paths(results, dataset)
    for path in figures.values():
        if not path.exists():
            raise ReportError(f"{paths.relative(path)} is missing; run "
                              f"`{paths.make_command('experiments', results)}` to draw it")
        ledger.check(path, paths.make_command("report", results))  # drawn by the plots, not by hand
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


def build_context(sections: dict | None, results: Path) -> dict:
    """Everything the templates may show; `results` is results/ or results/quick/, `sections`
    the config sections recorded there when None."""
    sections = sections or config.read_sections(results)
    derivations = load_results("derivations", sections, results)
    tasks = {task.name: load_results(task.name, sections, results) for task in TASKS}
    return context_from(sections, derivations, tasks, load_figures(results, sections["data"].dataset))


def context_from(sections: dict, derivations: dict, tasks: dict, figures: dict) -> dict:
    """The context of results already loaded (and judged fresh): {task name: its metrics}. Every
    value is tracked with its source and every equation and sentence marked, for the audit."""
    q1 = tasks["q1"]  # the dataset and the quick mark are Task 1's (every task records them)
    eq, refuted, definition, records = equation_lookup(derivations)
    identities = [r for r in records.values() if r.get("kind") == "identity"]
    return {
        "student": marks.track(dataclasses.asdict(sections["student"]), "config.student"),
        "student_unset": config.unset_student_keys(sections["student"]),
        "report": marks.track(dataclasses.asdict(sections["report"]), "config.report"),
        "quick": q1["provenance"]["quick"],
        **{name: marks.track(data, name) for name, data in tasks.items()},
        "tasks": list(tasks),
        "identities": [_pieces(r, "relation") for r in identities],
        "eq": eq, "refuted": refuted, "definition": definition,
        "shown_wrong": derivation_steps.shown_wrong,  # a typed chain shown as wrong on purpose
        "claims": marks.AuditedClaims(claims.Claims(**tasks)),
        "figures": figures,
        "dataset": marks.track(q1["dataset"], "q1.dataset"),
        # the draft's numbers and the course's threshold are MNIST's: compared only there
        "draft_applies": q1["dataset"]["name"] == DEFAULT_DATASET,
        "provenance": marks.track({**{name: data["provenance"] for name, data in tasks.items()},
                                   "derivations": derivations["provenance"]}, "provenance"),
    }
