"""The source files each output depends on, read off the code's own imports: what the Makefile
uses as prerequisites and provenance hashes, so that an edit re-runs exactly what it affects and
stale results are caught, and a new module is counted the day it is imported.

An output's sources are its entry module (`experiments.<task>` for a task, by the naming rule of
pipeline/tasks.py) and every module of this repository it imports, directly or not, read with
`ast` (nothing is imported or run), plus each data file beside one of them that it names (a
grammar, a Lua file). Left out is the plumbing whose edits cannot change a number: the pipeline
package (command line, config parsing, paths, provenance), atomic writes, messages and names, and
the packages' __init__.py docstrings. Standard library only: the Makefile asks with the system Python.
"""
from __future__ import annotations

import ast
import hashlib
import sys
from functools import cache
from pathlib import Path

from pipeline.tasks import TASKS

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hw1", "pipeline", "derivations", "experiments", "report")
PLUMBING = ("pipeline", "hw1.atomic", "hw1.messages", "hw1.names")
DATA_SUFFIXES = (".lark", ".lua")
ENTRIES = {"derivations": "derivations.build",
           **{task.name: f"experiments.{task.name}" for task in TASKS},
           "plots": "experiments.plots", "report": "report.__main__"}


def module_file(module: str) -> Path | None:
    path = ROOT.joinpath(*module.split("."))
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _imported(module: str) -> set[str]:
    """The modules of this repository that `module` names in an import statement."""
    path = module_file(module)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..a import b
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in PACKAGES and module_file(name)}


def _is_plumbing(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in PLUMBING)


def _modules(entry: str) -> set[str]:
    seen, todo = set(), [entry]
    while todo:
        module = todo.pop()
        if module not in seen and not _is_plumbing(module):
            seen.add(module)
            todo.extend(_imported(module))
    return seen


def _named_data_files(path: Path) -> list[Path]:
    """Grammars and Lua files beside a module whose names its source spells (formula_latex.lark):
    code in another language (outputs such as report.pdf, or setup scripts, are not sources)."""
    text = path.read_text(encoding="utf-8")
    return [other for other in sorted(path.parent.iterdir())
            if other.suffix in DATA_SUFFIXES and other.is_file() and other.name in text]


@cache
def code_files(output: str) -> tuple[str, ...]:
    """The files, as typed from the repository's root, whose content `output` depends on."""
    files = set()
    for module in _modules(ENTRIES[output]):
        path = module_file(module)
        if path.name != "__init__.py":
            files.add(path)
        files.update(_named_data_files(path))
    return tuple(sorted(str(f.relative_to(ROOT)) for f in files))


STAMPS = ROOT / "results" / ".code"  # <output>.sha256: its code hash, rewritten when it changes


def code_hash(output: str) -> str:
    """sha256 over the output's source files, by name and content."""
    digest = hashlib.sha256()
    for rel in code_files(output):
        digest.update(rel.encode() + b"\0" + (ROOT / rel).read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def write_stamps() -> list[str]:
    """Rewrite results/.code/<output>.sha256 where the code hash changed, and only there: Make
    re-runs an output whose stamp is newer than it, so a change it cannot see by the files' times
    (a module newly imported, an older file restored) re-runs exactly what it affects."""
    STAMPS.mkdir(parents=True, exist_ok=True)
    changed = []
    for output in ENTRIES:
        stamp, digest = STAMPS / f"{output}.sha256", code_hash(output) + "\n"
        if not stamp.is_file() or stamp.read_text() != digest:
            tmp = stamp.with_suffix(".tmp")
            tmp.write_text(digest)
            tmp.replace(stamp)
            changed.append(output)
    return changed


if __name__ == "__main__":  # the Makefile's stamps rule, with the system Python
    if sys.argv[1:] != ["stamps"]:
        sys.exit("usage: python3 -m pipeline.sources stamps")
    write_stamps()
