"""Shared test data: a pinned copy of the shipped configuration and recorded results.

The tests never read the student's config.toml: a legitimate edit of it (say `[q1] lr = 0.05`)
must keep `make test` green. They read `fixtures/config.toml`, the configuration as the repository
ships it, and the fast tier renders the templates from results recorded from one quick run
(`fixtures/*.json`), so that it trains nothing, typesets nothing and needs no MNIST. A slow test
checks that the recorded results still have the shape of a fresh quick run's; when it fails,
record them again:

    QUICK=1 make experiments derivations
    cp results/quick/derivations.json tests/fixtures/derivations.json
    cp results/quick/q1/metrics.json tests/fixtures/q1_metrics.json    # likewise q2
"""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SHIPPED_CONFIG = FIXTURES / "config.toml"

# One student's name per script the report typesets (pipeline/config.py NAME_SCRIPTS): the config
# tests accept each, the report tests read each back from the PDF.
NAMES_BY_SCRIPT = {
    "Latin": "Nguyễn Thị Phương Łukasz Żółć",
    "Hebrew": "שי קיקואשווילי",
    "Arabic": "محمد عبد الله",
    "Cyrillic": "Анна Каренина",
    "Greek": "Ἀλέξανδρος Παπαδόπουλος",
    "Chinese": "王小明",
}


def recorded(name: str) -> dict:
    """A results file recorded from a quick run: derivations, q1_metrics, q2_metrics."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def shipped_sections():
    """The shipped configuration's sections, trimmed as QUICK=1 trims them."""
    from pipeline import config
    return config.load(SHIPPED_CONFIG, quick=True)


@pytest.fixture(scope="session")
def recorded_context(shipped_sections):
    """The report's context from the recorded results (figures by name only: nothing typesets)."""
    from pipeline.tasks import TASKS
    from report.render import context
    tasks = {task.name: recorded(f"{task.name}_metrics") for task in TASKS}
    figures = {name: f"{name}.pdf" for task in TASKS for name in task.figures}
    return context.context_from(shipped_sections, recorded("derivations"), tasks, figures)


def repository_copy(folder: Path, linked=()) -> Path:
    """The repository's files (tracked or not ignored) copied with their times, so that Make sees
    the same setup as here, and the folders `linked` (.venv, data) linked: nothing is installed
    or downloaded again, and what the copy writes never touches this repository. Its config.toml
    is the pinned one (fixtures/config.toml), whatever the student's holds."""
    root = Path(__file__).resolve().parent.parent
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                            cwd=root, capture_output=True, text=True, check=True).stdout
    for name in filter(None, listed.split("\0")):
        if name.split("/")[0] in linked or not (root / name).is_file():
            continue
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, folder / name)
    for name in linked:
        (folder / name).symlink_to(root / name)
    shutil.copy2(SHIPPED_CONFIG, folder / "config.toml")
    return folder
