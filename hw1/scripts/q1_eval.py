"""HW1 Task 1, evaluation: evaluate_hw1() returns the average accuracy of the trained network
(hw1_<id>_q1_weights.pkl beside this script) on the 10,000 test images of the dataset it was
trained on: MNIST, for the weights submitted to the course.

    python hw1_<id>_q1_eval.py [--dataset mnist|fashion-mnist] [--data FOLDER]

The weights file carries the layer sizes, activation, input standardisation and dataset it needs.
The test images are read from FOLDER/MNIST/raw (FOLDER/FashionMNIST/raw for Fashion-MNIST),
FOLDER being this script's folder unless given, and downloaded there by torchvision when missing.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # hw1/ beside this script, from any folder
from hw1 import eval_script, names, script_cli, task1  # noqa: E402

FILES = names.ScriptFiles(__file__, "q1", "eval")


def evaluate_hw1(data_folder=None, weights_file=None, dataset=None) -> float:
    """Average test accuracy (0 to 1) of the saved network; it trains nothing. `dataset`
    ("mnist" or "fashion-mnist") defaults to the one the weights were trained on."""
    return eval_script.evaluate(task1, FILES, data_folder, weights_file, dataset)


if __name__ == "__main__":
    raise SystemExit(script_cli.run_script(lambda: eval_script.main(
        task1, FILES, __doc__, evaluate_hw1)))
