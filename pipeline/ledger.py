"""What the pipeline wrote, by content: each results folder holds `.written.json`, the sha256 of
every file a step wrote there, recorded by that step.

    ledger.record(path, ...)        # the writer, after writing: a task's run inside its staging
                                    # folder (so the record is renamed into place with its results),
                                    # the figures and derivations.json just after writing them
    ledger.check(path, command)     # every reader (the figures, the report, the submission):
                                    # TamperedError unless the file is as its writer left it

A results file edited by hand (a metrics.json with a better accuracy, a figure drawn elsewhere)
stops the build in one line naming it and the command that writes it again; the original put back,
whatever its time stamp, passes (report/__main__.py then re-typesets from it: the PDF's inputs are
judged by content too).

Standard library only (with hw1.atomic).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from hw1.atomic import write_text
from pipeline import cli, paths

NAME = ".written.json"


class TamperedError(cli.UserError):
    """A results file is not what the step that wrote it recorded; the message says how to remake it."""


def sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _read(folder: Path) -> dict:
    try:
        recorded = json.loads((folder / NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return recorded if isinstance(recorded, dict) else {}


def record(*files: Path) -> None:
    """Record each file's sha256 in its folder's ledger (rewritten whole, atomically)."""
    by_folder: dict[Path, list[Path]] = {}
    for path in map(Path, files):
        by_folder.setdefault(path.parent, []).append(path)
    for folder, written in by_folder.items():
        recorded = _read(folder)
        recorded.update({path.name: sha256(path) for path in written})
        write_text(folder / NAME, json.dumps(dict(sorted(recorded.items())), indent=1) + "\n")


def record_folder(folder: Path) -> None:
    """Record every file in `folder` (a task's staging folder, once its run wrote everything)."""
    record(*(path for path in sorted(Path(folder).iterdir())
             if path.is_file() and path.name != NAME))


def check(path: Path, command: str) -> None:
    """TamperedError unless `path` holds what its writer recorded. `command` writes it again."""
    path = Path(path)
    shown, ledger = paths.relative(path), paths.relative(path.parent / NAME)
    recorded = _read(path.parent).get(path.name)
    if recorded is None:
        raise TamperedError(f"{shown} has no record in {ledger} of the step that wrote it (made by "
                            f"hand, or by an older version); delete it and run `{command}` to "
                            f"write it again")
    if sha256(path) != recorded:
        raise TamperedError(f"{shown} was changed after the pipeline wrote it (its content is not "
                            f"what {ledger} records); put the original back, or delete it and "
                            f"run `{command}` to write it again")
