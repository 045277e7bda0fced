"""Where every file of the pipeline lives: the one place that knows (as in showyourwork's paths.py).

Only the standard library is imported here, so the Makefile can ask it questions with the system
Python before the virtual environment exists.
"""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.toml"
DATA = ROOT / "data"
MNIST_RAW = DATA / "MNIST" / "raw"
TEMPLATES = ROOT / "templates"

# QUICK=1 runs the same pipeline with few epochs and one seed; its outputs live apart so that a quick
# run never overwrites (or passes for) the full results.
QUICK = os.environ.get("QUICK", "").strip() not in ("", "0")
RESULTS = ROOT / "results" / "quick" if QUICK else ROOT / "results"
CONFIG_SECTIONS = RESULTS / ".config"
Q1 = RESULTS / "q1"
Q2 = RESULTS / "q2"
DERIVATIONS_JSON = RESULTS / "derivations.json"
BENCH_JSON = ROOT / "results" / "bench.json"

BUILD = ROOT / "report" / "build" / ("quick" if QUICK else "full")
PDF = ROOT / "report" / ("report-quick.pdf" if QUICK else "report.pdf")

# The source files whose content each output depends on: the Makefile uses them as prerequisites
# and provenance hashes them, so an edit re-runs exactly what it affects and stale results are caught.
CODE = {
    "derivations": ["derivations/softmax.py", "derivations/verify.py", "derivations/claims.py",
                    "derivations/notation.py", "derivations/build.py"],
    "q1": ["hw1/scratch_mlp.py", "experiments/q1.py", "experiments/mnist.py",
           "hw1/data.py",
           "pipeline/config.py", "pipeline/provenance.py", "pipeline/cli.py"],
    "q2": ["experiments/q2.py", "hw1/random_label_net.py", "experiments/mnist.py",
           "hw1/data.py", "pipeline/config.py",
           "pipeline/provenance.py", "pipeline/cli.py"],
    "plots": ["experiments/plots.py"],
    "report": ["report/render.py", "report/context.py", "report/latex.py", "report/claims.py",
               "report/__main__.py"],
}


def main(argv: list[str]) -> None:
    """`python3 -m pipeline.paths code q1` prints the code files of q1, for the Makefile."""
    if len(argv) == 2 and argv[0] == "code":
        print(" ".join(CODE[argv[1]]))
    else:
        raise SystemExit("usage: python3 -m pipeline.paths code {" + ",".join(CODE) + "}")


if __name__ == "__main__":
    import sys
    main(sys.argv[1:])
