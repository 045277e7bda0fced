"""The graders' scripts' command line: the options every script takes, and a main() whose
user-fixable errors are one line (no traceback)."""
from __future__ import annotations

from pathlib import Path

from .messages import user_error
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
    except Exception as err:  # ours, or the environment's (read-only, full, forbidden)
        said = user_error(err)
        if said is None:
            raise
        print(said[0], file=sys.stderr)
        return said[1]
