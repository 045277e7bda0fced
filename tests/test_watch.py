"""`make watch`: which saves count, the one line per rebuild, and a real watch for a few seconds."""
import os
import queue
import signal
import subprocess
import threading

import pytest
from watchfiles import Change

from pipeline import paths
from report import watch


@pytest.mark.parametrize("path, counts", [
    (paths.TEMPLATES / "q1.tex.j2", True),
    (paths.TEMPLATES / "references.bib", True),   # the reference list is part of the PDF
    (paths.CONFIG, True),
    (paths.TEMPLATES / ".q1.tex.j2.swp", False),  # vim's swap file
    (paths.TEMPLATES / "q1.tex.j2~", False),      # an editor's backup
    (paths.ROOT / "README.md", False),
])
def test_only_templates_and_the_config_trigger_a_rebuild(path, counts):
    assert watch.is_source(Change.modified, str(path)) is counts


def test_a_failed_rebuild_shows_the_pipelines_error_line():
    output = ("error: templates/q2.tex.j2:12: LaTeX error: Undefined control sequence.\n"
              "make: *** [Makefile:70: report/report-quick.pdf] Error 1\n")
    assert watch.first_error(output) == "templates/q2.tex.j2:12: LaTeX error: Undefined control sequence."
    assert watch.first_error("make: *** No rule to make target 'x'.  Stop.\n") == \
        "make: *** No rule to make target 'x'.  Stop."


def test_the_audits_findings_are_all_shown_and_the_watch_goes_on():
    output = ("error: the audit found 2 thing(s) typed by hand in the templates, so no PDF was typeset:\n"
              '  templates/q1.tex.j2:31: "97 %" is typed by hand\n'
              '  templates/q1.tex.j2:40: "faster" is a comparison typed by hand\n'
              "make: *** [Makefile:102: report/report.pdf] Error 1\n")
    assert watch.first_error(output).split("\n") == [
        "the audit found 2 thing(s) typed by hand in the templates, so no PDF was typeset:",
        '  templates/q1.tex.j2:31: "97 %" is typed by hand',
        '  templates/q1.tex.j2:40: "faster" is a comparison typed by hand']


def _next_line(lines: queue.Queue, seconds: float, containing: str) -> str:
    """The next line of output that holds `containing` (fails after `seconds`)."""
    while True:
        line = lines.get(timeout=seconds)
        if containing in line:
            return line


@pytest.mark.slow
def test_make_watch_rebuilds_after_a_template_save_and_ctrl_c_ends_it():
    proc = subprocess.Popen(["make", "--no-print-directory", "watch"], cwd=paths.ROOT,
                            env={**os.environ, "QUICK": "1"}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines, seen = queue.Queue(), []

    def read():
        for line in proc.stdout:
            seen.append(line)
            lines.put(line)
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        _next_line(lines, 300, " start: ")  # the first build (quick experiments if missing)
        template = paths.TEMPLATES / "summary.tex.j2"
        original = template.read_text()
        template.write_text(original)  # saved unchanged: the PDF's inputs hold the same content
        unchanged = _next_line(lines, 60, "templates/summary.tex.j2: ")
        assert "no change to the PDF" in unchanged and "pages of main body" in unchanged
        try:
            template.write_text(original + "% saved with a change\n")
            rebuilt = _next_line(lines, 60, "templates/summary.tex.j2: ")
        finally:
            template.write_text(original)
        assert "rebuilt in" in rebuilt and "pages of main body" in rebuilt
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends the terminal's process group
        proc.wait(timeout=30)
        reader.join(timeout=5)  # the last lines
    output = "".join(seen)
    assert "watch: stopped" in output and "Traceback" not in output, output
