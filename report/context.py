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

from hw1.names import DEFAULT_DATASET
from pipeline import config, paths, provenance
from pipeline.tasks import TASKS
from report import claims
from report.errors import ReportError


def sources(results: Path, dataset: str) -> dict:
    """results name (derivations, each task) -> (its file, the make command that writes it)."""
    experiments = paths.make_command("experiments", results)
    return {"derivations": (results / "derivations.json", paths.make_command("derivations", results)),
            **{task.name: (paths.task_results(task.name, dataset, results) / "metrics.json", experiments)
               for task in TASKS}}


def figure_paths(results: Path, dataset: str) -> dict:
    return {name: path for task in TASKS for name, path in paths.figures(task, dataset, results).items()}


def load_results(name: str, sections: dict, results: Path = paths.RESULTS) -> dict:
    path, target = sources(results, sections["data"].dataset)[name]
    if not path.exists():
        raise ReportError(f"{paths.relative(path)} is missing; run `{target}` to produce it")
    try:
        data = json.loads(path.read_text())
        data["provenance"]["code_hash"]
    except (ValueError, KeyError, TypeError):  # truncated or hand-edited
        raise ReportError(f"{paths.relative(path)} is damaged; delete it and run `{target}` to "
                          f"write it again") from None
    why = provenance.stale(path, data["provenance"], provenance.results_sources(name, sections),
                           target)
    if why:
        raise ReportError(why)
    return data


def pdf_sources(results: Path, dataset: str) -> list[Path]:
    """Every file the PDF is built from: the templates, the renderer's code, the config sections
    it shows, the derivations, and each task's metrics and figures (build.json records their
    hashes; the submission refuses a PDF whose sources changed since)."""
    return [*sorted(paths.TEMPLATES.glob("*.tex.j2")), *(paths.ROOT / f for f in paths.CODE["report"]),
            *(results / ".config" / f"{name}.json" for name in ("student", "data", "report")),
            *(path for path, _ in sources(results, dataset).values()),
            *figure_paths(results, dataset).values()]


def load_figures(results: Path, dataset: str) -> dict:
    figures = figure_paths(results, dataset)
    for path in figures.values():
        if not path.exists():
            raise ReportError(f"{paths.relative(path)} is missing; run "
                              f"`{paths.make_command('experiments', results)}` to draw it")
    return {name: str(path) for name, path in figures.items()}


def equation_lookup(derivations: dict):
    """`eq(id)` gives a verified identity's record, `refuted(id)` a refuted claim's (shown as
    wrong, with its counterexample); anything else stops the build."""
    records = {r["id"]: r for r in derivations["identities"]}
    eq = _lookup(records, "verified", "eq", "identity", lambda record_id, status: (
        f"identity {record_id!r} is {status} in results/derivations.json: only verified "
        f"equations are typeset"))
    refuted = _lookup(records, "refuted", "refuted", "claim", lambda record_id, status: (
        f"claim {record_id!r} is shown as refuted but results/derivations.json says {status}"))
    return eq, refuted, records


def _lookup(records: dict, status: str, call: str, noun: str, other_status):
    """The records of one status by id; `other_status(id, status)` words a record of another."""
    # derivations.json is refused when stale, so an id missing from it is a typo in the template
    listed = ", ".join(i for i, r in records.items() if r["status"] == status)

    def find(record_id: str) -> dict:
        record = records.get(record_id)
        if record is None:
            raise ReportError(f"{call}({record_id!r}): no such {noun}; the {status} ones are {listed}")
        if record["status"] != status:
            raise ReportError(other_status(record_id, record["status"]))
        return record
    return find


def build_context(sections: dict | None = None, results: Path = paths.RESULTS) -> dict:
    """Everything the templates may show; `results` is results/ or results/quick/."""
    sections = sections or config.read_sections(results)
    derivations = load_results("derivations", sections, results)
    tasks = {task.name: load_results(task.name, sections, results) for task in TASKS}
    return context_from(sections, derivations, tasks, load_figures(results, sections["data"].dataset))


def context_from(sections: dict, derivations: dict, tasks: dict, figures: dict) -> dict:
    """The context of results already loaded (and judged fresh): {task name: its metrics}."""
    q1 = tasks["q1"]  # the dataset and the quick mark are Task 1's (every task records them)
    eq, refuted, records = equation_lookup(derivations)
    return {
        "student": dataclasses.asdict(sections["student"]),
        "student_unset": config.unset_student_keys(sections["student"]),
        "report": dataclasses.asdict(sections["report"]),
        "quick": q1["provenance"]["quick"],
        **tasks,
        "tasks": list(tasks),
        "identities": [r for r in records.values() if r["kind"] == "identity"],
        "eq": eq, "refuted": refuted,
        "claims": claims.Claims(**tasks),
        "figures": figures,
        "dataset": q1["dataset"],
        # the draft's numbers and the course's threshold are MNIST's: compared only there
        "draft_applies": q1["dataset"]["name"] == DEFAULT_DATASET,
        "draft": claims.DRAFT,
        "provenance": {**{name: data["provenance"] for name, data in tasks.items()},
                       "derivations": derivations["provenance"]},
    }
