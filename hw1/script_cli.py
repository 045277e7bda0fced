"""The graders' scripts' command line: the options every script takes, and a main() whose
user-fixable errors are one line (no traceback)."""
from __future__ import annotations

from pathlib import Path

from .messages import environment_error
from .names import DATASETS, DEFAULT_DATASET, ScriptFiles


def script_parser(doc: str, files: ScriptFiles, train: bool):
    """The graders' scripts' options they all share: the data folder and the dataset."""
    import argparse
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=files.folder, metavar="FOLDER",
                        help="the folder holding MNIST/raw or FashionMNIST/raw (default: this "
                             "script's folder); torchvision downloads missing files there")
    default, shown = ((DEFAULT_DATASET, "MNIST, the course's") if train
                      else (None, "the dataset the weights were trained on"))
    parser.add_argument("--dataset", choices=DATASETS, default=default,
                        help=f"the dataset to {'train' if train else 'evaluate'} on "
                             f"(default: {shown})")
    return parser


def run_script(main) -> int:
    """Run a script's main(): a user-fixable error (anything with an exit_code) is one line on
    stderr, Ctrl-C ends quietly; only a bug shows a traceback."""
    import sys
    try:
        return main() or 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as err:
        line = environment_error(err)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        return 1
    except Exception as err:
        if not hasattr(err, "exit_code"):
            raise
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
