"""Jinja2 -> LaTeX: one .tex per template, with a map from rendered lines back to template lines.

Delimiters LaTeX never uses: ((* blocks *)), ((( expressions ))), ((= comments =)).
StrictUndefined, trim and lstrip blocks, no autoescape: every text value goes through `e`
(pylatexenc), every number through a siunitx filter (`num`, `pct`, `sci`), never typed by hand.
The document is typeset by LuaLaTeX, so text is UTF-8 and a [student] name may be in any script
pipeline/config.py accepts: `name_fonts` gives the font of each script the name uses.

Line map: before compiling, each template line whose end is outside any Jinja tag gets a sentinel
expression that prints `\\x00<line>\\x00`; after rendering, the sentinels on each output line tell
which template line it came from, and are removed. LaTeX errors are reported at that line.
"""
from __future__ import annotations

import re
import subprocess
import traceback
from pathlib import Path

import jinja2
import jinja2.sandbox

from hw1.atomic import write_bytes, write_text
from pipeline import config, paths
from report.audit import run as audit_run
from report.render import marks
from report.render.numbers import counted, display, escape, num, pct, sci  # noqa: F401 (filters)
from report.errors import ReportError

SENTINEL = re.compile(r"\x00(?:([^\x00:]*):)?(\d+)\x00")
OPENERS, CLOSERS = ("((*", "(((", "((="), ("*))", ")))", "=))")

# The font of each script a [student] name may use beyond Latin (set in Latin Modern, the body's
# font): (babel locale, font, fontspec options). CMU Serif is Computer Modern drawn for Greek and
# Cyrillic, so those names match the body. HarfBuzz shapes Arabic; without the common ligatures,
# since pdftotext reads the ligature of الله back reversed.
NAME_FONTS = {
    "Greek": ("greek", "CMU Serif", ""),
    "Cyrillic": ("russian", "CMU Serif", ""),
    "Hebrew": ("hebrew", "Noto Serif Hebrew", ""),
    "Arabic": ("arabic", "Noto Naskh Arabic", "Renderer=HarfBuzz,Ligatures=NoCommon"),
    "Chinese": ("chinese", "Noto Serif CJK SC", ""),
}
# The Debian package of each font: setup installs none of them; report/tex/fonts.py installs one when
# a name first needs it (the CJK font alone is as large as the rest of TeX).
FONT_PACKAGES = {"CMU Serif": "fonts-cmu", "Noto Serif Hebrew": "fonts-noto-core",
                 "Noto Naskh Arabic": "fonts-noto-core", "Noto Serif CJK SC": "fonts-noto-cjk"}


def name_fonts(name: str) -> list[tuple[str, str, str]]:
    """(babel locale, font, options) for each script of the name that Latin Modern lacks; the
    template declares only these, as loading the CJK font adds one to two seconds to each run."""
    return [NAME_FONTS[script] for script in config.name_scripts(name) if script in NAME_FONTS]


def counted_marked(n: int, noun: str) -> str:
    """The `counted` filter: the count marked with its source, for the audit."""
    return counted(n, noun, marks.finalize)


def across_variants(ablations, key: str) -> list:
    """The value of `key` in every variant of every ablation table, in order."""
    return [summary[key] for table in ablations.values() for summary in table["variants"].values()]


def add_sentinels(source: str, name: str = "") -> str:
    """Append a line sentinel to every line that does not end inside a Jinja tag; it names the
    template (so a line of an included template is found in its own file) and the line."""
    out, depth = [], 0
    prefix = f"{name}:" if name else ""
    for number, line in enumerate(source.split("\n"), start=1):
        starts_inside = depth > 0
        depth += sum(line.count(o) for o in OPENERS) - sum(line.count(c) for c in CLOSERS)
        mark = f'((( "\\x00{prefix}{number}\\x00" )))'
        if depth > 0 or starts_inside:
            out.append(line)
        elif line.rstrip().endswith(("*))", "=))")):
            # before a trailing block tag, so trim_blocks still eats its newline (no blank line)
            indent = len(line) - len(line.lstrip())
            out.append(line[:indent] + mark + line[indent:])
        else:
            out.append(line + mark)
    return "\n".join(out)


def strip_sentinels(rendered: str) -> tuple[str, list[int]]:
    """The LaTeX text and, per output line, the template line that ended it (0 if unknown)."""
    text, where = located(rendered)
    return text, [line for _, line in where]


def located(rendered: str) -> tuple[str, list[tuple[str, int]]]:
    """The LaTeX text and, per output line, (template file, line) that ended it ("", 0 unknown)."""
    lines, origin, last = [], [], ("", 0)
    for line in rendered.split("\n"):
        found = SENTINEL.findall(line)
        last = (found[-1][0], int(found[-1][1])) if found else last
        origin.append(last)
        lines.append(SENTINEL.sub("", line))
    return "\n".join(lines), origin


