"""Run by `make submission`'s verification in a fresh interpreter, from a folder unrelated to the
unzipped one: load one eval script as a grader's harness would, call its evaluate_hw1(), and print
the accuracy and where the package hw1 was imported from (it must be the zip's), as JSON.

    python -E -s report/bundle/eval_runner.py UNZIPPED/hw1_<id>_q1_eval.py
"""
import importlib.util
import json
import sys


def main(script: str) -> None:
    spec = importlib.util.spec_from_file_location("eval_script", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import hw1  # the script put its own folder first on the path: this is the zip's package
    print(json.dumps({"accuracy": module.evaluate_hw1(), "hw1": hw1.__file__}))


if __name__ == "__main__":
    main(sys.argv[1])
