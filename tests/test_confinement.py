"""Template text reaches nothing outside the build and forges nothing past the audit.

Two layers: report/audit/tex_programming.py finds TeX programming in the rendered templates
(fast: nothing is typeset), and report/tex/confine.lua with kpathsea's limits keeps what LuaLaTeX
reads and writes in its build folder however the document asks (slow: each case is typeset; the
documents here are minimal, so no results are needed).
"""
import os
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest

from pipeline import paths
from report.audit import tex_programming
from report.errors import ReportError
from report.render import jinja as render
from report.tex import latexmk as latex


def _templates_with(tmp_path, name, line_no, text):
    folder = tmp_path / "templates"
    shutil.copytree(paths.TEMPLATES, folder)
    lines = (folder / name).read_text().split("\n")
    lines.insert(line_no - 1, text)
    (folder / name).write_text("\n".join(lines))
    return folder


def _findings(recorded_context, tmp_path, templates=paths.TEMPLATES):
    build = tmp_path / "build"
    line_maps = render.render_all(recorded_context, build, templates)
    return [str(f) for f in tex_programming.scan_rendered(build, line_maps)]


def test_the_shipped_templates_hold_no_tex_programming(recorded_context, tmp_path):
    assert _findings(recorded_context, tmp_path) == []


# What the issue found and hidden variants of each: one finding, at the line that typed it.
PROGRAMMING = [
    (r"\def\pa{fas}\def\pb{ter}Sigmoid converged \pa\pb.", [r"\def", r"\def"]),
    (r"\directlua{tex.print('99.9')}", [r"\directlua"]),
    (r"\luaexec{tex.print('99.9')}", [r"\luaexec"]),
    (r"\latelua{x = 1}", [r"\latelua"]),
    (r"\begin{luacode}tex.print('x')\end{luacode}", [r"\begin{luacode}"]),
    (r"\newcommand\verdict{faster}\verdict", [r"\newcommand"]),
    (r"\renewcommand\today{faster}", [r"\renewcommand"]),
    (r"\providecommand\x{slower}", [r"\providecommand"]),
    (r"\DeclareRobustCommand\x{better}", [r"\DeclareRobustCommand"]),
    (r"\NewDocumentCommand\x{}{better}", [r"\NewDocumentCommand"]),
    (r"\let\x\relax", [r"\let"]),
    (r"\edef\x{\detokenize{faster}}", [r"\edef", r"\detokenize"]),
    (r"\expandafter\def\csname v\endcsname{faster}", [r"\def", r"\csname"]),
    (r"\catcode`\|=0 |def|x{faster}", [r"\catcode"]),
    (r"\char102\char97ster", [r"\char", r"\char"]),
    (r"^^66aster", ["^^66"]),
    (r"\Uchar102aster", [r"\Uchar"]),
    (r"\scantokens{faster}", [r"\scantokens"]),
    (r"\ExplSyntaxOn \use:c {directlua} \ExplSyntaxOff", [r"\ExplSyntaxOn"]),
    (r"\makeatletter\@namedef{v}{faster}\makeatother", [r"\makeatletter"]),
    (r"\immediate\write18{touch x}", [r"\immediate", r"\write{18}"]),
    (r"\newwrite\w\openout\w=/tmp/x", [r"\openout"]),
    (r"\newread\r\openin\r=/etc/hostname \read\r to\x", [r"\openin", r"\read"]),
    (r"\input{/etc/hostname}", [r"\input{/etc/hostname}"]),
    (r"\include{../../config}", [r"\include{../../config}"]),
    (r"\InputIfFileExists{/etc/passwd}{}{}", [r"\InputIfFileExists{/etc/passwd}"]),
    (r"\includegraphics{/tmp/outside.pdf}", [r"\includegraphics{/tmp/outside.pdf}"]),
    (r"\includegraphics{../../results/q1/q1_accuracy.pdf}", [r"\includegraphics{../../results"]),
    (r"\saveimageresource{/tmp/outside.pdf}", [r"\saveimageresource{/tmp/outside.pdf}"]),
    (r"\pdfextension obj file {/etc/passwd}", [r"\pdfextension{obj}"]),
    (r"\special{pdf:literal x}", [r"\special{pdf:literal x}"]),
    (r"\font\x=/tmp/font.otf \x", [r"\font"]),
    (r"\usepackage{/tmp/pkg}", [r"\usepackage{/tmp/pkg}"]),
    (r"\verbatiminput{/etc/passwd}", [r"\verbatiminput{/etc/passwd}"]),
    (r"\NewCommandCopy\v\relax", [r"\NewCommandCopy"]),
    (r"\everypar{faster}", [r"\everypar"]),
    (r"accuracy \the\inputlineno", [r"\inputlineno"]),
    (r"\the\uniformdeviate 100", [r"\uniformdeviate"]),
    (r"\number\numexpr 90+9\relax", [r"\numexpr"]),
]