class SentinelLoader(jinja2.FileSystemLoader):
    def get_source(self, environment, template):
        folder = Path(self.searchpath[0])
        path = folder.joinpath(*jinja2.loaders.split_template_path(template))  # no .. or /
        if path.exists():
            check_link(path, folder)
        try:
            source, filename, uptodate = super().get_source(environment, template)
        except UnicodeDecodeError as err:
            raise ReportError(not_utf8(path, err)) from None
        return add_sentinels(source, template), filename, uptodate


def check_link(path: Path, folder: Path) -> None:
    """A template or .bib that is a link to a file outside templates/ is refused: the build would
    read (and the PDF print) a file no one meant to be a template."""
    if not path.resolve().is_relative_to(folder.resolve()):
        raise ReportError(f"templates/{path.name} is a link to {path.resolve()}, outside "
                          f"templates/; copy the text into templates/ instead")


def not_utf8(path: Path, err: UnicodeDecodeError) -> str:
    """One line: which file, which line, which byte."""
    line = path.read_bytes()[:err.start].count(b"\n") + 1
    return (f"templates/{path.name}:{line} is not UTF-8 (byte 0x{err.object[err.start]:02x}); "
            f"save it as UTF-8 (an export in Latin-1 or UTF-16 is not)")


def environment(template_dir: Path = paths.TEMPLATES) -> jinja2.Environment:
    """The templates' environment, in Jinja's immutable sandbox: template text is prose, never
    code. Attributes that reach Python's internals (`__class__`, `__globals__`, ...) and methods
    that change the results are refused (SecurityError), and Jinja's default globals (`cycler`,
    `joiner`, `lipsum`, `namespace`, `range`, `dict`: routes to `__globals__`) are removed; the
    report's context and filters, and Jinja's own filters (checked by the sandbox), are all a
    template sees. Every inserted piece is marked with its source (report/render/marks.py)
    for the audit."""
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        loader=SentinelLoader(str(template_dir)),
        block_start_string="((*", block_end_string="*))",
        variable_start_string="(((", variable_end_string=")))",
        comment_start_string="((=", comment_end_string="=))",
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        autoescape=False, keep_trailing_newline=True, finalize=marks.finalize)
    env.globals.clear()
    env.filters.update(audited_filters())
    env.filters.update(name_fonts=name_fonts, across_variants=across_variants,
                       counted=counted_marked)
    return env


def audited_filters() -> dict:
    """The formatting filters, each marking what it prints with the source of its number, and
    the built-in filters that would otherwise drop a value's source."""
    builtin = jinja2.filters.FILTERS

    def formatting(format_number):
        return lambda value, *args, **kwargs: marks.number(format_number(value, *args, **kwargs), value)

    def e(value):
        text = escape(value)
        return marks.mark("value", text, value._source) if isinstance(value, marks.Tracked) else text

    def join(items, separator="", attribute=None):
        items = list(items if attribute is None else (getattr(i, attribute, None) or i[attribute]
                                                      for i in items))
        return str(separator).join(str(marks.finalize(i)) for i in items)

    def length(items):
        source = getattr(items, "_source", "")
        return marks.track(len(items), f"{source}|length") if source else len(items)

    def as_number(kind):
        def convert(value, *args):
            result = builtin[kind](value, *args)
            return marks.track(result, value._source) if isinstance(value, marks.Tracked) else result
        return convert

    def shown(value):
        text = display(value)
        return marks.mark("value", text, value._source) if isinstance(value, marks.Tracked) else text

    return {"num": formatting(num), "sci": formatting(sci), "pct": formatting(pct), "e": e,
            "display": shown,
            "join": join, "length": length, "count": length, "int": as_number("int"),
            "float": as_number("float"), "typed": marks.typed}


def _template_line(err: Exception, name: str) -> int | None:
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.endswith(name)]
    return frames[-1].lineno if frames else None


FIGURES_DIR = "figures"   # in the build folder: TeX reads nothing outside it (latex.py)
INPUT = re.compile(r"\\(?:input|include)\{([^}]*)\}")


def stage_figures(figures: dict, out_dir: Path) -> dict:
    """Copy each figure into out_dir/figures/, where confined TeX may read it; the templates get
    those relative paths. An unchanged figure keeps its time stamp."""
    staged = {}
    for name, source in figures.items():
        relative = f"{FIGURES_DIR}/{Path(source).name}"
        staged[name] = relative
        if not Path(source).is_file():
            continue  # named only (the tests that render without typesetting): nothing to copy
        content = Path(source).read_bytes()
        target = out_dir / relative
        if not target.is_file() or target.read_bytes() != content:
            write_bytes(target, content)
    return staged


def remove_stale(out_dir: Path, rendered: set[str]) -> None:
    """A .tex left by a template since deleted or renamed is never typeset: deleted."""
    for tex in out_dir.glob("*.tex"):
        if tex.name not in rendered:
            tex.unlink()


def check_inputs(out_dir: Path, line_maps: dict) -> None:
    """Every \\input of a rendered file names a template that exists; otherwise the template and
    line, not LaTeX's `Emergency stop`."""
    for tex, (where, origin) in line_maps.items():
        for number, line in enumerate((out_dir / tex).read_text().split("\n")):
            for name in INPUT.findall(line.split("%")[0]):
                wanted = name if name.endswith(".tex") else f"{name}.tex"
                if "/" not in wanted and wanted not in line_maps:
                    raise ReportError(f"{where}:{origin[number] or '?'}: \\input{{{name}}}, but "
                                      f"there is no templates/{wanted}.j2{_restore(wanted)}")


