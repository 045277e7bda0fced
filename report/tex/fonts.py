"""The fonts a [student] name needs, installed when a name first needs them.

Setup installs what a Latin name needs (report/tex/ensure_tex.sh). Each other script's font
(render.NAME_FONTS, its Debian package render.FONT_PACKAGES) is looked up with fontconfig, which
LuaLaTeX's font loader reads too, before typesetting. A missing one is installed when we are root
with apt (`ensure_tex.sh fonts`, its output in the log it names); otherwise the build stops with the
package and the command, never with LaTeX's error about a font it cannot find.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass

from pipeline import config, paths
from report.render import jinja as render
from report.errors import ReportError

ENSURE_TEX = paths.ROOT / "report" / "tex" / "ensure_tex.sh"
CANNOT_INSTALL = 3  # ensure_tex.sh fonts: not root, or no apt-get


@dataclass(frozen=True)
class NameFont:
    script: str
    family: str
    package: str


def needed(name: str) -> list[NameFont]:
    """The fonts beyond Latin Modern that the name's scripts need."""
    fonts = []
    for script in config.name_scripts(name):
        if script in render.NAME_FONTS:
            family = render.NAME_FONTS[script][1]
            fonts.append(NameFont(script, family, render.FONT_PACKAGES[family]))
    return fonts


def installed(family: str) -> bool:
    try:
        return subprocess.run(["fc-list", "-q", f":family={family}"]).returncode == 0
    except FileNotFoundError:
        raise ReportError("fontconfig (fc-list) is missing; run `make setup` (it installs TeX)") from None


def missing(name: str) -> list[NameFont]:
    return [font for font in needed(name) if not installed(font.family)]


def _packages(fonts: list[NameFont]) -> list[str]:
    return list(dict.fromkeys(font.package for font in fonts))


def _described(fonts: list[NameFont]) -> str:
    return ", ".join(f"{font.script} ({font.family})" for font in fonts)


def ensure(name: str) -> None:
    """Every font the name needs is installed, or one message names the packages and the command."""
    absent = missing(name)
    if not absent:
        return
    packages = _packages(absent)
    # a session of its own: Ctrl-C stops this build, never dpkg halfway (the next run waits for it)
    done = subprocess.run(["bash", str(ENSURE_TEX), "fonts", *packages], cwd=paths.ROOT,
                          start_new_session=True)
    if done.returncode == CANNOT_INSTALL:
        raise ReportError(f"the [student] name needs the font of its {_described(absent)}, which is "
                          f"not installed: run `sudo apt-get install -y {' '.join(packages)}`, "
                          f"then the command again")
    if done.returncode != 0:
        raise ReportError(f"installing {' '.join(packages)} for the [student] name failed (its "
                          f"log is above); fix what it says, then run the command again")
    still = missing(name)
    if still:
        raise ReportError(f"{' '.join(_packages(still))} installed, but fontconfig still finds no "
                          f"{', '.join(font.family for font in still)}; run `fc-cache -f`, then the "
                          f"command again")
    # LuaLaTeX would rescan at its first miss anyway; now, so that the build's time is its own
    subprocess.run(["luaotfload-tool", "--update"], capture_output=True)
