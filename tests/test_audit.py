"""The audit: numbers, relations and verdict words typed by hand in a template are found, with
their template line, and what comes from the results, eq() or claims passes. No LaTeX here."""
import re

import pytest

from report.audit import run as audit
from report.render import context
from report.claims import permutation
from report.render import jinja as render
from report.errors import ReportError
from report.render import marks

DERIVATIONS = {"identities": [
    {"id": "ce_logits", "kind": "identity", "status": "verified",
     "latex": r"\frac{\partial L_{\mathrm{CE}}}{\partial z_{k}} = \hat{y}_{k} - y_{k}",
     "lhs": r"\frac{\partial L_{\mathrm{CE}}}{\partial z_{k}}", "rhs": r"\hat{y}_{k} - y_{k}",
     "condition": r"\sum_{j=1}^{n} y_{j} = 1"},
    {"id": "mse_logits", "kind": "identity", "status": "verified", "latex": "a = b", "lhs": "a",
     "rhs": r"2 \hat{y}_{k}", "condition": ""},
    {"id": "draft_diagonal", "kind": "claim", "status": "refuted", "latex": r"x = \hat{y}_i f'_i",
     "case": "k = i", "counterexample": {"n": 2}}],
    "definitions": [{"id": "softmax", "kind": "definition", "latex":
                     r"\hat{y}_{i} = \frac{e^{z_{i}}}{\sum_{j=1}^{n} e^{z_{j}}}", "lhs": r"\hat{y}_{i}",
                     "rhs": r"\frac{e^{z_{i}}}{\sum_{j=1}^{n} e^{z_{j}}}"}]}
Q1 = {"main": {"test_acc_mean": 0.9663, "test_acc_std": 0.0012, "seeds": [0, 1, 2, 3, 4]},
      "ablations": {"activation": {"variants": {"sigmoid": {"epochs_to_target_mean": 9.0}}}},
      "config": {"epochs": 10, "lr": 0.01}}


class Claims:
    def rankings(self):
        return ["Of the activations, ReLU (95.4 %) converged faster than sigmoid (78.5 %)."]


def _context():
    eq, refuted, definition, _ = context.equation_lookup(DERIVATIONS)
    return {"q1": marks.track(Q1, "q1"), "q2": marks.track({}, "q2"), "eq": eq,
            "refuted": refuted, "definition": definition,
            "claims": marks.AuditedClaims(Claims())}


def _audit(tmp_path, body: str, name="q1.tex.j2", extra=None):
    """Render one template (and `extra` ones) with the context; the audit's findings as lines."""
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / name).write_text(body)
    for other, text in (extra or {}).items():
        (folder / other).write_text(text)
    found = audit.Audit()
    ctx = {**_context(), "typed_numbers": found.typed_table}
    render.render_all(ctx, tmp_path / "build", folder, audit=found)
    return [str(f) for f in found.sorted_findings()], found


def test_a_number_typed_in_prose_is_named_with_its_line_and_the_expression_to_use(tmp_path):
    findings, _ = _audit(tmp_path, "Task~1.\nWe reached 97~\\% test accuracy.\n")
    assert findings == ['templates/q1.tex.j2:2: "97 %" is typed by hand and will not follow the '
                        'results; write ((( q1.main.test_acc_mean|pct(0) ))) instead']


def test_the_same_number_through_pct_passes_and_is_recorded_with_its_source(tmp_path):
    findings, found = _audit(tmp_path, "We reached ((( q1.main.test_acc_mean|pct(0) ))) test accuracy.\n")
    assert findings == []
    (template, line, record), = found.used
    assert (template, line, record.kind, record.source) == ("templates/q1.tex.j2", 1, "number",
                                                            "q1.main.test_acc_mean")


def test_numbers_typed_in_many_forms_are_each_caught(tmp_path):
    body = ("sigmoid needed 9 epochs\n"                       # 1: the suggestion finds it
            "a rate of 0.05, or 1,000 steps\n"                 # 2: two numbers
            r"\textbf{96.6\,\%} and \num{42}" "\n"            # 3: inside formatting commands
            "((( 97|pct(0) ))) and ((( 3 + 4 )))\n"            # 4: typed into an expression
            "$0.693$ in math\n")                               # 5: a measurement in math
    findings, _ = _audit(tmp_path, body)
    lines = [f.split(":")[1] for f in findings]
    assert lines == ["1", "2", "2", "3", "3", "4", "4", "5"]
    assert "write ((( q1.ablations.activation.variants.sigmoid.epochs_to_target_mean|num(0) )))" in findings[0]
    assert '"9700 %" is typed by hand' in findings[5]


