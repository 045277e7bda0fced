"""config.toml: the one file a student edits, and the one module that reads it. Parsed into
dataclasses, validated before any work.

    python -m pipeline.config sections    # write results/.config/<section>.json when it changed
    python3 -m pipeline.config makefile   # the Makefile's variables, for [data] dataset

Only these two commands, which Make runs, parse config.toml; every step reads the section files
(`read_sections`) that the first writes, the files Make tracks.

Unknown keys and invalid values raise ConfigError naming the key, before any training starts.
The per-section JSON files let Make re-run only what a section feeds: a `[student]` edit
re-typesets the report, a `[q2]` edit re-runs Task 2 alone. The Makefile reads its variables with
the system Python while it parses (standard library only, here and in what this module imports),
so that its data files and results folders are the configured dataset's.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from hw1.atomic import write_text
from hw1.names import DATASETS, DEFAULT_DATASET
from pipeline import cli, paths
from pipeline.tasks import TASKS


class ConfigError(cli.UserError):
    """config.toml has an unknown key or an invalid value; the message names the key."""


@dataclass(frozen=True)
class Student:
    # Placeholders: the report shows them (marked as unset); `make submission` refuses them.
    name: str = "Student Name"
    id: str = "000000000"


def unset_student_keys(student: Student) -> list[str]:
    """The [student] keys still at their placeholder: the zip must not carry them."""
    defaults = Student()
    return [f"[student] {key}" for key in ("name", "id")
            if getattr(student, key) == getattr(defaults, key)]


# The characters a [student] name may hold, by script: every character of these ranges is in the
# font report/render/jinja.py gives its script (tests/test_report.py reads the fonts' character maps),
# and names in each script were typeset and read back from the PDF. Anything else is refused here,
# before any work, rather than failing in LaTeX at a template line the student never wrote.
NAME_SCRIPTS = {
    "Latin": [(0x0020, 0x007E), (0x00A0, 0x0137), (0x0139, 0x0148), (0x014A, 0x0165),
              (0x0168, 0x017F),
              (0x01A0, 0x01A1), (0x01AF, 0x01B0),  # Vietnamese horned o and u
              (0x01CD, 0x01D4), (0x01D7, 0x01DC),  # Pinyin tone marks on vowels and ü
              (0x0218, 0x021B),                    # Romanian s and t with comma below
              (0x0300, 0x0304), (0x0306, 0x030C), (0x0323, 0x0323),  # combining accents
              (0x1EA0, 0x1EF9)],                   # Vietnamese vowels with tone marks
    "Greek": [(0x0384, 0x038A), (0x038C, 0x038C), (0x038E, 0x03A1), (0x03A3, 0x03CE),
              (0x1F00, 0x1FFE)],                   # monotonic and polytonic
    "Cyrillic": [(0x0400, 0x0477), (0x047A, 0x0486), (0x0488, 0x04CE), (0x04D0, 0x04F9),
                 (0x04FC, 0x04FF)],
    "Hebrew": [(0x0591, 0x05C7), (0x05D0, 0x05EA), (0x05F0, 0x05F4)],  # with points, geresh
    "Arabic": [(0x0606, 0x061B), (0x061E, 0x06FF)],  # Persian and Urdu letters included
    "Chinese": [(0x3400, 0x4DB5), (0x4E00, 0x9FEA)],  # CJK Unified Ideographs and Extension A
}
# Invisible or layout characters: control codes, format marks (bidi overrides, soft hyphen),
# unassigned code points, and every space but the plain one.
NAME_REFUSED_CATEGORIES = {"Cc", "Cf", "Cn", "Co", "Cs", "Zl", "Zp", "Zs"}


def name_script(char: str) -> str | None:
    """The NAME_SCRIPTS script a name character belongs to, or None if the report cannot set it."""
    if char != " " and unicodedata.category(char) in NAME_REFUSED_CATEGORIES:
        return None
    code = ord(char)
    for script, ranges in NAME_SCRIPTS.items():
        if any(low <= code <= high for low, high in ranges):
            return script
    return None


def name_scripts(name: str) -> list[str]:
    """The scripts a valid name uses, in NAME_SCRIPTS order (the report loads a font for each)."""
    used = {name_script(char) for char in unicodedata.normalize("NFC", name)}
    return [script for script in NAME_SCRIPTS if script in used]


def _check_student_name(name: str, key: str) -> None:
    _require(bool(name.strip()), key, name, "write your name as the report's title should show it")
    # NFC: a decomposed e + combining circumflex + dot below is the one character ệ the fonts draw
    refused = next((c for c in unicodedata.normalize("NFC", name) if name_script(c) is None), None)
    if refused is not None:
        scripts = ", ".join(NAME_SCRIPTS).replace("Latin", "Latin (with diacritics)")
        raise ConfigError(f"config.toml: {key} = {name!r} is invalid: {refused!r} "
                          f"({_describe(refused)}) cannot be typeset in the report, which sets "
                          f"letters of the {scripts} scripts, spaces and ASCII punctuation: "
                          f"remove it, or write the name in one of those scripts")


def _describe(char: str) -> str:
    kind = {"Cc": "a control character", "Cn": "an unassigned code point"}
    name = unicodedata.name(char, "") or kind.get(unicodedata.category(char), "unnamed")
    return f"U+{ord(char):04X} {name}"


ID_MAX_LENGTH = 64


def _check_student_id(student_id: str, key: str) -> None:
    # isalnum() alone accepts full-width and other non-ASCII digits that look like 0-9
    _require(student_id.isascii() and student_id.isalnum(), key, student_id,
             "ASCII letters A-Z, a-z and digits 0-9 only (it names the zip and its files)")
    _require(len(student_id) <= ID_MAX_LENGTH, key, student_id,
             f"at most {ID_MAX_LENGTH} characters (it names files, whose names have a length limit)")


@dataclass(frozen=True)
class Data:
    dataset: str = DEFAULT_DATASET    # mnist | fashion-mnist: both tasks, figures and prose


@dataclass(frozen=True)
class Report:
    appendix: bool = True             # verification table and provenance after the two-page body
    audit: str = "stop"               # a template's hand-typed number, relation or verdict: stop | warn


AUDIT_MODES = ("stop", "warn")
# Each task's section is declared with the task (pipeline/tasks.py), its checks beside its keys.
SECTIONS = {"student": Student, "data": Data, **{task.name: task.section for task in TASKS},
            "report": Report}
TASK_SECTIONS = tuple(task.name for task in TASKS)
# [student] alone may be left out: the report then shows its placeholders in a red box, and
# `make submission` refuses them; so may [data], for MNIST, the homework's dataset. Any other
# missing section is an error, never silent defaults.
OPTIONAL_SECTIONS = ("student", "data")
RESTORE = "`git show HEAD:config.toml` prints the repository's copy"


def _check_type(key: str, value, default) -> None:
    if isinstance(default, list):  # every default list is non-empty: its first item is the type
        ok = isinstance(value, list) and all(_matches(v, default[0]) for v in value)
    elif isinstance(default, dict):  # likewise: any of its values is the type
        example = next(iter(default.values()))
        ok = isinstance(value, dict) and all(_matches(v, example) for v in value.values())
    else:
        ok = _matches(value, default)
    if not ok:
        raise ConfigError(f"config.toml: {key} = {value!r} has the wrong type; expected "
                          f"{type(default).__name__} like {default!r}")


def _matches(value, example) -> bool:
    """Same type as the example; an int is a valid float, a bool is never a number."""
    if isinstance(example, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return type(value) is type(example)


def _require(cond: bool, key: str, value, what: str) -> None:
    if not cond:
        raise ConfigError(f"config.toml: {key} = {value!r} is invalid: {what}")


def _validate_values(name: str, s) -> None:
    k = lambda f: f"[{name}] {f}"  # noqa: E731 - short key namer for messages
    if name == "student":
        _check_student_name(s.name, k("name"))
        _check_student_id(s.id, k("id"))
    if name == "data":
        _require(s.dataset in DATASETS, k("dataset"), s.dataset, f"one of {', '.join(DATASETS)}")
    if name in TASK_SECTIONS:
        s.check(_requirer(name, s))
    if name == "report":
        _require(s.audit in AUDIT_MODES, k("audit"), s.audit, f"one of {', '.join(AUDIT_MODES)}")


def _requirer(name: str, section):
    """The `require(ok, key, what)` a task's section checks itself with (pipeline/tasks.py)."""
    return lambda ok, key, what: _require(ok, f"[{name}] {key}", getattr(section, key), what)


