"""Writing in one's own words (issue 25): comparisons of this report's variants are findings
whatever words they use, unless declared with `claim` and supported by the data; general prose
passes; numbers in words count; the front end reads LaTeX as LaTeX."""
import pytest

from report.audit import latex, run as audit
from report.claims import wording
from report.render import context, jinja as render, marks

from test_audit import DERIVATIONS


def _variant(per_seed):
    return {"test_acc_over_epochs_per_seed": list(per_seed), "epochs_to_target_mean": 1.0,
            "diverged": [], "test_acc_mean": per_seed[0]}


FAST, SLOW = [0.95, 0.951, 0.952, 0.953, 0.954], [0.80, 0.81, 0.82, 0.83, 0.84]


def _q1(seeds=5):
    relu, sigmoid = _variant(FAST[:seeds]), _variant(SLOW[:seeds])
    same = _variant([0.9501, 0.9503, 0.9502, 0.9504, 0.9505][:seeds])
    return {"main": {"seeds": list(range(seeds)), "test_acc_mean": 0.9663, "saved_test_acc": 0.9663},
            "config": {"epochs": 2 if seeds == 1 else 10, "lr": 0.01, "target_test_acc": 0.9, "hidden": [128, 64]},
            "layers": [784, 128, 64, 10], "n_train": 60000,
            "ablations": {"activation": {"baseline": "relu", "variants": {"relu": relu, "sigmoid": sigmoid}},
                          "lr": {"baseline": "0.01", "variants": {"0.01": relu, "0.1": same}}}}


def _render(tmp_path, body, seeds=5, name="q1.tex.j2", extra=None):
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(body)
    for other, text in (extra or {}).items():
        (folder / other).write_text(text)
    q1, q2 = _q1(seeds), {"n_train": 128, "config": {"epochs": 60}}
    eq, refuted, definition, _ = context.equation_lookup(DERIVATIONS)
    ctx = {"q1": marks.track(q1, "q1"), "q2": marks.track(q2, "q2"), "eq": eq, "refuted": refuted,
           "definition": definition, "quick": seeds == 1,
           "full_config": {"q1": {**_q1(5)["config"], "ablate_lr": [0.1]}, "q2": {"epochs": 60}},
           "claims": marks.AuditedClaims(wording.Claims(q1, q2))}
    found = audit.Audit()
    render.render_all(ctx, tmp_path / "build", folder, audit=found)
    return [str(f) for f in found.sorted_findings()]


CLAIM = '((* call claim("activation", "relu", "{rel}", "sigmoid") *)){words}((* endcall *)).\n'


def test_a_declared_claim_the_data_support_passes_in_the_students_words(tmp_path):
    body = CLAIM.format(rel=">", words="ReLU learned clearly faster than sigmoid")
    assert _render(tmp_path, body) == []
    assert "ReLU learned clearly faster than sigmoid." in (tmp_path / "build" / "q1.tex").read_text()


def test_a_reversed_claim_stops_with_its_p_value_and_what_the_data_support(tmp_path):
    (finding,) = _render(tmp_path, CLAIM.format(rel="<", words="sigmoid won"))
    assert finding.startswith("templates/q1.tex.j2:1: the claim \"ReLU converged slower than sigmoid\"")
    assert "p = 0.0079 over 5 seeds" in finding
    assert "the data support: ReLU (95.2 %) converged faster than sigmoid (82.0 %)" in finding


def test_a_quick_build_with_one_seed_cannot_support_a_claim(tmp_path):
    (finding,) = _render(tmp_path, CLAIM.format(rel=">", words="ReLU learned faster"), seeds=1)
    assert "is not supported at alpha = 0.01: p = 1.0000 with one seed" in finding
    assert "cannot be told apart with one seed" in finding


def test_a_template_can_branch_on_the_verdict(tmp_path):
    body = ('((* if claims.supports("lr", "0.1", "~", "0.01") *))'
            '((* call claim("lr", "0.1", "~", "0.01") *))the two rates could not be told apart'
            '((* endcall *))((* endif *)).\n')
    assert _render(tmp_path, body) == []