@pytest.mark.parametrize("line, expected", PROGRAMMING)
def test_tex_programming_in_a_template_is_one_finding_each_at_its_line(
        recorded_context, tmp_path, line, expected):
    templates = _templates_with(tmp_path, "summary.tex.j2", 3, line)
    found = _findings(recorded_context, tmp_path, templates)
    assert len(found) == len(expected), found
    for finding, command in zip(found, expected):
        assert finding.startswith(f"templates/summary.tex.j2:3: {command}"), finding
        assert "TeX programming in a template" in finding


def test_an_input_of_a_section_git_never_had_says_to_write_it(recorded_context, tmp_path):
    templates = _templates_with(tmp_path, "summary.tex.j2", 3, r"\input{extra}")
    with pytest.raises(ReportError) as err:
        _findings(recorded_context, tmp_path, templates)
    assert str(err.value) == (r"templates/summary.tex.j2:3: \input{extra}, but there is no "
                              r"templates/extra.tex.j2, and git has none either; write "
                              r"templates/extra.tex.j2 (each section is a template), or remove "
                              r"the \input")


def test_the_preamble_keeps_its_settings_but_not_lua_files_or_new_macros(recorded_context,
                                                                         tmp_path):
    """main.tex.j2's preamble defines the page budget's macros: those alone; nor Lua or files.
    A macro of its own could spell a verdict in pieces the prose audit reads apart."""
    main = (paths.TEMPLATES / "main.tex.j2").read_text().split("\n")
    at = next(i for i, line in enumerate(main, 1) if line.startswith(r"\pagestyle"))
    templates = _templates_with(
        tmp_path, "main.tex.j2", at, r"\makeatletter\newcommand\x@a{fas}\newcommand{\x@b}{ter}"
        r"\def\pa{\x@a\x@b}\makeatother\directlua{x = 1}\immediate\write18{x}")
    found = _findings(recorded_context, tmp_path, templates)
    assert [f.split(": ")[1] for f in found] == [
        r"\newcommand\x@a", r"\newcommand\x@b", r"\def\pa", r"\directlua", r"\immediate",
        r"\write{18}"]


def test_a_comment_is_not_programming(recorded_context, tmp_path):
    templates = _templates_with(tmp_path, "summary.tex.j2", 3, r"% \directlua{x} \def\x{y}")
    assert _findings(recorded_context, tmp_path, templates) == []


def test_the_build_stops_on_tex_programming_before_typesetting(recorded_context, tmp_path,
                                                                monkeypatch):
    from report import __main__ as build_step
    monkeypatch.setattr(build_step.fonts, "ensure", lambda name: None)
    monkeypatch.setattr(build_step.context, "pdf_sources", lambda results, dataset: [])
    typeset = []
    monkeypatch.setattr(build_step.latex, "typeset", lambda *a: typeset.append(a))
    templates = _templates_with(tmp_path, "summary.tex.j2", 3, r"\def\pa{fas}\pa ter")
    with pytest.raises(build_step.AuditError) as err:
        build_step.build(paths.QUICK_MODE, dict(recorded_context), templates, tmp_path / "build",
                         tmp_path / "r.pdf")
    assert r"templates/summary.tex.j2:3: \def\pa: TeX programming" in str(err.value)
    assert typeset == [] and not (tmp_path / "r.pdf").exists()


# --- the confinement: minimal documents typeset as the report is ----------------------------------

PREAMBLE = "\\documentclass{article}\n\\usepackage{fontspec}\n\\usepackage{graphicx}\n\\begin{document}\n"


