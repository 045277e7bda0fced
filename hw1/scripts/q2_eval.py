"""HW1 Task 2, evaluation: evaluate_hw1() returns the accuracy of the trained network
(hw1_<id>_q2_weights.pkl beside this script) on the 10,000 MNIST test images labelled by
independent Bernoulli(1/2) draws: the same seeded draws as in training, so the number repeats.

    python hw1_<id>_q2_eval.py

The weights file carries the architecture, input standardisation and label seed it needs. MNIST is
read from MNIST/raw beside this script (downloaded there by torchvision when missing).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # hw1/ beside this script, from any folder
from hw1 import common, task2  # noqa: E402

FILES = common.ScriptFiles(__file__, "q2", "eval")


def evaluate_hw1(data_folder=None, weights_file=None) -> float:
    """Average test accuracy (0 to 1) of the saved network; it trains nothing."""
    return task2.evaluate(Path(weights_file or FILES.weights), Path(data_folder or FILES.folder),
                          download=True)


def main() -> int:
    print(f"q2: average test accuracy {evaluate_hw1():.4f} (random labels: chance is 0.5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(common.run_script(main))
