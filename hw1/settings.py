"""A task's settings as the graders' scripts get them: read from the settings file shipped beside
the scripts (data, never code), and checked field by field when a Settings dataclass is made."""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from .names import ScriptFiles


class SettingsError(Exception):
    exit_code = 1


def read_settings(files: ScriptFiles, task: str) -> dict:
    """The student and this task's hyperparameters, from the settings file beside the script.

    It is data (JSON), never code: the student's name reaches the scripts only this way."""
    import json
    try:
        content = json.loads(files.settings.read_text(encoding="utf-8"))
        return {"student": content["student"], "settings": content[task]}
    except FileNotFoundError:
        raise SettingsError(f"{files.settings} is missing; it comes in the submission zip "
                            f"beside this script") from None
    except (ValueError, KeyError, TypeError) as err:
        raise SettingsError(f"{files.settings} is damaged ({type(err).__name__}: {err}); "
                            f"take it again from the submission zip") from None


def settings_from(cls, values: dict, source: Path):
    """cls (a task's Settings dataclass) from the shipped values, refused in one line if they
    were edited into something else."""
    try:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{**{k: v for k, v in values.items() if k in names},
                      "hidden": tuple(values["hidden"])})
    except (TypeError, KeyError, ValueError) as err:
        raise SettingsError(f"{source} does not hold valid settings ({err}); take it again from "
                            f"the submission zip") from None


def check_fields(settings, ints=(), numbers=(), choices=None) -> None:
    """ValueError unless `hidden` is positive sizes, `ints` positive whole numbers (`seed` from 0
    to 2**63 - 1, what torch.manual_seed takes), `numbers` finite positive numbers, and each
    `choices` field one of its values."""
    def whole(v):
        return isinstance(v, int) and not isinstance(v, bool)

    def value(name):
        return getattr(settings, name)
    ok = {"hidden": bool(settings.hidden) and all(whole(h) and h > 0 for h in settings.hidden)}
    ok.update({f: whole(value(f)) and value(f) >= (0 if f == "seed" else 1) for f in ints})
    if "seed" in ints:
        ok["seed"] = ok["seed"] and value("seed") <= 2 ** 63 - 1
    ok.update({f: (whole(value(f)) or isinstance(value(f), float)) and math.isfinite(value(f))
               and value(f) > 0 for f in numbers})
    ok.update({f: value(f) in allowed for f, allowed in (choices or {}).items()})
    bad = [f for f, passed in ok.items() if not passed]
    if bad:
        raise ValueError("invalid " + ", ".join(f"{f}={value(f)!r}" for f in bad))
