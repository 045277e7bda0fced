"""`make submission`: the zip the course receives -> report/hw1_<id>.zip, verified before it is kept.

    python -m report.bundle.submission precheck   # what no report could make packable, in seconds
    python -m report.bundle.submission pack       # check the report, pack and verify the zip

What goes in (copied and renamed; no code is generated):

    hw1_<id>_report.pdf                       report/report.pdf
    hw1_<id>_q{1,2}_{train,eval}.py           hw1/scripts/q{1,2}_{train,eval}.py
    hw1_<id>_q{1,2}_weights.pkl               results/q{1,2}/q{1,2}_weights.pkl
    hw1_<id>_settings.json                    the student and each task's hyperparameters (JSON data)
    hw1/*.py                                  the package the scripts import

The student's name and ID reach the scripts only as that JSON data, never as source code.
`precheck` (run by `make submission` before it builds the report) refuses at once QUICK=1, an unset
[student] and a [data] dataset other than MNIST (the course's); packing then refuses a report that
is missing, stale, a quick run, over two pages or not passed by its audit. A refusal keeps the last
verified zip.
The zip is written under a temporary name and verified from an empty folder holding only its content
and the MNIST files: every script byte-compiles, every weights file loads, each eval script's
evaluate_hw1() runs in a fresh interpreter and returns the accuracy the PDF prints, and the PDF's
text holds the name and ID. Only then is it renamed to its final name.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from pathlib import Path

from experiments import datasets
from hw1 import data, names, weights
from hw1.atomic import atomic_write, sweep_dead
from hw1.messages import cut
from hw1.names import DEFAULT_DATASET
from hw1.weights import WeightsError
from pipeline import cli, config, ledger, paths, provenance
from pipeline.tasks import TASKS
from report.tex import budget
from report.render import context
from report.errors import ReportError

BODY_PAGE_LIMIT = 2
# Runs each eval script in a fresh interpreter; the script's path is its only argument.
EVAL_RUNNER = Path(__file__).with_name("eval_runner.py")


class SubmissionError(ReportError):
    """The zip would not work for the grader; the message names the check and the fix."""


def check_student(student: config.Student) -> None:
    unset = config.unset_student_keys(student)
    if unset:
        raise SubmissionError(f"{' and '.join(unset)} in config.toml still "
                              f"{'hold' if len(unset) > 1 else 'holds'} the placeholder; "
                              f"set your real name and ID under [student], then run `make submission`")


def check_dataset(data_section: config.Data) -> None:
    if data_section.dataset != DEFAULT_DATASET:
        raise SubmissionError(f"[data] dataset = {data_section.dataset!r} in config.toml, but the "
                              f"course grades {DEFAULT_DATASET}: set dataset = "
                              f"\"{DEFAULT_DATASET}\", run `make report`, then `make submission`")


def precheck(quick: bool) -> None:
    """What refuses a submission before any long work (`make submission` asks first, then builds
    the report): a QUICK run, [student] unset, a dataset other than the course's."""
    if quick:
        raise SubmissionError("QUICK=1: the course receives the full report; run `make "
                              "submission` without QUICK=1 (an existing zip is kept)")
    sections = config.load(quick=False)
    check_student(sections["student"])
    check_dataset(sections["data"])


def check_audit(info: dict, build_json: Path) -> None:
    """build.json's "audit" (report/audit/prose.py: the templates' numbers, relations and comparisons
    against their sources): only a PDF whose audit passed is packed; a draft built with
    [report] audit = "warn" has "failed", one built before the audit existed has none."""
    if info.get("audit") != "passed":
        state = f"audit = {info['audit']!r}" if "audit" in info else "no audit recorded"
        raise SubmissionError(f"the report did not pass its audit ({paths.relative(build_json)}: "
                              f"{state}); fix what `make report` names (with [report] audit = "
                              f'"stop"), then run `make submission`')


