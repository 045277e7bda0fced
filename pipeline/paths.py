"""Where every file of the pipeline lives: the one place that knows (as in showyourwork's paths.py).

Only the standard library (and hw1.names and pipeline.tasks, themselves standard-library only)
is imported, so the Makefile can ask with the system Python before the virtual environment exists;
it asks through pipeline.config, which reads the dataset from config.toml:

    python3 -m pipeline.config makefile   # the Makefile's variables: code lists, figures, data files
"""
import os
from dataclasses import dataclass
from pathlib import Path

from hw1.names import DATASETS, DEFAULT_DATASET
from pipeline import sources
from pipeline.tasks import BY_NAME, TASKS, Task

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.toml"
DATA = ROOT / "data"                      # torchvision's layout: DATA/MNIST/raw/<file>
DATA_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",  # the same for every dataset
              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
TEMPLATES = ROOT / "templates"
GRADER_PACKAGE = ROOT / "hw1"             # shipped in the zip as hw1/, every module of it
GRADER_SCRIPTS = GRADER_PACKAGE / "scripts"

FULL_RESULTS = ROOT / "results"
QUICK_RESULTS = FULL_RESULTS / "quick"
BENCH_JSON = FULL_RESULTS / "bench.json"


@dataclass(frozen=True)
class Mode:
    """Which pipeline a command runs: the full one, or QUICK=1's (few epochs, one seed), whose
    outputs live apart so that a quick run never overwrites, or passes for, the full results.
    Read from the environment once, by the command line (pipeline.cli), and passed on from there:
    no module decides it when it is imported."""
    quick: bool = False

    @property
    def results(self) -> Path:
        return QUICK_RESULTS if self.quick else FULL_RESULTS

    @property
    def config_sections(self) -> Path:
        return self.results / ".config"

    @property
    def derivations_json(self) -> Path:  # the same for every dataset
        return self.results / "derivations.json"

    @property
    def build(self) -> Path:
        return ROOT / "report" / "build" / ("quick" if self.quick else "full")

    @property
    def pdf(self) -> Path:
        return ROOT / "report" / ("report-quick.pdf" if self.quick else "report.pdf")

    def source_zip(self, student_id: str) -> Path:
        """`make source`'s LaTeX bundle; the quick report's apart, so it never passes for the full one."""
        return ROOT / "report" / f"hw1_{student_id}_source{'-quick' if self.quick else ''}.zip"


FULL_MODE, QUICK_MODE = Mode(quick=False), Mode(quick=True)


def mode_from_environment(environ=os.environ) -> Mode:
    """QUICK=1 (anything but empty or 0) selects the quick pipeline, as the Makefile passes it."""
    return QUICK_MODE if environ.get("QUICK", "").strip() not in ("", "0") else FULL_MODE


def relative(path: Path) -> str:
    """A path as typed from the repository's root (absolute when it lies elsewhere)."""
    path = Path(path)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def make_command(target: str, results: Path) -> str:
    """The command that rebuilds `target` in `results` (or a dataset's folder in it): the quick
    results are refreshed by the quick pipeline, and a hint that said `make experiments` would run
    the full one instead."""
    quick = Path(results).is_relative_to(QUICK_RESULTS)
    return f"QUICK=1 make {target}" if quick else f"make {target}"


def data_raw(dataset: str) -> Path:
    """A dataset's four IDX files live in DATA/<torchvision's class>/raw: data/MNIST/raw, ..."""
    return DATA / DATASETS[dataset] / "raw"


def dataset_results(dataset: str, results: Path) -> Path:
    """The folder of one dataset's task results: MNIST's where they always were (results/q1,
    results/q2), any other dataset's apart (results/fashion-mnist/q1, ...), so that switching
    datasets never mixes them and switching back finds the earlier results still there."""
    return results if dataset == DEFAULT_DATASET else results / dataset


def task_results(task: str, dataset: str, results: Path) -> Path:
    """The one place that says where a task's results live: results/<task>/ for MNIST,
    results/<dataset>/<task>/ for another dataset (results/quick/... for QUICK=1)."""
    return dataset_results(dataset, results) / task


def figures(task: Task, dataset: str, results: Path) -> dict[str, Path]:
    """A task's figures by name (the Jinja context's key): <task results>/<name>.pdf."""
    folder = task_results(task.name, dataset, results)
    return {name: folder / f"{name}.pdf" for name in task.figures}


def weights(task: str, dataset: str, results: Path) -> Path:
    """The weights file a task's run wrote (what the zip ships for it)."""
    return task_results(task, dataset, results) / BY_NAME[task].weights


def grader_modules() -> list[Path]:
    """The hw1 package as the zip ships it."""
    return sorted(GRADER_PACKAGE.glob("*.py"))


def submission_zip(student_id: str) -> Path:
    return ROOT / "report" / f"hw1_{student_id}.zip"


def makefile_variables(dataset: str, sections: tuple[str, ...]) -> str:
    """As Make variable definitions: TASKS and per task RESULTS_<task>, FIGURES_<task> (file
    names), CODE_<name>, the config SECTIONS, IDX_FILES, each dataset's name by its folder
    (DATASET_OF_<folder>), the course's data files (MNIST_FILES), and for the configured `dataset`
    its name, data files and results folder below results/ (DATASET, DATA_FILES, DATASET_DIR:
    empty for MNIST)."""
    lines = [f"TASKS := {' '.join(task.name for task in TASKS)}",
             f"SECTIONS := {' '.join(sections)}"]
    lines += [f"CODE_{name} := {' '.join(files)}" for name, files in ((o, sources.code_files(o)) for o in sources.ENTRIES)]
    lines += [f"FIGURES_{task.name} := {' '.join(f'{n}.pdf' for n in task.figures)}" for task in TASKS]
    lines += [f"RESULTS_{task.name} := {' '.join(task.results)}" for task in TASKS]
    lines.append(f"IDX_FILES := {' '.join(DATA_FILES)}")
    lines += [f"DATASET_OF_{folder} := {name}" for name, folder in DATASETS.items()]
    files = lambda name: " ".join(  # noqa: E731
        str((data_raw(name) / file).relative_to(ROOT)) for file in DATA_FILES)
    lines.append(f"MNIST_FILES := {files(DEFAULT_DATASET)}")
    below = dataset_results(dataset, Path()).as_posix()
    lines += [f"DATASET := {dataset}", f"DATA_FILES := {files(dataset)}",
              f"DATASET_DIR := {'' if below == '.' else '/' + below}"]
    return "\n".join(lines) + "\n"
