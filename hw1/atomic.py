"""Files written whole or not at all: a reader (Make, the report, a grader) never sees half a file
or half a results folder, whatever interrupts the writer."""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path: str | Path):
    """Yield a temporary path beside `path`; rename it over `path` only when the block succeeds.

    A reader never sees a half-written file: an error or Ctrl-C inside the block leaves the old
    file as it was and deletes the temporary one.
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; the result is an ordinary file
        yield tmp
        os.replace(tmp, path)
    except OSError as err:
        # a read-only or full disk: named by the file being written, not its temporary name
        if tmp is None or err.filename in (None, str(tmp)):
            raise OSError(err.errno, err.strerror, str(path)) from None
        raise
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | Path, text: str) -> None:
    with atomic_write(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(path: str | Path, content: bytes) -> None:
    with atomic_write(path) as tmp:
        tmp.write_bytes(content)


@contextlib.contextmanager
def atomic_folder(path: str | Path):
    """Yield an empty temporary folder; it replaces `path` as a whole only when the block succeeds,
    so a folder of results is either all from one run or all from the previous one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _sweep_killed_runs(path)
    staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes it private; results are for everyone
    try:
        yield staging
        old = path.with_name(f".{path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if path.exists():
            os.replace(path, old)
        os.replace(staging, path)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def running_pid(folder: Path, prefix: str) -> int | None:
    """The pid in a temporary folder named <prefix><pid>-..., when that process still runs."""
    pid = folder.name.removeprefix(prefix).split("-")[0]
    return int(pid) if pid.isdigit() and process_alive(int(pid)) else None


def sweep_dead(parent: Path, prefix: str) -> None:
    """Delete the temporary folders <prefix><pid>-... in `parent` of runs killed outright
    (kill -9 skips their clean-up): those whose process is gone. A running one is left alone,
    as is a name without a pid (not ours to judge)."""
    for folder in Path(parent).glob(f"{prefix}*-*"):
        pid = folder.name.removeprefix(prefix).split("-")[0]
        if pid.isdigit() and running_pid(folder, prefix) is None:
            shutil.rmtree(folder, ignore_errors=True)


def _sweep_killed_runs(path: Path) -> None:
    """What a run killed outright (kill -9, power loss) left beside `path`: its staging folder,
    deleted, and the previous results if it died between the two renames, put back."""
    old = path.with_name(f".{path.name}.old")
    if old.is_dir() and not path.exists():
        os.replace(old, path)
    for stale in path.parent.glob(f".{path.name}.*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
