"""The one command-line runner behind every `python -m` entry point of the project.

    cli.run("experiments.q1", __doc__, {"run": Command(run_line, "train every run")})

A user's mistake (any exception with an `exit_code`, such as ConfigError or WeightsError) is one
line on stderr and that exit code; Ctrl-C is one line and exit 130; a closed output pipe ends
quietly. Only a bug in the project shows a traceback.

The Makefile starts every step as `python -m pipeline MODULE ARGS` (`launch`): a module's imports
(torch, SymPy, matplotlib) take seconds before its `cli.main` is reached. Ctrl-C in that time is
held until `main` starts and then ends the run in one line: raised inside an import, it can be
swallowed by a library and leave a half-imported module (numpy without `multiply`) that fails
later with a traceback.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import runpy
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

from hw1.messages import user_error
from pipeline import paths


class UserError(Exception):
    """A mistake the user can fix; the message says what is wrong and what to do."""
    exit_code = 1


@dataclass(frozen=True)
class Command:
    """A subcommand: `run(args)` returns the line to print, or (line, exit code).

    `dash_positional` names a positional argument that may begin with a minus (a formula such as
    "-y_i*y_k"), which argparse would otherwise take for an unknown option."""
    run: Callable[[argparse.Namespace], str | tuple[str, int]]
    help: str
    arguments: Callable[[argparse.ArgumentParser], None] = field(default=lambda parser: None)
    epilog: str = ""
    dash_positional: str = ""


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        """A usage mistake: one line and exit 2, not the usage block."""
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def parser_for(prog: str, doc: str, commands: dict[str, Command]) -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = OneLineParser(prog=f"python -m {prog}", description=doc, formatter_class=formatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="{" + ",".join(commands) + "}")
    for name, command in commands.items():
        command.arguments(sub.add_parser(name, help=command.help, description=command.help,
                                         epilog=command.epilog, formatter_class=formatter))
    return parser


def parse(parser: argparse.ArgumentParser, commands: dict[str, Command], argv: list[str]):
    args, rest = parser.parse_known_args(argv)
    dash = commands[args.command].dash_positional
    if dash and getattr(args, dash, None) is None and len(rest) == 1:
        setattr(args, dash, rest.pop())
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if dash and getattr(args, dash, None) is None:
        parser.error(f"{args.command} needs {dash.upper()}")
    return args


def main(prog: str, doc: str, commands: dict[str, Command], argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(commands) == 1 and argv[:1] != list(commands):  # one command: its name is optional
        argv = [*commands, *argv]
    args = parse(parser_for(prog, doc, commands), commands, argv)  # usage errors exit 2 here
    args.mode = paths.mode_from_environment()  # QUICK=1 is read here, once, and passed on
    try:
        _end_holding_ctrl_c()
        outcome = commands[args.command].run(args)
        text, code = outcome if isinstance(outcome, tuple) else (outcome, 0)
        if text:
            print(text, flush=True)
        return code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; finished files are kept, unfinished ones were discarded",
              file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `| head`: the reader left; nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as err:  # ours, or the environment's (a read-only checkout, a full disk)
        said = user_error(err)
        if said is None:
            raise
        print(said[0], file=sys.stderr)
        return said[1]


def run(prog: str, doc: str, commands: dict[str, Command]) -> None:
    """`main` with sys.argv, exiting with its code: the body of every `__main__` block."""
    sys.exit(main(prog, doc, commands))


def end_with_parent(parent: int) -> None:
    """In a child process (a pool worker, a preexec_fn): SIGTERM when `parent` dies, however it
    dies (kill -9 included), so that no orphan keeps computing. Linux only; elsewhere a no-op."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)


_held_ctrl_c: list[int] = []  # SIGINTs that arrived while a launched module was importing


def _hold_ctrl_c(signum, frame) -> None:
    _held_ctrl_c.append(signum)


def _end_holding_ctrl_c() -> None:
    """From here Ctrl-C raises KeyboardInterrupt again, and one held during the imports does now."""
    if signal.getsignal(signal.SIGINT) is _hold_ctrl_c:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        held, _held_ctrl_c[:] = bool(_held_ctrl_c), []
        if held:
            raise KeyboardInterrupt


LOCK_OPTION = "--lock"
USAGE = f"usage: python -m pipeline [{LOCK_OPTION} TARGET] MODULE [ARGS...]"


def launch(argv: list[str]) -> int:
    """Run `python -m MODULE ARGS` (argv = [MODULE, *ARGS]) in this process, as -m would, holding
    Ctrl-C until the module's `main` starts. Every module the Makefile runs reaches `main`.

    With `--lock TARGET` first, the step runs under the checkout's lock (`checkout_lock`): a
    second make waits for the first, and when another run wrote the file TARGET after this make
    started (HW1_MAKE_STARTED, set by the Makefile) or while this step waited, the step's work is
    done: it ends at once instead of repeating it."""
    target = None
    if argv[:1] == [LOCK_OPTION]:
        if len(argv) < 3:
            print(USAGE, file=sys.stderr)
            return 2
        target, argv = argv[1], argv[2:]
    if not argv:
        print(USAGE, file=sys.stderr)
        return 2
    if target is None:
        return _run_module(argv)
    try:
        with checkout_lock(argv[0]) as waited_since:
            if _written_since(target, _make_started(waited_since)):
                print(f"{argv[0]}: {target} was written by another make meanwhile; "
                      f"nothing more to do", flush=True)
                return 0
            return _run_module(argv)
    except KeyboardInterrupt:  # while waiting for the lock: nothing was started
        print(f"{argv[0]}: interrupted while waiting for the other make", file=sys.stderr)
        return 130


def _make_started(waited_since: float | None) -> float | None:
    try:
        return float(os.environ["HW1_MAKE_STARTED"])
    except (KeyError, ValueError):
        return waited_since  # run by hand: only what was written while this step waited


def _written_since(target: str, since: float | None) -> bool:
    """Whether the regular file `target` was written at or after `since` (a phony target such as
    `data` is not a file, and is never taken as done)."""
    return since is not None and os.path.isfile(target) and os.stat(target).st_mtime >= since


LOCK_FILE = "results/.lock"


@contextlib.contextmanager
def checkout_lock(step: str):
    """One pipeline step at a time per checkout (flock on results/.lock, released by the kernel
    when the process ends, however it ends). Yields None when the lock was free, else the time
    this step began waiting."""
    import fcntl
    from pipeline import paths
    lock_path = paths.ROOT / LOCK_FILE
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock = open(lock_path, "a")
    except OSError:  # a read-only checkout: the step itself says so, naming the path
        yield None
        return
    with lock:
        waited_since = None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            waited_since = time.time()
            print(f"{step}: another make is running in this checkout; waiting for it to finish",
                  file=sys.stderr, flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)  # Ctrl-C while waiting: KeyboardInterrupt, below
        yield waited_since


def _run_module(argv: list[str]) -> int:
    sys.argv = list(argv)
    previous = signal.signal(signal.SIGINT, _hold_ctrl_c)
    try:
        runpy.run_module(argv[0], run_name="__main__", alter_sys=True)
    except KeyboardInterrupt:  # a module that raised it itself while importing
        print(f"{argv[0]}: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
        _held_ctrl_c.clear()
    return 0