@pytest.mark.parametrize("typed", [
    r"a rate of $10^{-3}$", r"sigmoid needs $4\times$ the epochs", r"\newcommand{\acc}{97\%}",
    r"\newcommand{\acc}[1]{#1 reached 97}", r"\def\acc{97}", r"\caption{after 10 epochs}",
    r"\textbf{\num{96.6}}", r"(96.6 $\pm$ 0.1)",
])
def test_a_number_hidden_in_math_macros_or_captions_is_still_typed(tmp_path, typed):
    findings, _ = _audit(tmp_path, typed + "\n")
    typed_by_hand = [f for f in findings if "TeX programming" not in f]  # a \def is one too
    assert typed_by_hand and all("is typed by hand" in f for f in typed_by_hand)


def test_arithmetic_on_a_result_keeps_its_source_unless_a_number_is_typed_into_it(tmp_path):
    findings, found = _audit(tmp_path, "((( (100 * q1.main.test_acc_mean)|num(1) ))) "
                                       "((( (q1.main.test_acc_mean * 0 + 0.97)|pct(0) )))\n")
    assert [r.source for _, _, r in found.used if r.kind == "number"] == ["100 * q1.main.test_acc_mean"]
    assert len(findings) == 1 and '"97 %" is typed by hand' in findings[0]


def test_latex_parameters_labels_and_automatic_numbering_are_not_numbers(tmp_path):
    body = "\n".join([
        r"\vspace{3pt}\hspace*{-2.5mm}\setlength{\tabcolsep}{4pt}\\[2pt]",
        r"\includegraphics[width=0.4\textwidth]{figures/q1_loss.pdf}",
        r"\begin{minipage}[t]{0.49\textwidth}\end{minipage}",
        r"\begin{tabular}{@{}p{0.27\textwidth}l@{}}\multicolumn{2}{@{}l}{main}\end{tabular}",
        r"\fcolorbox{red}{red!8}{x} \ref{tab:ablations} \label{fig:2} Table~\ref{tab:1}",
        r"Task~1 and Task~2, Homework~1, q1.py, ML2, $x^2$, $\tfrac12$, $[0, 1]$, $\ln 2$",
        r"% a comment: 42 and 97 %",
        r"\section{Results}\renewcommand{\arraystretch}{1.2}\rule{1pt}{500pt}"])
    findings, _ = _audit(tmp_path, body + "\n")
    assert findings == []


def test_a_fact_from_elsewhere_is_declared_typed_and_listed_in_the_appendix(tmp_path):
    body = 'The draft reported ((( 0.89|typed("the draft\'s test accuracy")|pct(0) ))).\n'
    appendix = ("((* for t in typed_numbers() *))((( t.text ))) {(}((( t.source|e )))) at "
                "\\texttt{((( t.where|e )))}\n((* endfor *))")
    findings, found = _audit(tmp_path, body, extra={"appendix.tex.j2": appendix})
    assert findings == []
    assert found.count("typed") == 1
    listed = (tmp_path / "build" / "appendix.tex").read_text()
    assert listed == (r"\qty{89}{\percent} {(}the draft's test accuracy) at \texttt{templates/q1.tex.j2:1}"
                      "\n")
    assert "and 1 typed as facts from elsewhere: 89 % (the draft's test accuracy" in found.summary(0.01)


def test_a_relation_typed_in_math_is_caught_and_the_same_through_eq_passes(tmp_path):
    typed, _ = _audit(tmp_path, "$\\partial L / \\partial z_k = \\hat{y}_k + y_k$\n")
    assert len(typed) == 1 and typed[0].startswith(
        'templates/q1.tex.j2:1: "\\partial L / \\partial z_k = \\hat{y}_k + y_k" is typed math the '
        'derivation checker cannot read: `\\partial` cannot stand here; write a derivative as '
        '\\frac{\\partial ...}{\\partial z_k}')
    (tmp_path / "templates").rename(tmp_path / "old")
    through_eq, found = _audit(tmp_path, '$((( eq("ce_logits").latex )))$ with $((( eq("ce_logits").condition )))$\n')
    assert through_eq == [] and found.count("relation") == 2


