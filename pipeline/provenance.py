"""What produced a results file: commit, dirty flag, code and config hashes, dataset and its MD5s,
versions.

Every results JSON carries this under "provenance"; the report refuses results whose code or
config hash differs from the current files (they are stale) and says which target refreshes them.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from pathlib import Path

from hw1.common import write_text
from pipeline import paths


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=paths.ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def code_hash(experiment: str) -> str:
    """sha256 over the experiment's source files (paths.CODE), by name and content."""
    digest = hashlib.sha256()
    for rel in sorted(paths.CODE[experiment]):
        digest.update(rel.encode() + b"\0" + (paths.ROOT / rel).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def versions() -> dict[str, str]:
    import importlib.metadata as md
    found = {"python": platform.python_version()}
    for pkg in ("torch", "torchvision", "sympy", "numpy", "matplotlib", "jinja2"):
        try:
            found[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return found


def record(experiment: str, config_hash: str, seeds: list[int], wall_time_s: float,
           dataset: str | None = None, data_md5: dict[str, str] | None = None,
           device: str = "cpu") -> dict:
    """`dataset` names the dataset the results come from (None: they need none, as derivations);
    the report refuses results of another dataset than [data] dataset."""
    return {
        "experiment": experiment,
        "git_commit": _git("rev-parse", "HEAD") or "unknown",
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "code_hash": code_hash(experiment),
        "config_hash": config_hash,
        "quick": paths.QUICK,
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