def test_a_claim_naming_an_unknown_variant_is_one_line(tmp_path):
    from report.errors import ReportError
    with pytest.raises(ReportError, match="no activation variant 'gelu'; the variants are 'relu', 'sigmoid'"):
        _render(tmp_path, '((* call claim("activation", "gelu", ">", "relu") *))x((* endcall *))\n')


COMPARISONS = [  # the user study's paraphrases, and more: each compares variants the results know
    "ReLU converges more quickly than sigmoid.", "Sigmoid trails ReLU.",
    "ReLU has a clear edge over sigmoid.", "The sigmoid network cannot keep up.",
    "ReLU comes out on top.", "The draft's claim does not hold.",
    "A wider or deeper network made little difference.", "ReLU clearly learned faster.",
    "Cross-entropy left MSE behind.", "Adam memorised the labels and SGD did not.",
    "Switching to sigmoid slowed learning down.", "With the larger learning rate the accuracy rose sooner.",
    r"Re\-LU beats sig\-moid.", r"\textbf{ReLU} $\succ$ sigmoid",
    "the main configuration was the best of all", "ReLU and sigmoid end up far apart.",
    'the ((( q1.ablations.activation.baseline|e ))) run outlasted sigmoid',
]
GENERAL = [  # general statements about learning: they pass
    "A larger learning rate takes larger steps.", "Training accuracy was only a little higher.",
    "In the worst case the gradient vanishes.", "The lower layers learn edges.",
    "Sigmoid saturates for large inputs.", "Deeper theory is beyond this report.",
    "It is more accurate and better.",
]


@pytest.mark.parametrize("sentence", COMPARISONS)
def test_a_paraphrased_comparison_of_variants_is_a_finding(tmp_path, sentence):
    findings = _render(tmp_path, sentence + "\n")
    assert findings and any("comparison of this report's variants" in f or "relation" in f for f in findings)


@pytest.mark.parametrize("sentence", GENERAL)
def test_a_general_statement_about_learning_passes(tmp_path, sentence):
    assert _render(tmp_path, sentence + "\n") == []


@pytest.mark.parametrize("words", ["ninety-seven percent of the images", "nine out of ten digits",
                                   "about half of the test images", "one in ten runs", "twice as many epochs",
                                   "after ten epochs", "a third of the seeds"])
def test_numbers_spelled_out_are_numbers(tmp_path, words):
    (finding,) = _render(tmp_path, f"We saw {words}.\n")
    assert "is typed by hand" in finding


def test_a_quick_draft_suggests_by_meaning_and_never_another_tasks_key(tmp_path):
    findings = _render(tmp_path, "After 10 epochs, with 128 units and learning rate 0.01.\n", seeds=1)
    epochs, units, rate = findings
    assert "q1.config.epochs" in epochs and "q1.layers" not in epochs
    assert "2 in this quick build, 10 in the full one" in epochs
    assert "q1.config.hidden[0]" in units and "q2.n_train" not in units
    assert "q1.config.lr" in rate


def test_a_threshold_typed_in_a_condition_is_a_finding(tmp_path):
    body = "((* if q1.main.test_acc_mean > 0.95 *))excellent((* endif *))\n"
    (finding,) = _render(tmp_path, body)
    assert finding.startswith("templates/q1.tex.j2:1: the threshold 0.95 is typed into a condition")


def test_bib_notes_and_pdf_metadata_are_read(tmp_path):
    bib = "@misc{x, title = {A study}, year = {2017}, note = {we reached 97\\,\\% accuracy}}\n"
    main = ("\\documentclass{article}\n\\hypersetup{pdftitle={ReLU beats sigmoid}}\n"
            "\\begin{document}\nok\n\\end{document}\n")
    findings = _render(tmp_path, main, name="main.tex.j2", extra={"references.bib": bib})
    assert [f.split(":")[0:2] for f in findings] == [["templates/main.tex.j2", "2"],
                                                     ["templates/references.bib", "1"]]