MATH_RESULTS = [  # typed by hand: each is a result, reported
    r"-\hat{y}_i \hat{y}_k f'_k",                          # an entry, even without a relation
    r"f'_i\,\hat{y}_i(1 - \hat{y}_i)",
    r"\partial L_{\mathrm{CE}} / \partial W = (\hat{y} - y)\,x^{\top}",
    r"z = Wx + b", r"\sigma^2 = 2/\text{fan-in}", r"\sum_i y_i = 1",
    r"\frac{\partial \hat{y}_i}{\partial z_k} \le 1",
    "((( eq(\"ce_logits\").rhs ))) + \\hat{y}_k",          # a verified piece changed by hand
    "((( eq(\"ce_logits\").lhs ))) = ((( eq(\"mse_logits\").rhs )))",  # sides of two identities
    "-((( eq(\"ce_logits\").rhs )))",
]
MATH_NOTATION = [  # notation: allowed
    r"\hat{y}_i", r"f'_k", r"\mathbb{R}^n", r"x^{\top}", r"\delta_{ik}", r"L(\hat{y}, y)",
    r"z = f(x; w) \in \mathbb{R}^n",                      # naming an application
    r"f'_k = \partial f_k / \partial w_k",                # naming a derivative
    r"\frac{\partial \hat{y}_i}{\partial z_k}",           # a derivative, no relation
    r"k \ne i", r"k = i", r"n = 2, \dots, 6",             # conditions on indices
    "n = ((( q1.config.epochs )))", r"\ln 2 \approx ((( q1.main.test_acc_mean|num(3) )))",
    r"H(\mathrm{Bernoulli}(\tfrac12))",
    "((( eq(\"ce_logits\").lhs ))) = ((( eq(\"ce_logits\").rhs )))",  # one identity's two sides
    "((( eq(\"ce_logits\").latex ))), \\qquad ((( eq(\"mse_logits\").latex )))",
    "((( definition(\"softmax\").latex )))", "((( refuted(\"draft_diagonal\").latex )))",
]


@pytest.mark.parametrize("math", MATH_RESULTS)
def test_results_typed_in_math_are_caught(tmp_path, math):
    """Each is reported: as typed by hand, as math the derivation checker cannot read, or as a
    derivation step that is wrong (tests/test_chain.py has the checker's own cases)."""
    findings, _ = _audit(tmp_path, f"Here $ {math} $ and \\[ {math} \\]\n")
    assert len(findings) == 2 and all(
        re.search("typed by hand in math|checker cannot read|is wrong: at n = ", f) for f in findings)


def test_a_typed_derivation_step_that_holds_passes_and_is_counted(tmp_path):
    math = r"\hat{y}_i = e^{z_i} / \sum_{j=1}^{n} e^{z_j}"   # the softmax, typed by hand
    findings, found = _audit(tmp_path, f"Here $ {math} $ and \\[ {math} \\]\n")
    assert findings == [] and found.typed_steps.record()["steps"] == 2


@pytest.mark.parametrize("math", MATH_NOTATION)
def test_notation_in_math_passes(tmp_path, math):
    findings, _ = _audit(tmp_path, f"\\begin{{equation}} {math} \\end{{equation}}\n")
    assert findings == []


def test_a_comparison_typed_by_hand_names_the_way_to_declare_it(tmp_path):
    # Changed on purpose (issue 25): a verdict word alone is no longer a finding ("It is more
    # accurate and better" names no variant: a general statement); a sentence that compares this
    # report's variants is, whatever words it uses.
    findings, _ = _audit(tmp_path, "\n\nSigmoid converged Faster than ReLU; the draft's claim is confirmed.\n"
                                   "It is more accurate and better.\n")
    assert [f.split(": ", 1)[1].split(" (")[0] for f in findings] == [
        "a comparison of this report's variants typed by hand"] * 2
    assert findings[0].startswith("templates/q1.tex.j2:3:") and "two activations" in findings[0]
    assert 'call claim("activation", "relu", ">", "sigmoid")' in findings[0]
    assert "draft" in findings[1]


def test_verdict_words_from_claims_pass(tmp_path):
    findings, found = _audit(tmp_path, '((( claims.rankings()|join(" ") )))\n')
    assert findings == [] and found.count("claim") == 1


def test_text_typed_into_an_expression_is_read_like_prose(tmp_path):
    findings, _ = _audit(tmp_path, '((( "we reached 97 \\\\%, ReLU faster than sigmoid" )))\n((( "97"|e )))\n')
    assert len(findings) == 3


def test_the_preamble_of_main_is_not_prose(tmp_path):
    main = "\\documentclass[10pt]{article}\n\\setlength{\\parskip}{3pt}\n\\begin{document}\n42\n\\end{document}\n"
    findings, _ = _audit(tmp_path, main, name="main.tex.j2")
    assert findings == ['templates/main.tex.j2:4: "42" is typed by hand and will not follow the '
                        'results; write it from the results through num, pct or sci, or declare a '
                        'fact from elsewhere with ((( <number>|typed("what it is") )))']