def _restore(wanted: str) -> str:
    """How to get a missing section back: from git when it was committed, else write it."""
    name = f"templates/{wanted}.j2"
    try:
        known = subprocess.run(["git", "cat-file", "-e", f"HEAD:{name}"], cwd=paths.ROOT,
                               capture_output=True).returncode == 0
    except OSError:
        known = False
    if known:
        return f" (deleted or renamed?); restore it (`git checkout {name}`) or change the \\input"
    return (f", and git has none either; write {name} (each section is a template), or remove "
            f"the \\input")


APPENDIX = "appendix.tex.j2"


def render_one(env: jinja2.Environment, name: str, context: dict) -> str:
    """One template rendered, its errors as one line naming the template and line."""
    where = f"templates/{name}"
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as err:
        raise ReportError(f"{where}:{err.lineno}: template syntax error: {err.message}") from None
    except jinja2.sandbox.SecurityError as err:
        line = _template_line(err, name)
        raise ReportError(f"{where}:{line}: refused: {str(err).rstrip('.')}; a template reaches only the "
                          f"report's values and filters, not Python's internals") from None
    except jinja2.UndefinedError as err:
        line = _template_line(err, name)
        raise ReportError(f"{where}:{line}: undefined variable: {err.message}") from None
    except jinja2.TemplateNotFound as err:
        line = _template_line(err, name)
        raise ReportError(f"{where}:{line}: no template {err.name!r} in templates/ to include"
                          ) from None
    except ReportError as err:
        if str(err).startswith("templates/"):  # located already (the loader's: a file's own line)
            raise
        line = _template_line(err, name)
        raise ReportError(f"{where}:{line}: {err}") from None
    except RecursionError:
        raise ReportError(f"{where}: a macro or expression calls itself without end; give it a case "
                          f"that stops") from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as err:
        # a ((( ))) expression that cannot be computed: pct("x"), 1/0, a call with wrong arguments
        line = _template_line(err, name)
        raise ReportError(f"{where}:{line}: this expression cannot be computed: "
                          f"{type(err).__name__}: {err}") from None


def render_all(context: dict, out_dir: Path, template_dir: Path = paths.TEMPLATES,
               audit: audit_run.Audit | None = None) -> dict:
    """Render every templates/*.tex.j2 to out_dir/*.tex; return {tex name: (template, line map)}.

    Render, then audit, then the appendix: the body's templates are rendered, the audit reads
    them (report/audit/run.py), and the appendix is rendered last with what the audit found (the
    numbers typed as facts from elsewhere), then audited on its own. Nothing carries over from
    one template to the next. Figures are copied into out_dir (stage_figures); .tex files no
    template wrote are removed. `audit` receives the findings and the inserted pieces."""
    from report.claims import declared  # the claims word numbers with this module's filters
    audit = audit if audit is not None else audit_run.Audit()
    for path in sorted(template_dir.iterdir()):  # a link out of templates/ is refused
        check_link(path, template_dir)
    env = environment(template_dir)
    context = {**context, "claim": declared.claim_call(context.get("claims"))}
    out_dir.mkdir(parents=True, exist_ok=True)
    if "figures" in context:
        context = {**context, "figures": stage_figures(context["figures"], out_dir)}
    names = sorted(p.name for p in template_dir.glob("*.tex.j2"))
    rendered = {name: located(render_one(env, name, context)) for name in names if name != APPENDIX}
    audit_run.audit(rendered, context, template_dir, into=audit)
    if APPENDIX in names:
        table = audit.typed_table()
        steps = marks.track(audit.typed_steps.record(), "audit.typed_steps")
        appendix = {**context, "typed_numbers": lambda: table, "typed_steps": lambda: steps}
        rendered[APPENDIX] = located(render_one(env, APPENDIX, appendix))
        audit_run.audit({APPENDIX: rendered[APPENDIX]}, context, template_dir, into=audit,
                        whole_build=False)
    line_maps = {}
    for name, (text, where) in rendered.items():
        tex_name = name.removesuffix(".j2")
        write_text(out_dir / tex_name, marks.strip(text))
        line_maps[tex_name] = (f"templates/{name}", [line for _, line in where])
    copy_bibliographies(template_dir, out_dir)
    remove_stale(out_dir, set(line_maps))
    check_inputs(out_dir, line_maps)
    return line_maps


def copy_bibliographies(template_dir: Path, out_dir: Path) -> None:
    """templates/*.bib beside the .tex files, where BibTeX (run by latexmk) looks for them."""
    for bib in sorted(template_dir.glob("*.bib")):
        check_link(bib, template_dir)
        try:
            write_text(out_dir / bib.name, bib.read_bytes().decode("utf-8"))
        except UnicodeDecodeError as err:
            raise ReportError(not_utf8(bib, err)) from None


MAIN = "main.tex.j2"
