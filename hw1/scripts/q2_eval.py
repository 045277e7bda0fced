"""HW1 Task 2, evaluation: evaluate_hw1() returns the accuracy of the trained network
(hw1_<id>_q2_weights.pkl beside this script) on the 10,000 test images of the dataset it was
trained on (MNIST, for the weights submitted to the course), labelled by independent
Bernoulli(1/2) draws: the same seeded draws as in training, so the number repeats.

    python hw1_<id>_q2_eval.py [--dataset mnist|fashion-mnist] [--data FOLDER]

The weights file carries the architecture, input standardisation, label seed and dataset it needs.
The test images are read from FOLDER/MNIST/raw (FOLDER/FashionMNIST/raw for Fashion-MNIST),
FOLDER being this script's folder unless given, and downloaded there by torchvision when missing.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # hw1/ beside this script, from any folder
from hw1 import eval_script, names, script_cli, task2  # noqa: E402

FILES = names.ScriptFiles(__file__, "q2", "eval")


def evaluate_hw1(data_folder=None, weights_file=None, dataset=None) -> float:
    """Average test accuracy (0 to 1) of the saved network; it trains nothing. `dataset`
    ("mnist" or "fashion-mnist") defaults to the one the weights were trained on."""
    return eval_script.evaluate(task2, FILES, data_folder, weights_file, dataset)


if __name__ == "__main__":
    raise SystemExit(script_cli.run_script(lambda: eval_script.main(
        task2, FILES, __doc__, evaluate_hw1, note=" (random labels: chance is 0.5)")))