def check_report(results: Path = paths.FULL_MODE.results, build: Path = paths.FULL_MODE.build,
                 pdf: Path = paths.FULL_MODE.pdf, allow_quick: bool = False) -> dict:
    """Refuse an unset student, another dataset than the course's, or a missing, stale, quick or
    over-long report; return the context."""
    sections = config.read_sections(results)
    check_student(sections["student"])
    check_dataset(sections["data"])
    if not pdf.exists() or not (build / "build.json").exists():
        raise SubmissionError(f"{paths.relative(pdf)} is missing; run `make report` first")
    for built in (pdf, build / "build.json"):  # as `make report` wrote them: its audit verdict too
        ledger.check(built, paths.make_command("report", results))
    try:
        info = json.loads((build / "build.json").read_text())
        quick = bool(info["quick"])
    except (ValueError, KeyError, TypeError):
        raise SubmissionError(f"{paths.relative(build / 'build.json')} is damaged; delete it and run "
                              f"`make report`") from None
    if quick and not allow_quick:
        raise SubmissionError("the report is a quick run (QUICK=1); run `make report` for the full one")
    check_audit(info, build / "build.json")
    ctx = context.build_context(sections, results)  # raises when the results are stale
    sources = provenance.file_hashes(context.pdf_sources(results, sections["data"].dataset))
    why = provenance.stale(pdf, info.get("inputs", {}), {f: (h, f) for f, h in sources.items()},
                           paths.make_command("report", results))
    if why:
        raise SubmissionError(why)
    over_budget = budget.check(info, BODY_PAGE_LIMIT)
    if over_budget:
        raise SubmissionError(f"{over_budget}; the course allows {BODY_PAGE_LIMIT} pages")
    return ctx


def settings_file(student: dict, results: Path) -> bytes:
    """The student, the hyperparameters each shipped weights file was trained with, and each
    weights file's sha256, as JSON."""
    content = {"student": {"name": student["name"], "id": student["id"]}}
    shipped = {task.name: paths.weights(task.name, DEFAULT_DATASET, results) for task in TASKS}
    for task in TASKS:
        content[task.name] = _load_weights(task, shipped[task.name])[1]["settings"]
    # the weights the report's numbers describe (check_report compared them with metrics.json):
    # the graders' eval script says so when it evaluates others
    content["weights_sha256"] = {name: weights.sha256(path) for name, path in shipped.items()}
    return json.dumps(content, ensure_ascii=False, indent=1).encode("utf-8")


def _load_weights(task, path: Path):
    try:
        return task.grader().load(path)
    except WeightsError as err:  # the grader's advice replaced by the command that rebuilds it
        raise SubmissionError(f"{err.path} {err.problem}; delete it and run `make submission` "
                              f"again (it trains that task again)") from None


def grader_code(prefix: str) -> dict[str, Path]:
    """The four scripts, renamed with the prefix, and the hw1 package they import."""
    files = {names.script_name(task.name, kind, prefix): paths.GRADER_SCRIPTS / names.script_name(task.name, kind)
             for task in TASKS for kind in names.SCRIPT_KINDS}
    files.update({f"hw1/{module.name}": module for module in paths.grader_modules()})
    return files


def contents(student: dict, results: Path, pdf: Path) -> dict[str, Path | bytes]:
    """{name in the zip: source file or bytes}."""
    prefix = f"hw1_{student['id']}_"
    files: dict[str, Path | bytes] = {f"{prefix}report.pdf": pdf, **grader_code(prefix)}
    for task in TASKS:
        files[names.weights_name(task.name, prefix)] = paths.weights(task.name, DEFAULT_DATASET, results)
    files[f"{prefix}{names.SETTINGS_NAME}"] = settings_file(student, results)
    return files


def write_zip(path: Path, files: dict[str, Path | bytes]) -> None:
    """Every entry a plain file readable by anyone (rw-r--r--), whoever unpacks it."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, source in files.items():
            entry = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            entry.external_attr = (0o100644 << 16)
            entry.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(entry, source if isinstance(source, bytes) else source.read_bytes())


# --- verification from the grader's side ---------------------------------------------------------

# TeX typesets a single ` and ' as typographic quotes (render.escape keeps every pair as typed).
QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "`": "'"})


def normalized(text: str) -> str:
    """For comparing extracted PDF text: one Unicode form, one kind of single quote, no
    whitespace (extraction splits lines and may add or drop spaces) and no bidi marks (pdftotext
    wraps right-to-left runs in them)."""
    text = unicodedata.normalize("NFKC", text).translate(QUOTES)
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) != "Cf")


RIGHT_TO_LEFT = {"R", "AL"}
STRONG = {"L", "R", "AL", "EN", "AN"}  # letters and digits: their order survives extraction


def holds(normalized_text: str, typed: str) -> bool:
    """Whether the PDF's text (normalized) holds `typed`. Beside a right-to-left run, extraction
    may place neutral characters (spaces, \\, quotes) on the other side of the run, though the
    page shows them where they were typed; then only the letters and digits are compared."""
    if not any(unicodedata.bidirectional(c) in RIGHT_TO_LEFT for c in typed):
        return normalized(typed) in normalized_text
    strong = lambda text: "".join(c for c in text if unicodedata.bidirectional(c) in STRONG)  # noqa: E731
    return strong(normalized(typed)) in strong(normalized_text)


def pdf_text(pdf: Path) -> str:
    """The PDF's text in logical order (pdftotext; pypdf reverses right-to-left names)."""
    try:
        done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                              text=True, timeout=120)
    except FileNotFoundError:
        raise SubmissionError("pdftotext is missing; run `make setup` (it installs poppler-utils)") from None
    if done.returncode != 0:
        raise SubmissionError(f"pdftotext cannot read {pdf.name}: {cut(done.stderr, 200)}")
    return done.stdout


