"""Setup's order: TeX installs beside the environment and the pipeline, and only typesetting waits.

Nothing is installed or removed: stub commands earlier on PATH stand in for Debian's apt-get, a TeX
that is missing (kpsewhich finds no package until the stub apt-get "installs" it) and a user who is
not root (`id -u`).
"""
import os
import shutil
import stat
import subprocess

import pytest

from pipeline import paths

SCRIPT = paths.ROOT / "report" / "tex" / "ensure_tex.sh"


def _stub(folder, name, script):
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def machine(tmp_path):
    """A PATH on which TeX is missing until apt-get has run (and apt-get blocks until `release`
    exists, made at the end in any case); yields the environment and the tmp folder."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    installed, release = tmp_path / "installed", tmp_path / "release"
    _stub(stubs, "kpsewhich", f"test -e {installed}\n")
    _stub(stubs, "luaotfload-tool", "exit 0\n")
    _stub(stubs, "id", "echo 0\n")
    _stub(stubs, "apt-get", f'echo "apt-get $@"\nwhile [ ! -e {release} ]; do sleep 0.1; done\n'
                            f'touch {installed}\n')
    env = {**os.environ, "PATH": f"{stubs}{os.pathsep}{os.environ['PATH']}",
           "TEX_STATE": str(tmp_path / "state")}
    yield env, tmp_path
    release.touch()  # a test that failed halfway leaves no stub apt-get waiting


def _run(env, *args, timeout=60):
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=paths.ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_as_root_tex_installs_in_the_background_and_wait_waits_for_it(machine):
    env, tmp = machine
    started = _run(env, "start")
    assert started.returncode == 0, started.stderr
    log = tmp / "state" / "install.log"
    assert started.stdout.strip() == (f"setup: installing TeX from Debian in the background "
                                      f"(log: {log}); typesetting waits for it")
    assert not (tmp / "installed").exists(), "start returned while apt-get still runs"
    assert "TeX is still installing" in _run(env, "start").stdout, "a second start starts no second install"
    (tmp / "release").touch()
    waited = _run(env, "wait")
    assert waited.returncode == 0, waited.stderr
    assert (tmp / "installed").exists(), "wait returned only when the install had finished"
    assert "install --no-install-recommends latexmk" in log.read_text(), "apt's output is in the log"
    assert _run(env, "start").stdout == "", "TeX present: nothing to do"


def test_wait_without_a_start_installs_tex_the_same_way(machine):
    env, tmp = machine  # a setup from before the background install, or TeX removed since
    (tmp / "release").touch()
    waited = _run(env, "wait")
    assert waited.returncode == 0, waited.stderr
    assert waited.stdout.splitlines()[0].startswith("setup: installing TeX from Debian in the background")
    assert (tmp / "installed").exists()


def test_a_failed_background_install_shows_its_log_when_typesetting_waits(machine):
    env, tmp = machine
    _stub(tmp / "bin", "apt-get", "echo 'E: Sub-process /usr/bin/dpkg returned an error code (1)'; exit 100\n")
    assert _run(env, "start").returncode == 0
    waited = _run(env, "wait")
    assert waited.returncode == 1
    assert "error: installing TeX failed (apt-get exit 100)" in waited.stderr
    assert "| E: Sub-process /usr/bin/dpkg returned an error code (1)" in waited.stderr


def test_not_root_the_apt_get_command_comes_first(machine):
    env, tmp = machine
    _stub(tmp / "bin", "id", "echo 1000\n")
    for step in ("start", "wait"):
        done = _run(env, step)
        assert done.returncode == 1 and done.stdout == ""
        lines = done.stderr.splitlines()
        assert lines[0].startswith("error: TeX is missing (")
        assert lines[1].startswith("  sudo apt-get update && sudo apt-get install -y ")
        assert "latexmk" in lines[1] and "fonts-noto-cjk" not in lines[1], "script fonts come on demand"
    assert not (tmp / "state").exists()


def _fresh_copy(folder):
    """The repository's files (tracked or not ignored), without .venv/, data/ or results/: a fresh
    clone."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                            cwd=paths.ROOT, capture_output=True, text=True, check=True).stdout
    for name in filter(None, listed.split("\0")):
        if (paths.ROOT / name).is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(paths.ROOT / name, folder / name)
    return folder


def _recipe(target: str) -> list[str]:
    lines = (paths.ROOT / "Makefile").read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = []
    for line in lines[at + 1:]:
        if not line.startswith("\t"):
            return recipe
        recipe.append(line.strip())
    return recipe


def test_setup_starts_tex_before_pip_and_never_waits_for_it():
    recipe = _recipe("$(STAMP)")
    start = next(i for i, line in enumerate(recipe) if "ensure_tex.sh start" in line)
    pip = next(i for i, line in enumerate(recipe) if "pip install" in line)
    assert start < pip and not any("ensure_tex.sh wait" in line for line in recipe)


def test_the_pipeline_runs_before_anything_waits_for_tex(tmp_path):
    repo = _fresh_copy(tmp_path / "repo")
    for linked in (".venv", "data"):  # the environment as set up: Make plans only the pipeline
        (repo / linked).symlink_to(paths.ROOT / linked)
    # -W: as if ensure_tex.sh had just changed, so that the TeX stamp is out of date (a fresh
    # machine); -o: the environment's is taken as it is (nothing is installed into the link)
    plan = subprocess.run(["make", "--no-print-directory", "-n", "-W", "report/tex/ensure_tex.sh",
                           "-o", ".venv/.setup-done", "report"],
                          cwd=repo, env={**os.environ, "QUICK": "1"}, capture_output=True,
                          text=True).stdout.splitlines()

    def first(fragment):
        return next(i for i, line in enumerate(plan) if fragment in line)
    wait = first("ensure_tex.sh wait")
    for step in ("derivations build", "experiments.q1 run", "experiments.q2 run", "experiments.plots"):
        assert first(step) < wait, f"{step} runs before anything waits for TeX"
    assert wait < first("report build")
    assert sum("ensure_tex" in line for line in plan) == 1


def test_not_root_make_setup_stops_before_any_long_work(tmp_path, machine):
    env, tmp = machine
    _stub(tmp / "bin", "id", "echo 1000\n")
    repo = _fresh_copy(tmp_path / "repo")
    done = subprocess.run(["make", "--no-print-directory", "setup"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert done.stderr.startswith("error: TeX is missing")
    assert done.stdout == "" and not (repo / ".venv").exists(), "no venv, no pip before the message"
