"""Where every file of the pipeline lives: the one place that knows (as in showyourwork's paths.py).

Only the standard library (and hw1.common, itself standard-library only) is imported, so the
Makefile can ask with the system Python before the virtual environment exists; it asks through
pipeline.config, which reads the dataset from config.toml:

    python3 -m pipeline.config makefile   # the Makefile's variables: code lists, figures, data files
"""
import os
from pathlib import Path

from hw1.common import DATASETS, DEFAULT_DATASET, weights_name

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.toml"
DATA = ROOT / "data"                      # torchvision's layout: DATA/MNIST/raw/<file>
DATA_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",  # the same for every dataset
              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
TEMPLATES = ROOT / "templates"
GRADER_PACKAGE = ROOT / "hw1"             # shipped in the zip as hw1/: these modules, no others
GRADER_MODULES = ("__init__", "common", "data", "weights", "scratch_mlp", "task1",
                  "random_label_net", "task2", "train_script")
GRADER_SCRIPTS = GRADER_PACKAGE / "scripts"

# QUICK=1 runs the same pipeline with few epochs and one seed; its outputs live apart so that a quick
# run never overwrites (or passes for) the full results.
QUICK = os.environ.get("QUICK", "").strip() not in ("", "0")
QUICK_RESULTS = ROOT / "results" / "quick"
RESULTS = QUICK_RESULTS if QUICK else ROOT / "results"
CONFIG_SECTIONS = RESULTS / ".config"
DERIVATIONS_JSON = RESULTS / "derivations.json"   # the same for every dataset
BENCH_JSON = ROOT / "results" / "bench.json"
BUILD = ROOT / "report" / "build" / ("quick" if QUICK else "full")
PDF = ROOT / "report" / ("report-quick.pdf" if QUICK else "report.pdf")

# What each task's run writes into results/<task>/ (besides the figures); all or nothing.
RESULT_FILES = {"q1": ("metrics.json", "history.json", "test_predictions.json", weights_name("q1")),
                "q2": ("metrics.json", "history.json", weights_name("q2"))}

# Figures per experiment, by name (the Jinja context's key) and file name in results/<task>/.
FIGURES = {"q1": ("q1_accuracy", "q1_ablations", "q1_confusion", "q1_misclassified"),
           "q2": ("q2_loss",)}


def relative(path: Path) -> str:
    """A path as typed from the repository's root (absolute when it lies elsewhere)."""
    path = Path(path)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def make_command(target: str, results: Path = RESULTS) -> str:
    """The command that rebuilds `target` in `results` (or a dataset's folder in it): the quick
    results are refreshed by the quick pipeline, and a hint that said `make experiments` would run
    the full one instead."""
    quick = Path(results).is_relative_to(QUICK_RESULTS)
    return f"QUICK=1 make {target}" if quick else f"make {target}"


def data_raw(dataset: str) -> Path:
    """A dataset's four IDX files live in DATA/<torchvision's class>/raw: data/MNIST/raw, ..."""
    return DATA / DATASETS[dataset] / "raw"


def dataset_results(dataset: str, results: Path = RESULTS) -> Path:
    """The folder of one dataset's task results: MNIST's where they always were (results/q1,
    results/q2), any other dataset's apart (results/fashion-mnist/q1, ...), so that switching
    datasets never mixes them and switching back finds the earlier results still there."""
    return results if dataset == DEFAULT_DATASET else results / dataset


def figure(name: str, results: Path) -> Path:
    """A figure of the dataset whose results folder (dataset_results) is `results`."""
    return results / name.split("_")[0] / f"{name}.pdf"


def weights(task: str, results: Path) -> Path:
    """A task's weights in the dataset results folder `results` (dataset_results)."""
    return results / task / weights_name(task)


def submission_zip(student_id: str) -> Path:
    return ROOT / "report" / f"hw1_{student_id}.zip"


def source_zip(student_id: str) -> Path:
    """`make source`'s LaTeX bundle; the quick report's apart, so it never passes for the full one."""
    return ROOT / "report" / f"hw1_{student_id}_source{'-quick' if QUICK else ''}.zip"


# The source files whose content each output depends on: the Makefile uses them as prerequisites and
# provenance hashes them, so an edit re-runs exactly what it affects and stale results are caught.
# Kept narrow: plumbing whose edits cannot change a number (cli, provenance, the config parser,
# data fetching) is left out, so fixing a message re-runs nothing. experiments/datasets.py is in:
# its MD5s say which data the tasks read, and metrics.json records its names.
HW1_SHARED = ["hw1/common.py", "hw1/data.py", "hw1/weights.py", "experiments/datasets.py"]
CODE = {
    "derivations": ["derivations/softmax.py", "derivations/identities.py", "derivations/verify.py",
                    "derivations/formula_check.py", "derivations/notation.py", "derivations/build.py",
                    "derivations/formula.py",
                    "derivations/formula_plain.lark", "derivations/formula_latex.lark"],
    "q1": [*HW1_SHARED, "hw1/scratch_mlp.py", "hw1/task1.py", "experiments/q1.py"],
    "q2": [*HW1_SHARED, "hw1/random_label_net.py", "hw1/task2.py", "experiments/q2.py"],
    "plots": ["experiments/plots.py"],
    "report": ["report/render.py", "report/context.py", "report/latex.py", "report/claims.py",
               "report/errors.py", "report/budget.py", "report/__main__.py", "report/confine.lua",
               "report/audit.py", "report/math_audit.py", "report/provenance_marks.py",
               "report/permutation.py"],
}


def makefile_variables(dataset: str) -> str:
    """As Make variable definitions: CODE_<name>, FIGURES_<task>, RESULTS_<task>, IDX_FILES (file
    names), each dataset's name by its folder (DATASET_OF_<folder>), the course's data files
    (MNIST_FILES), and for the configured `dataset` its name, data files and results folder below
    results/ (DATASET, DATA_FILES, DATASET_DIR: empty for MNIST)."""
    lines = [f"CODE_{name} := {' '.join(files)}" for name, files in CODE.items()]
    lines += [f"FIGURES_{task} := {' '.join(f'{n}.pdf' for n in names)}"
              for task, names in FIGURES.items()]
    lines += [f"RESULTS_{task} := {' '.join(names)}" for task, names in RESULT_FILES.items()]
    lines.append(f"IDX_FILES := {' '.join(DATA_FILES)}")
    lines += [f"DATASET_OF_{folder} := {name}" for name, folder in DATASETS.items()]
    files = lambda name: " ".join(  # noqa: E731
        str((data_raw(name) / file).relative_to(ROOT)) for file in DATA_FILES)
    lines.append(f"MNIST_FILES := {files(DEFAULT_DATASET)}")
    below = dataset_results(dataset, Path()).as_posix()
    lines += [f"DATASET := {dataset}", f"DATA_FILES := {files(dataset)}",
              f"DATASET_DIR := {'' if below == '.' else '/' + below}"]
    return "\n".join(lines) + "\n"