# --- the permutation test ------------------------------------------------------------------------

def test_permutation_p_values_match_hand_counts():
    assert permutation.p_value([1, 2, 3], [4, 5, 6]) == pytest.approx(2 / 20)
    assert permutation.p_value([0, 2], [1, 3]) == pytest.approx(4 / 6)
    assert permutation.p_value([1, 2], [1, 2]) == 1.0
    assert permutation.p_value([10], [0, 1, 2]) == pytest.approx(1 / 4)
    separated = permutation.p_value([0.95 + i / 1000 for i in range(5)], [0.90 + i / 1000 for i in range(5)])
    assert separated == pytest.approx(2 / 252) == pytest.approx(permutation.smallest_p(5, 5))


def test_the_floor_of_p_is_two_over_the_number_of_splits():
    assert [round(permutation.smallest_p(n, n), 4) for n in (3, 4, 5)] == [0.1, 0.0286, 0.0079]
    assert permutation.smallest_p(1, 3) == 1 / 4


def test_a_verified_equation_changed_by_a_filter_is_caught(tmp_path):
    findings, _ = _audit(tmp_path, '$((( eq("ce_logits").rhs|replace("-", "+") )))$\n')
    assert findings == ['templates/q1.tex.j2:1: what ce_logits.rhs printed was changed in the '
                        'template (by a filter or a slice) into "\\hat{y}_{k} + y_{k}"; print it as it is']


# --- what a hostile pass found: each must be caught, or must pass ---------------------------------

CAUGHT = [
    r"We reached~97\,\% test accuracy.", r"We reached 97 in 10 runs.", r"accuracy .97 here",
    r"\newcommand{\acc}{97}We reached \acc.", r"\setcounter{acc}{97}\theacc", r"\item[97\,\%] label",
    r"see Table~\ref{tab:x} [97\,\%] here", r"accuracy\quad[97\,\%] here",
    r"\begin{center}{97\,\% accuracy}\end{center}", r"$97\,\%$", r"$9$ epochs", r"$n = 60$",
    r"$0{,}97$", r"$\text{we reached 97 percent}$", r"$4\,\times$", r"$\times 4$",
    r"\begin{alignat}{1}\frac{\partial L}{\partial z_k} &= \hat{y}_k - y_k\end{alignat}",
    r"$\mathit{-\hat{y}_i\hat{y}_k f'_k}$", r"\ensuremath{\partial L/\partial z = \hat y - y}",
    r"$\frac{\partial L}{\partial z_k}$ $=$ $\hat{y}_k$ $-$ $y_k$",
    '$((( eq("ce_logits").lhs ))) \\ne ((( eq("ce_logits").rhs )))$',
    '$((( eq("ce_logits").lhs ))) = ((( eq("ce_logits").condition )))$',
    '$((( eq("ce_logits").rhs ~ eq("mse_logits").rhs )))$',
    '$((( eq("ce_logits").rhs ))) ((( eq("mse_logits").rhs )))$',
    r"$\hat{y}_k - y_k = ((( q1.config.lr|num(2) )))$",
    r"\newcommand{\grad}{\frac{\partial L}{\partial z} = \hat y - y}",
    "the gradient is ŷ − y and z = Wx + b.", r"ReLU $>$ sigmoid",
    "ReLU improves on it and exceeds it", r"ReLU is fas\-ter", r"ReLU is f{}aster",
    r"ReLU is \mbox{fast}er", "ReLU is fas\u00adter", r"$\text{ReLU is faster}$",
    '((( "%cnumber%cq1.x%cf7e03a4a%c97%c"|format(2, 31, 31, 30, 3) )))',
    '((( eq("ce_logits").latex|upper )))', '$((( eq("ce_logits").latex[:-5] )))$',
]
PASSES = [
    r"\renewcommand\arraystretch{1.1}", r"\def\arraystretch{1.2}", r"\cmidrule(lr){2-3}\cline{2-3}",
    r"\penalty10000 \widowpenalty=10000 \looseness=-1", r"$(i, k)$", r"an $n \times n$ matrix",
    r"$\lVert w \rVert$", r"$f: \mathbb{R}^n \to \mathbb{R}$", r"$\nabla_w L$", r"$\partial L$",
    r"$s_1, \dots, s_5$", "ResNet-50, top-5, 2D", r"\setcounter{secnumdepth}{0}",
    r"\kern-2pt \hskip 3pt plus 1fil", r"\linebreak[4]", r"\cite[p.~12]{zhang}",
    r"$p(y \mid x)$", r"$W^{(1)}$", r"$\mathrm{Bernoulli}(\tfrac12)$",
]


