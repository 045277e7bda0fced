"""HW1 Task 1, training: an MLP trained on MNIST from torch tensor operations only (no autograd,
no torch.nn, no built-in losses, activations or optimisers); saves its weights beside this script.

    python hw1_<id>_q1_train.py [--epochs N] [--data FOLDER]

The hyperparameters are those of the report's results, read from hw1_<id>_settings.json beside
this script. MNIST is read from FOLDER/MNIST/raw (default: this script's folder), and downloaded
there by torchvision when missing. Needs torch and torchvision, and the hw1/ folder beside it.
"""
import argparse
import dataclasses
from pathlib import Path

from hw1 import common, data, task1

FILES = common.ScriptFiles(__file__, "q1", "train")


def print_epoch(epoch: int, metrics: dict) -> None:
    print(f"epoch {epoch}: train loss {metrics['train_loss']:.4f}, train accuracy "
          f"{metrics['train_acc']:.4f}, test accuracy {metrics['test_acc']:.4f}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, help="override the number of epochs")
    parser.add_argument("--data", type=Path, default=FILES.folder, help="folder holding MNIST/raw")
    args = parser.parse_args(argv)
    settings = task1.Settings.from_dict(common.read_settings(FILES, "q1")["settings"])
    if args.epochs:
        settings = dataclasses.replace(settings, epochs=args.epochs)
    print(f"q1: training {settings}")
    mnist = data.load(args.data, settings.standardize, download=True)
    run = task1.train(settings, mnist, on_epoch=print_epoch)
    if run["diverged_epoch"]:
        print(f"q1: diverged at epoch {run['diverged_epoch']}; weights not saved")
        return 1
    task1.save(FILES.weights, run["params"], settings, mnist)
    print(f"q1: saved {FILES.weights}")
    return 0


if __name__ == "__main__":
    raise SystemExit(common.run_script(main))
