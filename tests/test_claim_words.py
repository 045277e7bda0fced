"""A declared claim's words must state what it declares (issue 25b): the direction of the
comparison the sentence makes, read from its subject, comparative words and negations; and
descriptions that name two variants without comparing them pass."""
import pytest

from test_own_words import _render

CLAIM = '((* call claim("{factor}", "{a}", "{rel}", "{b}") *)){words}((* endcall *)).\n'


def _claim(tmp_path, words, rel=">", factor="activation", a="relu", b="sigmoid"):
    return _render(tmp_path, CLAIM.format(factor=factor, a=a, rel=rel, b=b, words=words))


@pytest.mark.parametrize("words", [
    "ReLU learned clearly faster than sigmoid", "Sigmoid trailed ReLU throughout",
    "Compared with sigmoid, ReLU reached a higher accuracy sooner", "Sigmoid was beaten by ReLU",
    "The sigmoid network cannot keep up with ReLU", "ReLU reached a lower loss than sigmoid",
    "ReLU needed fewer epochs than sigmoid", "The rectifiers left the logistic units behind",
    "ReLU learned faster than sigmoid at the same learning rate", "ReLU has a clear edge over sigmoid",
    "ReLU learned faster than sigmoid, which lagged throughout",
])
def test_words_that_state_the_declared_direction_pass(tmp_path, words):
    assert _claim(tmp_path, words) == []


@pytest.mark.parametrize("words, says", [
    ("Sigmoid learned clearly faster than ReLU", 'sigmoid converged faster than relu ("faster")'),
    ("The logistic units won by a wide margin over the rectifiers", 'sigmoid converged faster than relu ("won")'),
    ("ReLU did not learn faster than sigmoid", 'relu did not converge faster than sigmoid ("faster")'),
    ("ReLU was outperformed by sigmoid", 'sigmoid converged faster than relu ("outperformed")'),
    ("ReLU and sigmoid could not be told apart", 'relu and sigmoid could not be told apart'),
    ("ReLU learned", "no comparison of relu and sigmoid"),
    ("ReLU and sigmoid differed", "relu and sigmoid differ, not which way"),
])
def test_words_that_contradict_or_do_not_state_the_declaration_are_a_finding(tmp_path, words, says):
    (finding,) = _claim(tmp_path, words)
    assert finding.startswith("templates/q1.tex.j2:1: the claim declares activation: relu > sigmoid "
                              "(relu converged faster than sigmoid) but its words say " + says)


def test_not_told_apart_needs_words_of_no_difference_or_none(tmp_path):
    findings = _claim(tmp_path, "ReLU learned far faster than sigmoid", rel="~")
    assert "its words say relu converged faster than sigmoid" in findings[0]
    lr = dict(factor="lr", a="0.1", b="0.01", rel="~")
    for n, words in enumerate(("the two rates could not be told apart", "the two rates showed no clear difference",
                  "the two rates gave comparable curves", "the two rates were tried")):
        (tmp_path / str(n)).mkdir()
        assert _claim(tmp_path / str(n), words, **lr) == [], words


def test_a_nested_claim_is_read_for_its_own_words(tmp_path):
    inner = CLAIM.format(factor="activation", a="relu", rel=">", b="sigmoid",
                         words="Sigmoid learned faster than ReLU")[:-2]
    findings = _render(tmp_path, '((* call claim("activation", "relu", ">", "sigmoid") *))' + inner
                       + "((* endcall *)).\n")
    assert findings and all("its words say sigmoid converged faster than relu" in f for f in findings)


@pytest.mark.parametrize("words", ["ReLU learned faster than sigmoid, as did the larger learning rate",
                                   "ReLU learned faster than sigmoid and the wider network did better"])
def test_a_second_comparison_inside_a_claim_is_a_finding(tmp_path, words):
    (finding,) = _claim(tmp_path, words)
    assert "its sentence also compares" in finding and "declare the other in a claim of its own" in finding


def test_the_shipped_claims_words_read_as_declared(tmp_path):
    # templates/q1.tex.j2: the baseline inserted from the results, the subject the other one
    words = ("Saturating sigmoid units trailed ((( q1.ablations.activation.baseline|e ))) throughout "
             "{(}((( q1.main.test_acc_mean|pct(1) ))) against ((( q1.main.test_acc_mean|pct(1) ))){)}")
    assert _claim(tmp_path, words) == []
