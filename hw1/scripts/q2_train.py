"""HW1 Task 2, training: the Task 1 architecture in torch.nn memorises the first 128 MNIST training
images with random Bernoulli(1/2) labels (drawn once, seeded); saves its weights beside this script.

    python hw1_<id>_q2_train.py [--epochs N] [--data FOLDER]

The hyperparameters are those of the report's results, read from hw1_<id>_settings.json beside
this script. MNIST is read from FOLDER/MNIST/raw (default: this script's folder), and downloaded
there by torchvision when missing. Needs torch and torchvision, and the hw1/ folder beside it.
"""
import argparse
import dataclasses
from pathlib import Path

from hw1 import common, data, task2

FILES = common.ScriptFiles(__file__, "q2", "train")


def print_epoch(epoch: int, metrics: dict) -> None:
    print(f"epoch {epoch}: train loss {metrics['train_loss']:.5f}, "
          f"test loss {metrics['test_loss']:.4f}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, help="override the number of epochs")
    parser.add_argument("--data", type=Path, default=FILES.folder, help="folder holding MNIST/raw")
    args = parser.parse_args(argv)
    settings = task2.Settings.from_dict(common.read_settings(FILES, "q2")["settings"])
    if args.epochs:
        settings = dataclasses.replace(settings, epochs=args.epochs)
    print(f"q2: training {settings}")
    mnist = task2.prepare(data.load(args.data, download=True), settings.n_train)
    run = task2.train(settings, mnist, on_epoch=print_epoch)
    task2.save(FILES.weights, run["net"], settings, mnist)
    print(f"q2: saved {FILES.weights}")
    return 0


if __name__ == "__main__":
    raise SystemExit(common.run_script(main))