def _fresh_python(args: list[str], elsewhere: Path) -> subprocess.CompletedProcess:
    """A new interpreter, run from an unrelated folder: the scripts must find hw1/ beside
    themselves, as a grader's harness in its own folder would load them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    parent = os.getpid()
    return subprocess.run([sys.executable, "-E", "-s", *args], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=900,
                          preexec_fn=lambda: cli.end_with_parent(parent))  # no orphan on kill -9


def _failure(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()] or ["no output"]
    return next((line for line in lines if line.startswith("error: ")), lines[-1])


def run_eval(folder: Path, script: str, elsewhere: Path) -> dict:
    """evaluate_hw1() of one eval script, in a fresh interpreter whose only code is the zip's."""
    done = _fresh_python([str(EVAL_RUNNER), str(folder / script)], elsewhere)
    if done.returncode != 0:
        raise SubmissionError(f"{script}: evaluate_hw1() failed in a clean folder: {_failure(done)}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if not Path(result["hw1"]).resolve().is_relative_to(folder.resolve()):
        raise SubmissionError(f"{script} imported hw1 from {result['hw1']}, not from the zip")
    return result


def run_train(folder: Path, script: str, elsewhere: Path) -> None:
    """One epoch of a train script, saved under another name: it runs as shipped."""
    out = folder / f"{Path(script).stem}_check.pkl"
    done = _fresh_python([str(folder / script), "--epochs", "1", "--out", str(out)], elsewhere)
    if done.returncode != 0 or not out.is_file():
        raise SubmissionError(f"{script} --epochs 1 failed in a clean folder: {_failure(done)}")
    out.unlink()


VERIFY_PREFIX = "hw1-verify-"   # then the pid of the submission that made the folder


def sweep_killed_runs(prefix: str = VERIFY_PREFIX) -> None:
    """The temporary folders of submissions (or `make source` builds) that were killed, deleted;
    another checkout's running one is left alone."""
    sweep_dead(Path(tempfile.gettempdir()), prefix)


def verify(zip_path: Path, student: dict, metrics: dict, report: callable = print) -> None:
    """Unzip into an empty folder beside the MNIST files and check it as the grader will use it."""
    prefix = f"hw1_{student['id']}_"
    datasets.verified(datasets.MNIST)  # the checks below read MNIST: it must be the real one
    sweep_killed_runs()
    with tempfile.TemporaryDirectory(prefix=f"{VERIFY_PREFIX}{os.getpid()}-") as tmp:
        folder, elsewhere = Path(tmp) / "unzipped", Path(tmp) / "elsewhere"
        elsewhere.mkdir()
        with zipfile.ZipFile(zip_path) as z:
            z.extractall(folder)
        beside = data.folder(folder, DEFAULT_DATASET)
        beside.mkdir(parents=True)
        for name in paths.DATA_FILES:
            (beside / name).symlink_to(paths.data_raw(DEFAULT_DATASET) / name)
        scripts = sorted(folder.rglob("*.py"))
        for script in scripts:
            try:
                compile(script.read_bytes(), str(script.relative_to(folder)), "exec")
            except SyntaxError as err:
                raise SubmissionError(f"{script.name} does not compile: {err}") from None
        report(f"  ok  {len(scripts)} Python files byte-compile")
        for task in TASKS:
            _, meta = _load_weights(task, folder / names.weights_name(task.name, prefix))
            report(f"  ok  {names.weights_name(task.name, prefix)} loads (weights_only=True): "
                   f"{meta.get('layer_sizes') or meta.get('hidden')}")
        text = normalized(pdf_text(folder / f"{prefix}report.pdf"))
        for task in TASKS:
            script = names.script_name(task.name, "eval", prefix)
            _check_accuracy(folder, script, metrics[task.name], task, text, elsewhere)
            report(f"  ok  {script}: evaluate_hw1() in a fresh interpreter returns the PDF's "
                   f"{_printed(metrics[task.name], task)} %")
        for task in TASKS:
            run_train(folder, names.script_name(task.name, "train", prefix), elsewhere)
            report(f"  ok  {names.script_name(task.name, 'train', prefix)} --epochs 1 runs and saves")
        for key in ("name", "id"):
            if not holds(text, student[key]):
                raise SubmissionError(f"the PDF's text does not hold the [student] {key} "
                                      f"{student[key]!r}; run `make report` again")
        report("  ok  the PDF's text holds the student's name and ID")


def _printed(metrics: dict, task) -> str:
    """The saved model's accuracy as the report prints it (a percentage with two decimals)."""
    return f"{100 * task.saved_accuracy(metrics):.2f}"


def _check_accuracy(folder: Path, script: str, metrics: dict, task, pdf_text_: str,
                    elsewhere: Path) -> None:
    returned = run_eval(folder, script, elsewhere)["accuracy"]
    printed = _printed(metrics, task)
    if f"{100 * returned:.2f}" != printed:
        # Make sees no change in a hand-edited metrics.json: deleting it makes `make` train again
        metrics_file = paths.relative(paths.FULL_MODE.results / task.name / "metrics.json")
        raise SubmissionError(f"{script}: evaluate_hw1() returns {returned:.4f} but the report "
                              f"prints {printed} %; delete {metrics_file} and run `make "
                              f"submission` again (it trains {task.name} again)")
    if printed not in pdf_text_:
        section, key = task.saved_acc
        raise SubmissionError(f"the PDF does not print the saved {task.name} weights' accuracy, "
                              f"{printed} %, which the graders check; keep "
                              f"((( {task.name}.{section}.{key}|pct(2) ))) in templates/{task.name}.tex.j2")


def pack(out: Path | None = None, results: Path = paths.FULL_MODE.results,
         build: Path = paths.FULL_MODE.build, pdf: Path = paths.FULL_MODE.pdf,
         allow_quick: bool = False, report: callable = print) -> Path:
    """Check the full report (a quick one's folders only for the tests, `allow_quick`), write the zip under a temporary name, verify it, then rename it."""
    ctx = check_report(results, build, pdf, allow_quick)
    student = ctx["student"]
    out = out or paths.submission_zip(student["id"])
    for stale in out.parent.glob(f".{out.name}.*.tmp"):  # left by a packing that was killed
        stale.unlink()
    try:
        with atomic_write(out) as tmp:
            write_zip(tmp, contents(student, results, pdf))
            report(f"submission: verifying {out.name} from an empty folder with MNIST beside it")
            verify(tmp, student, {task.name: ctx[task.name] for task in TASKS}, report)
    except KeyboardInterrupt:  # the generic line would say finished files are kept
        older = out.exists()
        out.unlink(missing_ok=True)
        raise Interrupted(f"interrupted while packing; {_what_was_removed(out, older)}run `make "
                          f"submission` again to pack and verify the zip") from None
    except BaseException:
        out.unlink(missing_ok=True)  # an older zip would pass for this one
        raise
    return out


class Interrupted(SubmissionError):
    exit_code = 130


def _what_was_removed(out: Path, older: bool) -> str:
    if not older:
        return "no zip was written; "
    return (f"the older {paths.relative(out)} was deleted too (it was packed from an earlier "
            f"report and would pass for this one); ")


def _pack_line(args) -> str:
    out = pack()
    with zipfile.ZipFile(out) as z:
        listing = "\n".join(f"  {item.file_size:>10,d}  {item.filename}" for item in z.infolist())
    return (f"{listing}\nsubmission: wrote {out.relative_to(paths.ROOT)} "
            f"({out.stat().st_size / 1e6:.1f} MB), verified")


if __name__ == "__main__":
    cli.run("report.bundle.submission", __doc__, {
        "pack": cli.Command(_pack_line, "build and verify the zip"),
        "precheck": cli.Command(lambda args: precheck(args.mode.quick),
                                "refuse at once what no report could make packable")})