def _section(name: str, table: dict):
    cls = SECTIONS[name]
    defaults = cls()
    known = {f.name for f in dataclasses.fields(cls)}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"config.toml: unknown key [{name}] {key}; known keys: "
                              f"{', '.join(sorted(known))}")
        _check_type(f"[{name}] {key}", value, getattr(defaults, key))
    floats = {f.name for f in dataclasses.fields(cls) if isinstance(getattr(defaults, f.name), float)}
    table = {k: float(v) if k in floats else v for k, v in table.items()}
    section = cls(**table)
    _validate_values(name, section)
    return section


def _check_section_names(raw: dict) -> None:
    for name, value in raw.items():
        if name not in SECTIONS:
            raise ConfigError(f"config.toml: unknown section [{name}]; known: {', '.join(SECTIONS)}")
        if not isinstance(value, dict):
            raise ConfigError(f"config.toml: {name} = {value!r} must be a section: a line [{name}] "
                              f"with its keys below it; {RESTORE}")
    missing = [f"[{name}]" for name in SECTIONS if name not in raw and name not in OPTIONAL_SECTIONS]
    if not raw:
        raise ConfigError(f"config.toml is empty: it needs the sections {_listed(missing, 'and')}, "
                          f"and [student] for your name; {RESTORE}")
    if missing:
        raise ConfigError(f"config.toml has no {_listed(missing, 'or')} section; copy "
                          f"{'it' if len(missing) == 1 else 'them'} back: {RESTORE}")


