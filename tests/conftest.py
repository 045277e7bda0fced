"""Shared test data: the shipped configuration, written from the defaults, and recorded results.

The tests never read the student's config.toml: a legitimate edit of it (say `[q1] lr = 0.05`)
must keep `make test` green. They read SHIPPED_CONFIG, the configuration as the repository ships
it: the section dataclasses' defaults (their one home, pipeline/defaults.py) with a test student,
written once per session; a repository copy gets it as its config.toml. The fast tier renders the
templates from results recorded from one quick run (`fixtures/*.json`), so that it trains
nothing, typesets nothing and needs no MNIST. A slow test checks that the recorded results still
have the shape of a fresh quick run's; when it fails, record them again:

    QUICK=1 make experiments derivations
    cp results/quick/derivations.json tests/fixtures/derivations.json
    cp results/quick/q1/metrics.json tests/fixtures/q1_metrics.json    # likewise q2
"""
import atexit
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
TEST_STUDENT = {"name": "Shai Kikoashvily", "id": "206202384"}


def _shipped_config() -> Path:
    from pipeline import config, defaults
    folder = Path(tempfile.mkdtemp(prefix="hw1-tests-config-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    sections = {**defaults.defaults(), "student": config.Student(**TEST_STUDENT)}
    (folder / "config.toml").write_text(defaults.toml_text(sections), encoding="utf-8")
    return folder / "config.toml"


SHIPPED_CONFIG = _shipped_config()

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


@pytest.fixture(scope="session")
def quick_context():
    """The report's context from a real quick run (`QUICK=1 make experiments derivations` in this
    repository, once per session and worker): a test that asks for it is slow."""
    from pipeline import config
    from report.render import context
    done = subprocess.run(["make", "--no-print-directory", "experiments", "derivations"],
                          cwd=ROOT, env={**os.environ, "QUICK": "1"}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    results = ROOT / "results" / "quick"
    return context.build_context(config.read_sections(results), results)


@pytest.fixture(scope="session")
def script_fonts():
    """Every script's font, installed as a name in each would install it (setup installs Latin's
    alone): a test that typesets a name in another script asks for this first, as a build does."""
    from report.tex import fonts
    fonts.ensure(" ".join(NAMES_BY_SCRIPT.values()))


def repository_copy(folder: Path, linked=()) -> Path:
    """The repository's files (tracked or not ignored) copied with their times, so that Make sees
    the same setup as here, and the folders `linked` (.venv, data) linked: nothing is installed
    or downloaded again, and what the copy writes never touches this repository. Its config.toml
    is the shipped one (rewritten, so newer, only when the student's differs)."""
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
    copied = folder / "config.toml"  # the shipped configuration, never the student's edits
    if copied.read_bytes() != SHIPPED_CONFIG.read_bytes():
        shutil.copyfile(SHIPPED_CONFIG, copied)
    return folder


# The fast tier (`-m "not slow"`) needs no data and no results: it reads no real dataset and
# builds nothing in this repository (a make in a scratch copy, which fails in seconds, is fine).
# The guard below fails a test that does either and is not marked slow; a test that asks for the
# quick pipeline's results is marked slow at collection.
TRAINS = ("quick_context",)
PIPELINE_COMMANDS = {"make", "latexmk", "lualatex"}
PIPELINE_TARGETS = {"experiments", "derivations", "report", "submission", "source", "test", "bench"}


def pytest_collection_modifyitems(items):
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in TRAINS):
            item.add_marker(pytest.mark.slow)


def _builds_here(argv, cwd) -> bool:
    args = [str(a) for a in (argv if isinstance(argv, (list, tuple)) else [argv])]
    if not args or Path(args[0]).name not in PIPELINE_COMMANDS:
        return False
    if Path(cwd or ".").resolve() != ROOT:
        return False
    return Path(args[0]).name != "make" or ("-n" not in args and bool(PIPELINE_TARGETS & set(args)))


_running = {"item": None}  # the test being set up, run or torn down (its fixtures' too)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _running["item"] = item


def _refuse_in_fast_tier(what: str) -> None:
    item = _running["item"]
    if item is not None and not item.get_closest_marker("slow"):
        pytest.fail(f"{item.nodeid}, a fast test, {what}: mark it @pytest.mark.slow or give it "
                    f"recorded results")


@pytest.fixture(scope="session", autouse=True)
def _fast_tier_guard():
    """Active for the whole session, so that a module or session fixture that a fast test asks
    for is caught too (those are set up before any function-scoped fixture)."""
    from experiments import datasets
    verified, popen = datasets.verified, subprocess.Popen.__init__

    def guarded_verified(dataset, splits=("train", "t10k"), raw_dir=None):
        if raw_dir is None:
            _refuse_in_fast_tier(f"reads the real {dataset.title} files")
        return verified(dataset, splits, raw_dir)

    def guarded_popen(self, args, *rest, **kwargs):
        if _builds_here(args, kwargs.get("cwd")):
            _refuse_in_fast_tier(f"runs {' '.join(map(str, args))} in the repository")
        popen(self, args, *rest, **kwargs)

    datasets.verified, subprocess.Popen.__init__ = guarded_verified, guarded_popen
    yield
    datasets.verified, subprocess.Popen.__init__ = verified, popen
