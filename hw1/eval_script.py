"""The body of the graders' eval scripts, shared by both tasks (hw1/scripts/q1_eval.py and
q2_eval.py): each script keeps its own evaluate_hw1(), the function the graders call."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from . import names, script_cli, weights


def evaluate(task, files: names.ScriptFiles, data_folder=None, weights_file=None,
             dataset=None) -> float:
    """Test accuracy of the weights beside the script (or `weights_file`) on the test images under
    `data_folder` (default: the script's folder), by `task`'s (hw1.task1 or hw1.task2) own
    evaluation; `dataset` defaults to the one the weights were trained on. Weights other than
    the ones the report describes are evaluated all the same (a grader may retrain), with one
    line on stderr that says so."""
    path = Path(weights_file or files.weights)
    note = other_weights_note(task.TASK, files, path)
    if note:
        print(note, file=sys.stderr, flush=True)
    return task.evaluate(path, Path(data_folder or files.folder), download=True, dataset=dataset)


def other_weights_note(task: str, files: names.ScriptFiles, path: Path) -> str | None:
    """One line when `path` is not the weights file whose sha256 the settings file beside the
    script records (the one the report's numbers describe); None when it is, or when there is no
    record to compare with."""
    try:
        recorded = json.loads(files.settings.read_text(encoding="utf-8"))["weights_sha256"][task]
        actual = weights.sha256(path)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if actual == recorded:
        return None
    return (f"note: {path.name} is not the weights file the report describes (its sha256 is "
            f"{actual[:12]}..., {files.settings.name} records {str(recorded)[:12]}...); "
            f"evaluating it anyway")


def main(task, files: names.ScriptFiles, doc: str, evaluate_hw1, note: str = "",
         argv: list[str] | None = None) -> int:
    """Print the script's evaluate_hw1() on the data folder and dataset given on the command line."""
    args = script_cli.script_parser(doc, files, train=False).parse_args(argv)
    accuracy = evaluate_hw1(args.data, dataset=args.dataset)
    print(f"{task.TASK}: average test accuracy {accuracy:.4f}{note}")
    return 0
