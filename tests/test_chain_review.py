"""What a hostile review of the typed derivations found (issue 26): a wrong step that looks like
a name, connectives that join two equations into one, a condition stated around the Kronecker
delta, the command line's left side, and float64 overflow in a step SymPy proves."""
import pytest

from derivations import chain, chain_cli, chain_text
from report.audit import derivation_steps as steps_mod
from tests.test_audit import _audit

LOOKS_LIKE_A_NAME = [  # one symbol = a symbol or a derivative, and wrong: refuted, not notation
    r"\hat{y}_k = \frac{\partial \hat{y}_i}{\partial z_k}",
    r"y_k = \frac{\partial L_{\mathrm{CE}}}{\partial z_k}",
    r"\hat{y}_i = z_i", r"\hat{y}_i = \hat{y}_k",
    r"f'_k = \frac{\partial \hat{y}_k}{\partial w_k}",
    r"\frac{\partial \hat{y}_i}{\partial z_k} = \hat{y}_k",   # the other way round, as before
]


@pytest.mark.parametrize("math", LOOKS_LIKE_A_NAME)
def test_a_wrong_step_that_looks_like_a_name_is_refuted_in_a_template(tmp_path, math):
    findings, _ = _audit(tmp_path, f"Here ${math}$.\n")
    assert len(findings) == 1 and "is wrong: at n = " in findings[0], findings


NAMES_THAT_HOLD = [  # notation the checker cannot read, or a name it verifies: both pass
    r"z = f(x; w)", r"f'_k = \partial f_k / \partial w_k",
    r"f'_k = \frac{\partial f_k}{\partial w_k}", r"\hat{y}_i = \hat{y}_i", "n = ((( q1.config.epochs )))",
    r"L = L_{\mathrm{CE}}", r"z_k = f_k",
]


@pytest.mark.parametrize("math", NAMES_THAT_HOLD)
def test_names_the_checker_cannot_read_or_verifies_still_pass(tmp_path, math):
    findings, _ = _audit(tmp_path, f"Here ${math}$.\n")
    assert findings == []


SO = (r"\frac{\partial \hat{y}_i}{\partial z_k} = \hat{y}_i (\delta_{ik} - \hat{y}_k) \text{%s} "
      r"\frac{\partial L_{\mathrm{CE}}}{\partial z_k} = \hat{y}_k - y_k \text{ since } \sum_j y_j = 1")


@pytest.mark.parametrize("words", [", so ", "so", " hence ", "thus,", "and", "therefore", "then",
                                   " where ", "i.e.", ", i.e., ", ",", ", and so ", " we get ",
                                   " from which ", r"\quad", r"\qquad"])
def test_words_or_a_quad_between_two_equations_separate_two_chains(words):
    math = SO % words if words[0] != "\\" else SO.replace(r"\text{%s}", words)
    found = chain_text.chains(math)
    assert [len(c.sides) for c in found] == [2, 2] and [c.sum_one for c in found] == [False, True]
    assert all(step.verified for step in chain.check_math(math))


def test_a_quad_before_a_condition_or_a_continuation_keeps_one_chain():
    for math in (r"\hat{y}_i = \frac{e^{z_i}}{\sum_j e^{z_j}} \quad (k = i)",
                 r"\hat{y}_i \quad = \frac{e^{z_i}}{\sum_j e^{z_j}}",
                 r"\hat{y}_i = \frac{e^{z_i}}{\sum_j e^{z_j}} \quad \text{for } k \neq i",
                 r"\hat{y}_i = \text{the softmax } \frac{e^{z_i}}{\sum_j e^{z_j}}",   # no relation after
                 r"\hat{y}_i = \frac{e^{z_i}}{\sum_j e^{z_j}} \text{ by definition}"):
        assert [len(c.sides) for c in chain_text.chains(math)] == [2], math


def test_a_wrong_second_equation_after_so_is_refuted_on_its_own():
    math = SO.replace("- y_k", "+ y_k") % ", so "
    assert [s.verified for s in chain.check_math(math)] == [True, False]


