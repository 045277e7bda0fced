"""The body of the graders' train scripts, shared by both tasks (hw1/scripts/q1_train.py and q2_train.py)."""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from . import names, script_cli
from .settings import SettingsError, read_settings, settings_from


def main(task, script: str, doc: str, argv: list[str] | None = None) -> int:
    """Retrain `task` (hw1.task1 or hw1.task2) with the settings shipped beside `script`, print
    one line per epoch, and save the weights beside the script."""
    files = names.ScriptFiles(script, task.TASK, "train")
    parser = script_cli.script_parser(doc, files, train=True)
    parser.add_argument("--epochs", type=_positive, help="train this many epochs instead")
    parser.add_argument("--out", type=Path, help="where to save the weights")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        raise SettingsError(f"--data {args.data}: no such folder")
    shipped = read_settings(files, task.TASK)
    settings = settings_from(task.Settings, shipped["settings"], files.settings)
    out = args.out or files.weights
    if args.epochs is not None and args.epochs != settings.epochs:
        settings = dataclasses.replace(settings, epochs=args.epochs)
        out = args.out or files.weights.with_name(f"{files.weights.stem}_{args.epochs}epochs.pkl")
    print(f"{task.TASK}: {shipped['student']['name']} ({shipped['student']['id']}): training "
          f"{settings} on {args.dataset}")
    data = task.load_data(args.data, settings, download=True, dataset=args.dataset)
    run = task.train(settings, data, on_epoch=lambda epoch, m: print(task.epoch_line(epoch, m), flush=True))
    if run["diverged_epoch"]:
        print(f"{task.TASK}: diverged at epoch {run['diverged_epoch']}; weights not saved")
        return 1
    task.save(out, run["model"], settings, data)
    print(f"{task.TASK}: saved {out}")
    return 0


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of epochs")
    return int(text)
