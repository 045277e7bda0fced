"""The experiments' shared command line: one subcommand per function, user errors as one line."""
import sys
from typing import Callable

from pipeline import config
from experiments import mnist


def run_command(prog: str, commands: dict[str, Callable[[], str]], argv: list[str]) -> int:
    """Run commands[argv[0]] and print the line it returns; no traceback for a user's mistake."""
    if len(argv) != 1 or argv[0] not in commands:
        print(f"usage: python -m {prog} {{{','.join(commands)}}}")
        return 2
    try:
        print(commands[argv[0]]())
    except (config.ConfigError, mnist.MnistError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except FileNotFoundError as err:
        print(f"error: {err.filename} is missing; run `make experiments` first", file=sys.stderr)
        return 1
    return 0