@pytest.fixture(scope="module")
def outside(tmp_path_factory):
    """Files outside any build folder: a secret, a PDF, a font, a package."""
    folder = tmp_path_factory.mktemp("outside")
    (folder / "secret.txt").write_text("SECRETWORD\n")
    (folder / "pkg.sty").write_text("\\def\\pwned{SECRETWORD}\n")
    font = subprocess.run(["kpsewhich", "lmroman10-regular.otf"], capture_output=True,
                          text=True).stdout.strip()
    if font:
        shutil.copy(font, folder / "font.otf")
    build = folder / "pdfsource"
    build.mkdir()
    (build / "main.tex").write_text(PREAMBLE + "SECRETWORD\n\\end{document}\n")
    latex.typeset(build, folder / "doc.pdf", {})
    return folder


def _typeset(tmp_path, body, again=None):
    """Typeset a document whose body is `body` (then `again`, in the same build folder): the
    error message, or None when it built."""
    build = tmp_path / "build"
    build.mkdir(exist_ok=True)
    try:
        for text in filter(None, (body, again)):
            (build / "main.tex").write_text(PREAMBLE + text + "\nvisible\n\\end{document}\n")
            latex.typeset(build, tmp_path / "out.pdf", {})
    except ReportError as err:
        return str(err)
    return None


def _pdf_bytes(pdf: Path) -> bytes:
    """The PDF with its streams inflated, where an embedded file would show."""
    data = pdf.read_bytes() if pdf.exists() else b""
    inflated = [zlib.decompress(m.group(1)) for m in
                re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S) if _inflates(m.group(1))]
    return data + b"".join(inflated)


def _inflates(chunk: bytes) -> bool:
    try:
        zlib.decompress(chunk)
        return True
    except zlib.error:
        return False


READS = [
    r'\directlua{tex.print(io.open("{o}/secret.txt"):read("a"))}',
    r'\directlua{for l in io.lines("{o}/secret.txt") do tex.print(l) end}',
    r'\directlua{tex.print(io.open("../../../../../../..{o}/secret.txt"):read("a"))}',
    r'\saveimageresource{{o}/doc.pdf}\useimageresource\lastsavedimageresourceindex',
    r'\includegraphics{{o}/doc.pdf}',
    r'\immediate\pdfextension obj file {{o}/secret.txt}',
    r'\immediate\pdfextension obj stream file {{o}/secret.txt}',
    r'\directlua{pdf.immediateobj("file", "{o}/secret.txt")}',
    r'\directlua{pdf.obj{type = "stream", file = "{o}/secret.txt", immediate = true}}',
    r'\directlua{local d = pdfe.open("{o}/doc.pdf") tex.print(pdfe.getnofpages(d))}',
    r'\directlua{img.write(img.scan{filename = "{o}/doc.pdf"})}',
    r'\directlua{tex.print(tostring(lfs.attributes("{o}/secret.txt", "size")))}',
    r'\directlua{for f in lfs.dir("{o}") do tex.print(f) end}',
    r'\directlua{tex.print(tostring(kpse.readable_file("{o}/secret.txt")))}',
    r'\directlua{tex.print(fontloader.info("{o}/font.otf").fontname)}',
    r'\newread\r \openin\r={o}/secret.txt \read\r to \x \x',
    r'\input{{o}/pkg.sty}\pwned',
    r'\font\x={file:{o}/font.otf} \x SECRETWORD',
    r'\directlua{os.setenv("openin_any", "a")}\input{{o}/pkg.sty}\pwned',
    r'\directlua{local m = mplib.new{} }',
    # a package's own look-up, registered through LaTeX's callback manager or around it
    r'\directlua{luatexbase.add_to_callback("find_data_file", function(n) return n end, "x")}'
    r'\immediate\pdfextension obj file {{o}/secret.txt}',
    r'\directlua{luatexbase.add_to_callback("find_read_file", function(id, n) if n:find("hack") '
    r'then return "{o}/pkg.sty" end return kpse.find_file(n, "tex") or n end, "x")}\input{hack}\pwned',
    r'\directlua{callback.register("find_image_file", nil)}'
    r'\saveimageresource{{o}/doc.pdf}\useimageresource\lastsavedimageresourceindex',
]