def test_the_kronecker_deltas_definition_with_its_case_in_the_prose_passes(tmp_path):
    findings, _ = _audit(tmp_path, r"Where $\delta_{ik} = 1$ if $i = k$, else zero." "\n")
    assert findings == []
    (tmp_path / "b").mkdir()
    findings, _ = _audit(tmp_path / "b", r"Here $\delta_{ik} = 0 \text{ if } i = k$." "\n")
    assert len(findings) == 1 and "is wrong" in findings[0]   # a condition in the math is checked
    assert all(s.verified for s in chain.check_math(r"\delta_{ik} = 1 \text{ if } i = k"))


def test_a_step_that_holds_only_on_the_diagonal_says_which_condition_to_state():
    verdict = steps_mod.judge(r"\frac{\partial \hat{y}_i}{\partial z_k} = \hat{y}_i (1 - \hat{y}_i)")
    assert "is wrong" in verdict.problem and r"it holds only when i = k" in verdict.problem
    assert r"\text{if } i = k" in verdict.problem


@pytest.mark.parametrize("math", [r"\hat{y}_i = \frac{e^{z_i}}{\sum_j e^{z_j}}",
                                  r"$\hat{y}_k = \frac{e^{z_k}}{\sum_{j=1}^{n} e^{z_j}}$"])
def test_the_command_line_checks_a_chain_with_its_own_left_side_as_typed(math):
    text, code = chain_cli.run(math)
    assert code == 0 and text.startswith(r"step 1 verified: \hat{y}_")


def test_the_command_line_refutes_a_wrong_chain_with_its_own_left_side():
    text, code = chain_cli.run(r"\hat{y}_i = z_i")
    assert code == 1 and text.startswith(r"step 1 refuted: \hat{y}_i = z_i")


@pytest.mark.parametrize("math", [
    r"\frac{e^{z_i+1000}}{\sum_j e^{z_j+1000}} = \hat{y}_i",
    r"\frac{e^{z_i-1000}}{\sum_j e^{z_j-1000}} = \hat{y}_i",                 # underflow: 0 / 0
    r"\frac{e^{2 z_i+700}}{\sum_j e^{2 z_j+700}} = \frac{e^{2z_i}}{\sum_j e^{2z_j}}",  # at some points
    r"\frac{\partial}{\partial z_k} \frac{e^{z_i+1000}}{\sum_j e^{z_j+1000}} = \hat{y}_i(\delta_{ik} - \hat{y}_k)",
])
def test_overflow_in_float64_does_not_refute_a_step_sympy_proves(math):
    [step] = chain.check_math(math)
    assert step.verified and "not checked numerically where float64 overflows" in step.detail


def test_overflow_in_a_step_sympy_cannot_prove_is_not_verified_and_a_wrong_one_is_refuted():
    [step] = chain.check_math(r"\log \sum_j e^{z_j + 1000} = 1000 + \log \sum_j e^{z_j}")
    assert not step.verified and not step.refuted and "float64's range" in step.detail
    [step] = chain.check_math(r"\frac{e^{2 z_i+700}}{\sum_j e^{2 z_j+700}} = \hat{y}_i")
    assert step.refuted   # wrong at the points where nothing overflows


def test_a_wrong_step_beside_a_value_inserted_from_the_results_is_still_refuted(tmp_path):
    findings, _ = _audit(tmp_path, r"Here $\hat{y}_i = z_i, \quad n = ((( q1.config.epochs )))$." "\n")
    assert len(findings) == 1 and "is wrong" in findings[0]


def test_a_condition_holds_for_the_chain_of_its_part_of_the_row():
    both = (r"\frac{\partial \hat{y}_i}{\partial z_k} = -\hat{y}_i \hat{y}_k \text{ for } k \neq i "
            r"\text{, and } \frac{\partial \hat{y}_i}{\partial z_k} = \hat{y}_i(1-\hat{y}_i) \text{ for } k = i")
    assert [s.verified for s in chain.check_math(both)] == [True, True]
    found = chain_text.chains(both)
    assert [sorted(map(str, c.conditions)) for c in found] == [
        ["Condition(a='k', b='i', equal=False)"], ["Condition(a='k', b='i', equal=True)"]]
