"""Messages that stay one line: a long reason cut at a word, and an OSError the environment causes
(read-only, full or forbidden) as what to do rather than a traceback."""
from __future__ import annotations


def cut(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, cut at a word (never inside one), with … if cut."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    head = text[:limit - 1]
    return (head.rsplit(" ", 1)[0] if " " in head else head).rstrip(" ,;:") + "…"


# What to do about an OSError the environment causes, by errno name, rather than a traceback.
ENVIRONMENT_ERRORS = {
    "EROFS": "it is on a read-only file system; work in a copy you can write to",
    "ENOSPC": "the disk is full; free some space, then run it again",
    "EDQUOT": "your disk quota is used up; free some space, then run it again",
    "EACCES": "you have no permission to write there; change its owner or mode (ls -ld shows "
              "them), or work in a copy of your own",
    "EPERM": "you have no permission to write there; change its owner or mode (ls -ld shows "
             "them), or work in a copy of your own",
}


def full_device(err: BaseException) -> str | None:
    """One line for a full disk or shared memory that a library reports as other than OSError
    (torch's workers: "unable to write to file </torch_...>: No space left on device (28)");
    None for anything else."""
    text = str(err)
    if "No space left on device" not in text:
        return None
    where = "shared memory (/dev/shm)" if "/torch_" in text or "shm" in text else "the disk"
    return (f"{where} is full (No space left on device); free some space (`df -h` shows where), "
            f"then run it again")


def environment_error(err: OSError) -> str | None:
    """One line naming the path and what to do, for a read-only, full or forbidden place; None
    for any other OSError (a bug, left to show its traceback)."""
    import errno
    advice = ENVIRONMENT_ERRORS.get(errno.errorcode.get(err.errno, ""))
    if advice is None:
        return None
    where = err.filename or "a file"
    return f"cannot write {where} ({err.strerror}): {advice}"


def user_error(err: Exception) -> tuple[str, int] | None:
    """The `error: ...` line and exit code of an error the user can fix: one that carries an
    exit_code (the project's own), or an OSError of the environment (read-only, full, forbidden).
    None for anything else: a bug, left to show its traceback."""
    if hasattr(err, "exit_code"):
        return f"error: {err}", err.exit_code
    # torch reports a full shared memory (/dev/shm) as a RuntimeError, with the tensors it held
    line = environment_error(err) if isinstance(err, OSError) else full_device(err)
    return None if line is None else (f"error: {line}", 1)
