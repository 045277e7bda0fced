"""The one command-line runner: user errors and Ctrl-C are one line, never a traceback."""
import os
import signal
import subprocess
import sys
import time

import pytest

from pipeline import cli, paths


def _module(tmp_path, monkeypatch, name, body):
    (tmp_path / f"{name}.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_ctrl_c_while_a_module_imports_is_one_line(tmp_path, monkeypatch, capsys):
    name = _module(tmp_path, monkeypatch, "imports_slowly", "raise KeyboardInterrupt  # torch loading\n")
    assert cli.launch([name, "run"]) == 130
    assert capsys.readouterr().err == "imports_slowly: interrupted\n"


def test_ctrl_c_during_imports_is_held_until_main_starts_then_ends_the_run(tmp_path, monkeypatch,
                                                                            capsys):
    # a library may swallow a KeyboardInterrupt raised inside its import (and leave itself half
    # imported): the signal must not raise there, only once the command is about to run
    body = ("import os, signal\n"
            "from pipeline import cli\n"
            "try:\n"
            "    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while importing\n"
            "except KeyboardInterrupt:\n"
            "    SWALLOWED = True  # what a careless library does\n"
            "ran = []\n"
            "if __name__ == '__main__':\n"
            "    cli.run('ctrl_c_module', '', {'go': cli.Command(lambda a: ran.append(1) or 'ran', '')})\n")
    name = _module(tmp_path, monkeypatch, "ctrl_c_module", body)
    with pytest.raises(SystemExit) as done:
        cli.launch([name, "go"])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    out = capsys.readouterr()
    assert done.value.code == 130 and out.out == "" and out.err.startswith("ctrl_c_module: interrupted")


def test_launch_runs_the_module_as_main_with_its_arguments(tmp_path, monkeypatch, capsys):
    body = "import sys\nif __name__ == '__main__':\n    print(sys.argv[1:])\n    sys.exit(3)\n"
    name = _module(tmp_path, monkeypatch, "says_its_arguments", body)
    with pytest.raises(SystemExit) as done:
        cli.launch([name, "run", "-x"])
    assert done.value.code == 3 and capsys.readouterr().out == "['run', '-x']\n"


def test_a_user_error_is_one_line_with_its_exit_code(capsys):
    class Refused(cli.UserError):
        exit_code = 4

    def fails(args):
        raise Refused("config.toml: something is wrong; do this")
    assert cli.main("prog", "doc", {"go": cli.Command(fails, "")}, ["go"]) == 4
    assert capsys.readouterr().err == "error: config.toml: something is wrong; do this\n"


def _interrupt(args, after, wait_for=None):
    """Start `python -m pipeline ARGS` as make does (QUICK=1), send Ctrl-C to its process group
    `after` seconds (or `after` seconds after stdout shows `wait_for`); (exit code, stderr)."""
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", *args], cwd=paths.ROOT,
                            env={**os.environ, "QUICK": "1"}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    if wait_for:
        for line in proc.stdout:
            if wait_for in line:
                break
    time.sleep(after)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends the terminal's foreground group
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


@pytest.mark.slow
def test_ctrl_c_while_torch_loads_is_one_line():
    code, err = _interrupt(["experiments.q1", "run"], after=0.3)
    assert code == 130 and err.startswith("experiments.q1: interrupted") and err.count("\n") == 1, err


@pytest.mark.slow
def test_ctrl_c_during_training_is_one_line_and_keeps_the_results_as_they_were():
    # the run reads its sections from the files that make writes from config.toml
    sections = subprocess.run(["make", "--no-print-directory", "results/quick/.config/q1.json"],
                              cwd=paths.ROOT, env={**os.environ, "QUICK": "1"}, capture_output=True,
                              text=True)
    assert sections.returncode == 0, sections.stderr
    metrics = paths.QUICK_RESULTS / "q1" / "metrics.json"
    before = metrics.stat().st_mtime_ns if metrics.exists() else None
    code, err = _interrupt(["experiments.q1", "run"], after=0.5, wait_for="q1: ")  # workers running
    assert code == 130 and err == ("experiments.q1: interrupted; finished files are kept, "
                                   "unfinished ones were discarded\n")
    assert (metrics.stat().st_mtime_ns if metrics.exists() else None) == before