def test_the_preambles_macros_are_read_but_not_its_settings(tmp_path):
    main = ("\\documentclass[10pt]{article}\n\\newcommand\\myacc{97\\,\\%}\n"
            "\\newcommand\\budget@mark[1]{\\write-1{#1}}\\renewcommand\\section{\\@startsection{section}{1}{0pt}}\n"
            "\\begin{document}\nok\n\\end{document}\n")
    findings, _ = _audit(tmp_path, main, name="main.tex.j2")
    assert len(findings) == 2 and findings[0].startswith('templates/main.tex.j2:2: "97 %" is typed')
    assert findings[1].startswith(r"templates/main.tex.j2:2: \newcommand\myacc: TeX programming")


CAUGHT_SECOND_PASS = [
    r"On test, Accuracy~97.12\,\% was reached.", r"\newcommand\accA[1]{#197\,\%}",
    r"\begin{center}[97\,\% test accuracy]\end{center}", r"\citep[with 97\,\% accuracy][]{x}",
    r"\newline[97\,\%]", r"\setcounter{figure}{96}", "4x the epochs", "60k images", "the 17th epoch",
    r"$\mathrm{97}$\,percent", r"${97}$", r"$+97$", r"$\approx 17$ epochs", r"$0{.}97$",
    r"$4 \cdot 9$ epochs", r"$\times\,4$", r"$\delta_k := \hat{y}_k - y_k$",
    r"$\frac{\partial L}{\partial z_k} \mapsto \hat{y}_k - y_k$",
    # a computed exponent: checked as a typed derivation step, and this one is wrong (+ for -)
    r"$\hat{y}_i = e^{z_i + \ln \sum_j e^{z_j}}$", '$((( eq("ce_logits").rhs )))^{2}$',
    r"\newcommand\gradA{\hat{y}_k - y_k}", r"\begin {equation} \hat{y}_k - y_k \end {equation}",
    r"$\hat{y}_k${}$-${}$y_k$", r"ReLU \textgreater{} sigmoid", r"ReLU $\succ$ sigmoid",
    r"ReLU ${>}$ sigmoid", r"ReLU is fas\relax ter", r"Re\-LU is fas\/ter",
    r"sigmoid is fas\hspace{0pt}ter", "the draft's claim is conﬁrmed", r"ReLU is $\mathrm{better}$",
    "sigmoid underperforms", "ReLU outpaces it", "a significant gap between ReLU and sigmoid",
]
PASSES_SECOND_PASS = [
    r"\rule[-0.5ex]{0pt}{2.5ex}", r"\toprule[1.5pt] x \bottomrule[1.5pt]", r"See Fig.~2 and Eq.~3.",
    r"Tasks~1 and~2", r"R\=oma", r"\newcolumntype{L}{>{\raggedright\arraybackslash}p{3cm}}",
    r"\begin{tabbing} Loss \= value \\ \> x \end{tabbing}", r"\captionsetup[figure]{skip=0.5ex}",
    r"\scalebox{0.9}[1.0]{Text}", r"\hrule height 0.4pt", r"\vrule width 0.5pt",
    '\\begin{equation}((( eq("ce_logits").latex )))\\label{eq:ce}\\end{equation}',
    '\\begin{equation}((( eq("ce_logits").latex ))) \\tag{A}\\end{equation}',
    '\\begin{align}((( eq("ce_logits").latex ))) \\\\ ((( eq("mse_logits").latex )))\\end{align}',
    r"\item[(a)] first", r"$x^{10}$", r"$W^{(1)}$",
]


@pytest.mark.parametrize("typed", CAUGHT + CAUGHT_SECOND_PASS)
def test_what_the_hostile_passes_slipped_through_is_caught(tmp_path, typed):
    findings, _ = _audit(tmp_path, typed + "\n")
    assert findings, typed


@pytest.mark.parametrize("latex", PASSES + PASSES_SECOND_PASS)
def test_what_the_hostile_passes_found_flagged_wrongly_passes(tmp_path, latex):
    findings, _ = _audit(tmp_path, latex + "\n")
    assert findings == [], findings


def test_a_recursive_macro_or_a_bad_digit_count_is_one_line(tmp_path):
    for body in ("((* macro f() *))((( f() )))((* endmacro *))((( f() )))\n",
                 '((( q1.main.test_acc_mean|num("x") )))\n'):
        folder = tmp_path / str(len(body))
        folder.mkdir()
        with pytest.raises(ReportError) as err:
            _audit(folder, body)
        assert str(err.value).startswith("templates/q1.tex.j2:") and "\n" not in str(err.value)
