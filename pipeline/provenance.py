"""What produced a results file: commit, dirty flag, code and config hashes, dataset and its MD5s,
versions.

Every results JSON carries this under "provenance", and report/build/<mode>/build.json the hash
of every file the PDF was built from. One judge (`stale`) compares what a file recorded with its
sources now, for the report (results) and the submission (the PDF) alike, and says in one line
which source changed and which command refreshes it.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from pathlib import Path

from hw1.atomic import write_text
from pipeline import config, paths
from pipeline import sources


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=paths.ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def code_hash(experiment: str) -> str:
    return sources.code_hash(experiment)


def file_hashes(files) -> dict[str, str]:
    """{path as typed from the root: sha256 of its content} (missing files: "missing")."""
    return {paths.relative(path): (hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
                                   if Path(path).is_file() else "missing") for path in files}


def results_sources(name: str, sections: dict) -> dict:
    """What a results file of `name` (derivations, a task) was made from: its code, and for a
    task its config section and the dataset. {key in its provenance: (value now, its name)}."""
    made_from = {"code_hash": (code_hash(name),
                               f"the code of {name} ({', '.join(sources.code_files(name))})")}
    if name in sections:
        made_from["config_hash"] = (config.section_hash(sections[name]), f"[{name}] in config.toml")
        made_from["dataset"] = (sections["data"].dataset, "[data] dataset")
    return made_from


def stale(path: Path, recorded: dict, sources: dict, command: str) -> str | None:
    """None when every source is as `path` recorded it; otherwise the one line that says which
    changed and which command refreshes it. `sources`: {key: (value now, how it is named)}, the
    keys those of `recorded` (a results file's provenance, a build's input hashes)."""
    for key, (now, what) in sources.items():
        then = recorded.get(key)
        if then == now:
            continue
        if key == "dataset":
            return (f"{paths.relative(path)} holds results on {then}, but [data] dataset is {now}; "
                    f"run `{command}` to refresh it")
        return f"{paths.relative(path)} is stale: {what} changed since it ran; run `{command}` to refresh it"
    return None


def versions() -> dict[str, str]:
    import importlib.metadata as md
    found = {"python": platform.python_version()}
    for pkg in ("torch", "torchvision", "sympy", "numpy", "matplotlib", "jinja2"):
        try:
            found[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return found


def record(experiment: str, config_hash: str, seeds: list[int], wall_time_s: float, *,
           quick: bool, dataset: str | None = None, data_md5: dict[str, str] | None = None,
           device: str = "cpu") -> dict:
    """`quick`: the results of a QUICK=1 run; `dataset` names the dataset the results come from (None: they need none, as derivations);
    the report refuses results of another dataset than [data] dataset."""
    return {
        "experiment": experiment,
        "git_commit": _git("rev-parse", "HEAD") or "unknown",
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "code_hash": code_hash(experiment),
        "config_hash": config_hash,
        "quick": quick,
        "dataset": dataset,
        "data_md5": data_md5 or {},
        "versions": versions(),
        "seeds": list(seeds),
        "device": device,
        "wall_time_s": round(wall_time_s, 3),
        "platform": platform.platform(),
        "cpu_threads": os.cpu_count(),
    }


def write_json(path: Path, payload: dict) -> None:
    """Atomically: an interrupted run leaves no complete-looking file."""
    write_text(path, json.dumps(payload, indent=1, sort_keys=False) + "\n")
