"""The configuration's defaults, whose one home is the section dataclasses (pipeline.config for
[student], [data], [report]; pipeline.tasks for each task's section): a key left out of
config.toml takes its dataclass default. The tests' pinned configuration is written from them
(`toml_text`), and the docs are checked against their keys.

    python -m pipeline.defaults    # each key config.toml sets to another value than its default
"""
from __future__ import annotations

import dataclasses
import json

from pipeline import cli, config, paths


def _value(value) -> str:
    if isinstance(value, dict):  # an inline table, such as target_test_acc = {mnist = 0.9}
        return "{" + ", ".join(f"{key} = {_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)  # quoted and escaped, true/false, numbers


def toml_text(sections: dict) -> str:
    """{section name: dataclass} as config.toml text that config.load reads back to the same."""
    lines = []
    for name, section in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {_value(value)}" for key, value in dataclasses.asdict(section).items()]
        lines.append("")
    return "\n".join(lines)


def defaults() -> dict:
    return {name: section() for name, section in config.SECTIONS.items()}


def differences(sections: dict) -> list[str]:
    """`[section] key = value (default: value)` for each key whose value is not the default."""
    found = []
    for name, section in sections.items():
        default = dataclasses.asdict(config.SECTIONS[name]())
        for key, value in dataclasses.asdict(section).items():
            if value != default[key]:
                found.append(f"[{name}] {key} = {_value(value)} (default: {_value(default[key])})")
    return found


def _differences_line(args) -> str:
    changed = differences(config.load(paths.CONFIG, quick=False))
    return "\n".join(changed) if changed else "config.toml: every key at its default"


if __name__ == "__main__":
    cli.run("pipeline.defaults", __doc__, {
        "differences": cli.Command(_differences_line, "the keys config.toml sets to other values")})