@pytest.mark.slow
@pytest.mark.parametrize("body", READS)
def test_tex_reads_nothing_outside_its_build_folder(tmp_path, outside, body):
    error = _typeset(tmp_path, body.replace("{o}", str(outside)))
    data = _pdf_bytes(tmp_path / "out.pdf")
    assert b"SECRETWORD" not in data and b"secret.txt" not in data and b"doc.pdf" not in data
    assert b"font.otf" not in data and str(outside).encode() not in data
    if error is None:  # a look-up answered as for a file that is not there
        assert "size" in body or "readable_file" in body, "only look-ups may build"
    else:
        assert "Traceback" not in error and "\n" not in error


WRITES = [
    r'\directlua{io.open("{m}", "w"):write("x")}',
    r'\directlua{io.output("{m}") io.write("x")}',
    r'\directlua{os.rename("main.tex", "{m}")}',
    r'\directlua{lfs.mkdir("{m}")}',
    r'\directlua{lfs.touch("{m}")}',
    r'\directlua{os.execute("touch {m}")}',
    r'\directlua{io.popen("touch {m}")}',
    r'\directlua{os.tmpname()}',
    r'\directlua{package.loadlib("libc.so.6", "*")}',
    r'\directlua{local ffi = require("ffi") ffi.cdef[[int system(const char *);]] ffi.C.system("touch {m}")}',
    r'\directlua{local open = debug.getupvalue(io.open, 1) open("{m}", "w"):close()}',
    r'\directlua{load(string.dump(function() io.open("{m}", "w") end) .. "")()}',

    r'\directlua{lfs.chdir("/") io.open("{m}", "w"):close()}',
    r'\directlua{require("socket")}',
    r'\newwrite\w \immediate\openout\w={m} \immediate\write\w{x}\immediate\closeout\w',
    r'\immediate\write18{touch {m}}',
    r'\input|"touch {m}"',
    r'\directlua{io.open("' + str(latex.CONFINE_LUA) + r'", "a")}',
]


@pytest.mark.slow
@pytest.mark.parametrize("body", WRITES)
def test_tex_writes_and_runs_nothing_outside_its_build_folder(tmp_path, body):
    marker = tmp_path / "outside-marker"
    before = latex.CONFINE_LUA.read_bytes()
    _typeset(tmp_path, body.replace("{m}", str(marker)))
    assert not marker.exists()
    assert latex.CONFINE_LUA.read_bytes() == before


# Lua bytecode changed after string.dump (crafted) could corrupt Lua's memory and escape every
# check: refused however it is loaded; bytecode as dumped (lualibs loads its formatters so) is not.
CRAFTED = ('local code = (string.dump(function() return "AAAA" end):gsub("AAAA", "BBBB")) '
           'local f = io.open("evil.lua", "wb") f:write(code) f:close() '
           'os.rename("evil.lua", "evil.luc") f = io.open("evil.lua", "wb") f:write(code) f:close() ')
LOADS = {"load": 'select(2, load(code))',
         "loadfile": 'select(2, loadfile("evil.luc"))',
         "dofile": 'select(2, pcall(dofile, "evil.luc"))',
         "require": 'select(2, pcall(require, "evil"))'}


@pytest.mark.slow
def test_crafted_bytecode_is_never_loaded(tmp_path):
    prints = "".join(f'tex.print("{name}: " .. tostring({how}):gsub("[^a-zA-Z0-9 ]", " ") .. ". ") '
                     for name, how in LOADS.items())
    dumped = 'tex.print("dumped: " .. load(string.dump(function() return "runs" end))())'
    assert _typeset(tmp_path, r"\directlua{" + CRAFTED + prints + dumped + "}") is None
    text = " ".join(subprocess.run(["pdftotext", str(tmp_path / "out.pdf"), "-"],
                                   capture_output=True, text=True).stdout.split())
    for name in LOADS:
        assert re.search(rf"{name}: .*?binary chunk", text), text
    assert "BBBB" not in text and "dumped: runs" in text


