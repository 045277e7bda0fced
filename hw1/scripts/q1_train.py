"""HW1 Task 1, training: an MLP trained on MNIST from torch tensor operations only (no autograd,
no torch.nn, no built-in losses, activations or optimisers); saves its weights beside this script.

    python hw1_<id>_q1_train.py [--epochs N] [--dataset mnist|fashion-mnist] [--data FOLDER] [--out FILE]

The hyperparameters are those of the report's results, read from hw1_<id>_settings.json beside
this script. MNIST (the default) is read from FOLDER/MNIST/raw, Fashion-MNIST from
FOLDER/FashionMNIST/raw, FOLDER being this script's folder unless given; torchvision downloads
missing files there. Needs torch and torchvision, and the hw1/ folder beside it.
The weights go to hw1_<id>_q1_weights.pkl beside this script; a run shortened with --epochs
writes hw1_<id>_q1_weights_<N>epochs.pkl instead, so the submitted weights stay as they are.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # hw1/ beside this script, from any folder
from hw1 import script_cli, task1, train_script  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(script_cli.run_script(lambda: train_script.main(task1, __file__, __doc__)))
