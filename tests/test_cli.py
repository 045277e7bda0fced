"""The one command-line runner: user errors and Ctrl-C are one line, never a traceback."""
import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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


@pytest.mark.parametrize("code, advice", [
    (errno.EROFS, "it is on a read-only file system; work in a copy you can write to"),
    (errno.ENOSPC, "the disk is full; free some space, then run it again"),
    (errno.EDQUOT, "your disk quota is used up"),
    (errno.EACCES, "you have no permission to write there; change its owner or mode"),
])
def test_a_read_only_full_or_forbidden_checkout_is_one_line_naming_the_path(code, advice, capsys):
    def fails(args):
        raise OSError(code, os.strerror(code), "results/q1/.q1_weights.pkl.x1.tmp")
    assert cli.main("experiments.q1", "doc", {"run": cli.Command(fails, "")}, ["run"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot write results/q1/.q1_weights.pkl.x1.tmp "
                          f"({os.strerror(code)}): {advice}") and err.count("\n") == 1


def test_a_real_full_disk_is_one_line(tmp_path, capsys):
    """/dev/full answers every write with ENOSPC, as a full disk does."""
    def writes(args):
        with open("/dev/full", "w") as full:
            full.write("x" * 100_000)
            full.flush()
    assert cli.main("report", "doc", {"build": cli.Command(writes, "")}, ["build"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write ") and "the disk is full" in err and err.count("\n") == 1


def test_a_second_step_waits_for_the_lock_then_skips_work_done_meanwhile(tmp_path):
    target = tmp_path / "metrics.json"
    with cli.checkout_lock("test") as waited:
        assert waited is None  # free
        second = subprocess.Popen([sys.executable, "-m", "pipeline", "--lock", str(target),
                                   "no.such.module"], cwd=paths.ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        line = second.stderr.readline()
        assert line == "no.such.module: another make is running in this checkout; waiting for it to finish\n"
        assert second.poll() is None, "it waits"
        target.write_text("written by the first")
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0 and err == "", err  # the module never ran: it does not exist
    assert out == f"no.such.module: {target} was written by another make meanwhile; nothing more to do\n"


def test_a_step_that_had_to_wait_runs_when_its_target_was_not_written(tmp_path):
    with cli.checkout_lock("test"):
        second = subprocess.Popen([sys.executable, "-m", "pipeline", "--lock", str(tmp_path / "x"),
                                   "pipeline.config", "no-such-command"], cwd=paths.ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert "waiting" in second.stderr.readline()
    out, err = second.communicate(timeout=60)
    assert second.returncode == 2 and "invalid choice" in err  # it ran


def test_a_child_ends_when_its_parent_is_killed(tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", (
        "import os, subprocess, sys, time\n"
        "from pipeline import cli\n"
        "me = os.getpid()\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'],"
        " preexec_fn=lambda: cli.end_with_parent(me))\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(120)\n")], cwd=paths.ROOT, stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.kill()  # kill -9: no clean-up of its own runs
    parent.wait()
    for _ in range(200):
        state = Path(f"/proc/{child}/stat")
        if not state.exists() or state.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the child outlived its killed parent")


def test_a_target_written_by_another_make_since_this_one_started_is_not_made_again(tmp_path):
    target = tmp_path / "q1_accuracy.pdf"
    started = time.time()
    target.write_text("drawn by the other make, which has finished")
    env = {**os.environ, "HW1_MAKE_STARTED": f"{started:.6f}"}
    done = subprocess.run([sys.executable, "-m", "pipeline", "--lock", str(target), "no.such.module"],
                          cwd=paths.ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "nothing more to do" in done.stdout, done.stderr
    older = {**env, "HW1_MAKE_STARTED": f"{time.time() + 60:.6f}"}  # written before this make began
    done = subprocess.run([sys.executable, "-m", "pipeline", "--lock", str(target), "no.such.module"],
                          cwd=paths.ROOT, env=older, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "No module named 'no'" in done.stderr  # it ran the module


def test_a_full_shared_memory_reported_by_torch_is_one_line(capsys):
    def run(args):
        raise RuntimeError("unable to write to file </torch_1234_5678_0>: No space left on device "
                           "(28)\n" + "tensor([[0.1, 0.2], ...])\n" * 200)
    code = cli.main("experiments.q1", "", {"run": cli.Command(run, "")}, ["run"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err and "tensor" not in err
    assert "shared memory (/dev/shm) is full" in err and "free some space" in err


def test_an_environment_this_user_cannot_run_is_one_line_not_error_126(tmp_path):
    """`sudo make setup` then make as oneself: .venv/bin/python exists but cannot be run."""
    from conftest import repository_copy
    repo = repository_copy(tmp_path / "repo")
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "python").write_text("")  # mode 644: no one may run it
    (repo / ".venv" / ".setup-done").touch()
    done = subprocess.run(["make", "--no-print-directory", "report"], cwd=repo,
                          capture_output=True, text=True)
    assert done.returncode != 0 and "Error 126" not in done.stderr
    assert ".venv/bin/python cannot be run by" in done.stderr and done.stderr.count("\n") == 1
    assert subprocess.run(["make", "help"], cwd=repo, capture_output=True).returncode == 0
    (repo / ".venv" / "bin" / "python").unlink()  # half made: `make setup` repairs it, no refusal
    plan = subprocess.run(["make", "-n", "report"], cwd=repo, capture_output=True, text=True)
    assert "cannot be run" not in plan.stderr
