"""The body of the graders' train scripts, shared by both tasks (hw1/scripts/q1_train.py and q2_train.py)."""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from . import common


def main(task, script: str, doc: str, argv: list[str] | None = None) -> int:
    """Retrain `task` (hw1.task1 or hw1.task2) with the settings shipped beside `script`, print
    one line per epoch, and save the weights beside the script."""
    files = common.ScriptFiles(script, task.TASK, "train")
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, help="override the number of epochs")
    parser.add_argument("--data", type=Path, default=files.folder, help="folder holding MNIST/raw")
    args = parser.parse_args(argv)
    shipped = common.read_settings(files, task.TASK)
    settings = task.Settings.from_dict(shipped["settings"])
    if args.epochs:
        settings = dataclasses.replace(settings, epochs=args.epochs)
    print(f"{task.TASK}: {shipped['student']['name']} ({shipped['student']['id']}): training {settings}")
    data = task.load_data(args.data, settings, download=True)
    run = task.train(settings, data, on_epoch=lambda epoch, m: print(task.epoch_line(epoch, m), flush=True))
    if run["diverged_epoch"]:
        print(f"{task.TASK}: diverged at epoch {run['diverged_epoch']}; weights not saved")
        return 1
    task.save(files.weights, run["model"], settings, data)
    print(f"{task.TASK}: saved {files.weights}")
    return 0
