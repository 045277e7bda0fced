"""HW1 Task 1, training: an MLP trained on MNIST from torch tensor operations only (no autograd,
no torch.nn, no built-in losses, activations or optimisers); saves its weights beside this script.

    python hw1_<id>_q1_train.py [--epochs N] [--dataset mnist|fashion-mnist] [--data FOLDER]

The hyperparameters are those of the report's results, read from hw1_<id>_settings.json beside
this script. MNIST (the default) is read from FOLDER/MNIST/raw, Fashion-MNIST from
FOLDER/FashionMNIST/raw, FOLDER being this script's folder unless given; torchvision downloads
missing files there. Needs torch and torchvision, and the hw1/ folder beside it.
"""
import dataclasses

from hw1 import common, data, task1

FILES = common.ScriptFiles(__file__, "q1", "train")


def print_epoch(epoch: int, metrics: dict) -> None:
    print(f"epoch {epoch}: train loss {metrics['train_loss']:.4f}, train accuracy "
          f"{metrics['train_acc']:.4f}, test accuracy {metrics['test_acc']:.4f}", flush=True)


def main(argv=None) -> int:
    args = common.script_parser(__doc__, FILES, train=True).parse_args(argv)
    settings = task1.Settings.from_dict(common.read_settings(FILES, "q1")["settings"])
    if args.epochs:
        settings = dataclasses.replace(settings, epochs=args.epochs)
    print(f"q1: training {settings} on {args.dataset}")
    images = data.load(args.data, settings.standardize, download=True, dataset=args.dataset)
    run = task1.train(settings, images, on_epoch=print_epoch)
    if run["diverged_epoch"]:
        print(f"q1: diverged at epoch {run['diverged_epoch']}; weights not saved")
        return 1
    task1.save(FILES.weights, run["params"], settings, images)
    print(f"q1: saved {FILES.weights}")
    return 0


if __name__ == "__main__":
    raise SystemExit(common.run_script(main))
