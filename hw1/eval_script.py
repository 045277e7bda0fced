"""The body of the graders' eval scripts, shared by both tasks (hw1/scripts/q1_eval.py and
q2_eval.py): each script keeps its own evaluate_hw1(), the function the graders call."""
from __future__ import annotations

from pathlib import Path

from . import names, script_cli


def evaluate(task, files: names.ScriptFiles, data_folder=None, weights_file=None,
             dataset=None) -> float:
    """Test accuracy of the weights beside the script (or `weights_file`) on the test images under
    `data_folder` (default: the script's folder), by `task`'s (hw1.task1 or hw1.task2) own
    evaluation; `dataset` defaults to the one the weights were trained on."""
    return task.evaluate(Path(weights_file or files.weights), Path(data_folder or files.folder),
                         download=True, dataset=dataset)


def main(task, files: names.ScriptFiles, doc: str, evaluate_hw1, note: str = "",
         argv: list[str] | None = None) -> int:
    """Print the script's evaluate_hw1() on the data folder and dataset given on the command line."""
    args = script_cli.script_parser(doc, files, train=False).parse_args(argv)
    accuracy = evaluate_hw1(args.data, dataset=args.dataset)
    print(f"{task.TASK}: average test accuracy {accuracy:.4f}{note}")
    return 0
