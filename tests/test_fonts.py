"""Fonts on demand: a name's script installs its font (root) or stops with the package and the
command, before LaTeX could fail on it.

A missing font is simulated, never uninstalled: fontconfig is given a configuration that includes
the system's and rejects one family, and stub `id` and `apt-get` commands stand in for a user who
is not root and for Debian's installer.
"""
import os
import stat

import pytest
from conftest import NAMES_BY_SCRIPT

from pipeline import config, paths
from report.tex import fonts
from report.render import jinja as render
from report.errors import ReportError

REJECT_FAMILY = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <include ignore_missing="no">/etc/fonts/fonts.conf</include>
  <selectfont><rejectfont><pattern><patelt name="family"><string>{family}</string></patelt>
  </pattern></rejectfont></selectfont>
</fontconfig>
"""


def _stub(folder, name, script):
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def without_cjk_font(tmp_path, monkeypatch):
    """fontconfig (and so fonts.installed) finds every font but Noto Serif CJK SC.

    The tests below need CMU Serif present beside the missing CJK font. Like every font it is
    installed on demand, so a new machine has it only once a name needed it: ask for it here the
    way a build does (as root it is installed; otherwise the message says what to run)."""
    fonts.ensure(NAMES_BY_SCRIPT["Cyrillic"])
    conf = tmp_path / "fonts.conf"
    conf.write_text(REJECT_FAMILY.format(family="Noto Serif CJK SC"))
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    assert not fonts.installed("Noto Serif CJK SC") and fonts.installed("CMU Serif")
    stubs = tmp_path / "bin"
    stubs.mkdir()
    monkeypatch.setenv("PATH", f"{stubs}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("TEX_STATE", str(tmp_path / "tex"))  # the install log, away from .venv/
    # never rebuild LuaLaTeX's font database from the narrowed fontconfig
    _stub(stubs, "luaotfload-tool", f"touch {tmp_path}/database-updated\n")
    return stubs


def test_each_script_font_has_its_debian_package():
    families = {family for _, family, _ in render.NAME_FONTS.values()}
    assert set(render.FONT_PACKAGES) == families
    assert all(package.startswith("fonts-") for package in render.FONT_PACKAGES.values())


def test_a_latin_name_needs_no_font_beyond_the_base_install():
    assert fonts.needed(NAMES_BY_SCRIPT["Latin"]) == []
    mixed = fonts.needed(f"{NAMES_BY_SCRIPT['Cyrillic']} {NAMES_BY_SCRIPT['Chinese']}")
    assert [(f.script, f.package) for f in mixed] == [("Cyrillic", "fonts-cmu"),
                                                     ("Chinese", "fonts-noto-cjk")]
    assert set(config.name_scripts(" ".join(NAMES_BY_SCRIPT.values()))) - {"Latin"} == set(render.NAME_FONTS)


def test_not_root_a_missing_font_is_one_message_with_the_package_and_command(without_cjk_font):
    _stub(without_cjk_font, "id", "echo 1000\n")
    name = f"{NAMES_BY_SCRIPT['Cyrillic']} {NAMES_BY_SCRIPT['Chinese']}"
    assert [font.family for font in fonts.missing(name)] == ["Noto Serif CJK SC"]
    with pytest.raises(ReportError) as raised:
        fonts.ensure(name)
    message = str(raised.value)
    assert "\n" not in message
    assert "Chinese (Noto Serif CJK SC)" in message
    assert "`sudo apt-get install -y fonts-noto-cjk`" in message
    assert "fonts-cmu" not in message, "CMU Serif is installed: only the missing font is named"
    fonts.ensure(NAMES_BY_SCRIPT["Cyrillic"])  # a name whose font is present passes


def test_as_root_the_missing_font_package_is_installed(without_cjk_font, tmp_path):
    calls = tmp_path / "apt-calls"
    _stub(without_cjk_font, "id", "echo 0\n")
    _stub(without_cjk_font, "apt-get", f'echo "$@" >> {calls}\n')
    with pytest.raises(ReportError) as raised:  # the stub installs nothing: still missing after
        fonts.ensure(NAMES_BY_SCRIPT["Chinese"])
    assert "install --no-install-recommends fonts-noto-cjk" in calls.read_text()
    assert "fonts-noto-cjk installed, but fontconfig still finds no Noto Serif CJK SC" in str(raised.value)
    assert not (tmp_path / "database-updated").exists()


def test_a_failed_font_install_shows_apt_s_log(without_cjk_font, capfd):
    _stub(without_cjk_font, "id", "echo 0\n")
    _stub(without_cjk_font, "apt-get", "echo 'E: Unable to locate package fonts-noto-cjk'; exit 100\n")
    with pytest.raises(ReportError, match="installing fonts-noto-cjk for the .student. name failed"):
        fonts.ensure(NAMES_BY_SCRIPT["Chinese"])
    assert "E: Unable to locate package fonts-noto-cjk" in capfd.readouterr().err


def test_the_report_build_stops_on_the_font_before_latex(without_cjk_font, monkeypatch, tmp_path):
    from report import __main__ as build_step
    from report.tex import latexmk as latex
    from report.render import jinja as renderer
    _stub(without_cjk_font, "id", "echo 1000\n")
    student = {"name": NAMES_BY_SCRIPT["Chinese"], "id": "123"}
    monkeypatch.setattr(build_step.context, "build_context", lambda *a: {"student": student})
    for module, step in ((renderer, "render_all"), (latex, "typeset")):
        monkeypatch.setattr(module, step, lambda *a, **k: pytest.fail("typesetting was reached"))
    with pytest.raises(ReportError, match="fonts-noto-cjk"):
        build_step.build(paths.FULL_MODE, build_dir=tmp_path / "build", pdf=tmp_path / "r.pdf")