def _listed(items: list[str], conjunction: str) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def _quick(sections: dict) -> dict:
    """QUICK=1: the same pipeline with few epochs and one seed (each task says how)."""
    return {name: section.quick() if name in TASK_SECTIONS else section
            for name, section in sections.items()}


def _read(path: Path) -> dict:
    shown = paths.relative(path)
    if Path(path).exists() and not Path(path).is_dir() and not Path(path).is_file():
        raise ConfigError(f"{shown} is not a regular file (a device, a pipe or a link to one); "
                          f"remove it and `git checkout config.toml` restores the repository's copy")
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))  # Notepad's BOM too
    except FileNotFoundError:
        raise ConfigError(f"{shown} is missing; `git checkout config.toml` "
                          f"restores the repository's copy") from None
    except IsADirectoryError:
        raise ConfigError(f"{shown} is a folder, not a file; move it away and `git checkout "
                          f"config.toml` restores the repository's copy") from None
    except UnicodeDecodeError as err:
        line = Path(path).read_bytes()[:err.start].count(b"\n") + 1
        raise ConfigError(f"{shown}:{line} is not UTF-8 (byte 0x{err.object[err.start]:02x}); "
                          f"save it as UTF-8 in your editor") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{shown} is not valid TOML: {err}") from None


def dataset(path: Path = paths.CONFIG) -> str:
    """[data] dataset, validated with its section alone: what the Makefile needs to parse, so that
    a typo elsewhere still lets `make help` and `make clean` run."""
    table = _read(path).get("data", {})
    if not isinstance(table, dict):
        raise ConfigError("config.toml: [data] must be a section, like [data] dataset = \"mnist\"")
    return _section("data", table).dataset


def load(path: Path = paths.CONFIG, *, quick: bool) -> dict:
    """{section name: dataclass} with every value validated; trimmed as QUICK=1 runs when `quick`."""
    raw = _read(path)
    _check_section_names(raw)
    sections = {name: _section(name, raw.get(name, {})) for name in SECTIONS}
    _check_dataset_keys(sections)
    return _quick(sections) if quick else sections


def _check_dataset_keys(sections: dict) -> None:
    """The keys a task's section gives per dataset must give one for [data] dataset."""
    for name in TASK_SECTIONS:
        sections[name].check_dataset(sections["data"].dataset, _requirer(name, sections[name]))


def section_hash(section) -> str:
    text = json.dumps(dataclasses.asdict(section), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def write_sections(out_dir: Path, sections: dict, quick: bool) -> list[str]:
    """Write <section>.json only when its content changed, so Make sees an edit only where it is;
    each records whether its values were trimmed for QUICK=1."""
    out_dir.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, section in sections.items():
        target = out_dir / f"{name}.json"
        text = json.dumps({"quick": quick, **dataclasses.asdict(section)}, sort_keys=True,
                          indent=1)
        if not target.exists() or target.read_text() != text:
            write_text(target, text)
            changed.append(name)
    return changed


def read_sections(results: Path, names=tuple(SECTIONS)) -> dict:
    """{section name: dataclass} as `make` last wrote them from config.toml, into
    <results>/.config/<section>.json: what every step reads, so that config.toml is parsed once
    per `make` run and each step sees exactly the section file that Make tracks."""
    return {name: _read_section(results / ".config" / f"{name}.json", name, results)
            for name in names}


def read_dataset(results: Path) -> str:
    """[data] dataset, from its section file."""
    return read_sections(results, ("data",))["data"].dataset


def _read_section(path: Path, name: str, results: Path):
    command = paths.make_command("report", results)
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
        table.pop("quick")
    except FileNotFoundError:
        raise ConfigError(f"{paths.relative(path)} is missing; run `{command}`, which writes it "
                          f"from config.toml") from None
    except (ValueError, KeyError, TypeError, AttributeError):  # truncated or hand-edited
        raise ConfigError(f"{paths.relative(path)} is damaged; delete it and run `{command}`") from None
    return _section(name, table)


def _sections_line(args) -> str:
    mode = args.mode
    changed = write_sections(mode.config_sections, load(quick=mode.quick), mode.quick)
    return f"config: changed sections: {', '.join(changed)}" if changed else ""


def _makefile_lines(args) -> str:
    return paths.makefile_variables(dataset(), tuple(SECTIONS)).rstrip("\n")


if __name__ == "__main__":
    cli.run("pipeline.config", __doc__, {
        "sections": cli.Command(_sections_line, "write results/.config/<section>.json when it changed"),
        "makefile": cli.Command(_makefile_lines, "the Makefile's variables for [data] dataset")})