@pytest.mark.slow
def test_a_latexmkrc_written_by_tex_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    rc = f'system("touch {marker}");'
    writes = "".join(f'local f = io.open("{name}", "w") f:write([[{rc}]]) f:close() '
                     for name in ("latexmkrc", ".latexmkrc"))
    assert _typeset(tmp_path, r"\directlua{" + writes + "}", again="the next build") is None
    assert (tmp_path / "build" / "latexmkrc").exists() and not marker.exists()


@pytest.mark.slow
def test_tex_still_reads_and_writes_its_own_build_folder_and_tex_files(tmp_path):
    body = (r'\directlua{local f = io.open("own.txt", "w") f:write("kept") f:close() '
            r'tex.print(io.open("own.txt"):read("a"))} \input{own.txt}')
    assert _typeset(tmp_path, body) is None
    assert (tmp_path / "build" / "own.txt").read_text() == "kept"


def test_latexmk_reads_no_rc_file_and_loads_the_confinement_from_outside_the_build():
    command = latex.latexmk_command()
    assert "-norc" in command
    lualatex = next(part for part in command if part.startswith("-lualatex="))
    assert f"--lua={latex.CONFINE_LUA}" in lualatex and "--nosocket" in lualatex
    assert latex.CONFINE_LUA.parent == Path(latex.__file__).parent  # report/tex/, not the build
    env = latex.confined_env()
    assert env["openin_any"] == env["openout_any"] == "p" and env["shell_escape"] == "f"


def test_search_paths_from_the_environment_do_not_widen_what_tex_reads(monkeypatch):
    monkeypatch.setenv("TEXINPUTS", "/etc:")
    monkeypatch.setenv("TEXMFOUTPUT", "/")
    env = latex.confined_env()
    assert "TEXINPUTS" not in env and "TEXMFOUTPUT" not in env


def test_a_symlink_in_templates_pointing_outside_is_refused(recorded_context, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(paths.TEMPLATES, templates)
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRETWORD")
    (templates / "extra.tex.j2").symlink_to(secret)
    with pytest.raises(ReportError, match=r"templates/extra.tex.j2 is a link to .*outside "
                                          r"templates/"):
        render.render_all(recorded_context, tmp_path / "build", templates)
    (templates / "extra.tex.j2").unlink()
    (templates / "references.bib").unlink()
    (templates / "references.bib").symlink_to(secret)
    with pytest.raises(ReportError, match=r"templates/references.bib is a link"):
        render.render_all(recorded_context, tmp_path / "build", templates)
    assert not any(b"SECRETWORD" in p.read_bytes() for p in (tmp_path / "build").rglob("*")
                   if p.is_file())


def test_an_include_of_a_symlink_pointing_outside_is_refused(recorded_context, tmp_path):
    templates = _templates_with(tmp_path, "summary.tex.j2", 3, '((* include "part.tex.j2" *))')
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRETWORD")
    (templates / "part.tex.j2").symlink_to(secret)
    with pytest.raises(ReportError, match=r"is a link to .*outside templates/"):
        render.render_all(recorded_context, tmp_path / "build", templates)


def test_references_that_are_not_utf8_are_one_line(recorded_context, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(paths.TEMPLATES, templates)
    (templates / "references.bib").write_bytes("@misc{x, author = {Jos\xe9}}\n".encode("latin-1"))
    with pytest.raises(ReportError) as err:
        render.render_all(recorded_context, tmp_path / "build", templates)
    assert str(err.value).startswith("templates/references.bib:1 is not UTF-8")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("entry, expected", [
    ('@preamble{ "\\def\\pa{fas}" }', ["@preamble", r"\def\pa"]),
    ("@misc{x, title = {\\directlua{tex.print('99.9')}}}", [r"\directlua"]),
    ("@misc{x, note = {\\char102aster}}", [r"\char"]),
])
def test_tex_programming_in_the_references_is_a_finding_too(recorded_context, tmp_path, entry,
                                                             expected):
    templates = tmp_path / "templates"
    shutil.copytree(paths.TEMPLATES, templates)
    bib = templates / "references.bib"
    lines = bib.read_text().count("\n")
    bib.write_text(bib.read_text() + entry + "\n")
    found = _findings(recorded_context, tmp_path, templates)
    assert sorted(f.split(": ")[1] for f in found) == sorted(expected), found
    assert all(f.startswith(f"templates/references.bib:{lines + 1}: ") for f in found)
