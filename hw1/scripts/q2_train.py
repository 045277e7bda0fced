"""HW1 Task 2, training: the Task 1 architecture in torch.nn memorises the first 128 MNIST training
images with random Bernoulli(1/2) labels (drawn once, seeded); saves its weights beside this script.

    python hw1_<id>_q2_train.py [--epochs N] [--dataset mnist|fashion-mnist] [--data FOLDER]

The hyperparameters are those of the report's results, read from hw1_<id>_settings.json beside
this script. MNIST (the default) is read from FOLDER/MNIST/raw, Fashion-MNIST from
FOLDER/FashionMNIST/raw, FOLDER being this script's folder unless given; torchvision downloads
missing files there. Needs torch and torchvision, and the hw1/ folder beside it.
"""
import dataclasses

from hw1 import common, data, task2

FILES = common.ScriptFiles(__file__, "q2", "train")


def print_epoch(epoch: int, metrics: dict) -> None:
    print(f"epoch {epoch}: train loss {metrics['train_loss']:.5f}, "
          f"test loss {metrics['test_loss']:.4f}", flush=True)


def main(argv=None) -> int:
    args = common.script_parser(__doc__, FILES, train=True).parse_args(argv)
    settings = task2.Settings.from_dict(common.read_settings(FILES, "q2")["settings"])
    if args.epochs:
        settings = dataclasses.replace(settings, epochs=args.epochs)
    print(f"q2: training {settings} on {args.dataset}")
    images = task2.prepare(data.load(args.data, download=True, dataset=args.dataset),
                           settings.n_train)
    run = task2.train(settings, images, on_epoch=print_epoch)
    task2.save(FILES.weights, run["net"], settings, images)
    print(f"q2: saved {FILES.weights}")
    return 0


if __name__ == "__main__":
    raise SystemExit(common.run_script(main))