def test_an_included_template_reports_each_finding_once_at_its_own_line(tmp_path):
    findings = _render(tmp_path, "intro\n((* include 'part.tex.j2' *))\n",
                       extra={"part.tex.j2": "first\nwe reached 97 percent\n"})
    assert len(findings) == 1 and findings[0].startswith("templates/part.tex.j2:2:")


def test_the_parser_faults_of_the_regex_front_end_are_gone():
    # a \\ before a brace does not escape it: the group {a\\} ends at the brace
    reading = latex.read(r"{a\\}b} 7")
    assert "7" in reading.text()
    # math inside \text inside math is read inside out, not split
    reading = latex.read(r"$a \text{if $b=c$} d$")
    assert [f.text.strip() for f in reading.formulas] == [r"a \text           d".strip(), "b=c"]
    # a comment after \\% is a comment
    assert "42" not in latex.read("a \\\\% 42\nb").text()


def test_each_of_two_equations_is_reported_at_its_own_line(tmp_path):
    body = "\\begin{equation}\nz = Wx + b\n\\end{equation}\n\\begin{equation}\ny = Vz + c\n\\end{equation}\n"
    findings = _render(tmp_path, body)
    assert [f.split(":")[1] for f in findings] == ["2", "5"]


def test_a_factor_in_math_is_quoted_as_typed(tmp_path):
    (finding,) = _render(tmp_path, "sigmoid needs $\\times 2$ the epochs\n")
    assert '"\\times 2" is typed by hand' in finding


def test_a_claims_sentence_names_only_what_it_declares(tmp_path):
    body = '((* call claim("activation", "relu", ">", "sigmoid") *))Adam beat SGD((* endcall *)).\n'
    (finding,) = _render(tmp_path, body)
    assert "the claim declares activation: relu > sigmoid but its sentence names" in finding


def test_a_filter_that_changes_a_marks_header_is_caught(tmp_path):
    findings = _render(tmp_path, '((( q1.main.test_acc_mean|pct(1)|upper )))\n')
    assert any("invisible marks" in f for f in findings)


@pytest.mark.parametrize("typed", [
    r"\newcommand\winner{ReLU}\winner{} outran every other activation.",   # a macro's use
    '((* set x = "faster" *))ReLU is ((( x ))) than sigmoid.',               # Jinja variables
    "R\u0435LU edged out s\u0456gmoid.",                                      # Cyrillic lookalikes
    "Doubling the width paid off.", r"$\text{ReLU}>\text{sigmoid}$",
    r"\footnote{sigmoid lagged}", r"\caption{ReLU wins}", r"\href{http://x}{97 percent}",
    '((* set t = 0.95 *))((* if q1.main.test_acc_mean > t *))excellent((* endif *))',
])
def test_what_a_hostile_writer_tries_is_caught(tmp_path, typed):
    assert _render(tmp_path, typed + "\n"), typed


def test_make_names_lists_each_value_with_its_expression_meaning_and_the_full_value(recorded_context):
    from report.render import names
    listing = names.listing(recorded_context)
    assert "((( q1.main.saved_test_acc )))" in listing and "the graders load" in listing
    assert "((( q1.config.epochs )))" in listing and "(full: " in listing
    assert "activation   relu, sigmoid" in listing


def test_make_report_says_what_make_submission_would_refuse(recorded_context):
    from report.bundle import refusals
    found = audit.Audit()  # nothing printed: the saved weights' accuracy sentences are missing
    reasons = refusals.found({**recorded_context, "student_unset": ["name"]}, found)
    assert [r.split(" ")[:7] for r in reasons][:2] == [
        ["the", "PDF", "does", "not", "print", "the", "saved"]] * 2
    assert "name not set in config.toml [student]" in reasons[2]
    layout = {"line_pt": 12.0, "text_height_pt": 756.8, "end_page": 2, "end_depth_pt": 1500.0,
              "parts": {"title": 60.0, "theory": 350.0, "q1": 600.0, "q2": 450.0, "summary": 120.0}}
    (line,) = refusals.warnings({"quick": True, "layout": layout, "body_pages": 2, "refusals": []})
    assert line.startswith("the full build is likely to run about")
