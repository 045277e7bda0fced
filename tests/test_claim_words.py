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
    "ReLU learned faster than sigmoid, which lagged throughout", "Sigmoid never caught up with ReLU",
    "Sigmoid needed more epochs than ReLU", "ReLU's curve sat above sigmoid's",
    "It was ReLU, not sigmoid, that learned faster", "Sigmoid got left behind by ReLU",
    "With ReLU the accuracy rose sooner than with sigmoid", "ReLU beat sigmoid at every learning rate",
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
    ("It was sigmoid, not ReLU, that learned faster", 'sigmoid converged faster than relu ("faster")'),
    ("ReLU lost to sigmoid", 'sigmoid converged faster than relu ("lost")'),
    ("ReLU was not as fast as sigmoid", 'sigmoid converged faster than relu ("as fast as")'),
    ("ReLU matched sigmoid", 'relu and sigmoid could not be told apart ("matched")'),
    ("With sigmoid the accuracy rose sooner than with ReLU", 'sigmoid converged faster than relu ("sooner")'),
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
                                   "ReLU learned faster than sigmoid and the wider network did better",
                                   "ReLU beat sigmoid, and the learning rate mattered less"])
def test_a_second_comparison_inside_a_claim_is_a_finding(tmp_path, words):
    (finding,) = _claim(tmp_path, words)
    assert "its sentence also compares" in finding and "declare the other in a claim of its own" in finding


def test_the_shipped_claims_words_read_as_declared(tmp_path):
    # templates/q1.tex.j2: the baseline inserted from the results, the subject the other one
    words = ("Saturating sigmoid units trailed ((( q1.ablations.activation.baseline|e ))) throughout "
             "{(}((( q1.main.test_acc_mean|pct(1) ))) against ((( q1.main.test_acc_mean|pct(1) ))){)}")
    assert _claim(tmp_path, words) == []


@pytest.mark.parametrize("sentence", [
    "We compare ReLU and sigmoid hidden units.",
    "The ablations vary the activation (ReLU or sigmoid) and the loss (MSE or cross-entropy).",
    "Sigmoid units were initialised with Glorot's scheme and ReLU units with He's.",
    "The learning rates ((( q1.config.lr ))) and ((( q1.ablations.lr.baseline|e ))) were also tried.",
    "Adam adapts the step size per weight, unlike plain SGD.",
    "We use cross-entropy loss rather than MSE loss.", "Figure~2 shows ReLU and sigmoid curves.",
])
def test_naming_two_variants_without_an_outcome_is_a_description(tmp_path, sentence):
    assert _render(tmp_path, sentence + "\n") == []


@pytest.mark.parametrize("typed, reason", [
    ("The draft was right about the activation.", 'it says "was right" of the draft and activations'),
    ("\\begin{tabular}{ll} relu & faster \\\\ sigmoid & slower \\\\ \\end{tabular}", 'it says "faster" of relu'),
    ("ReLU beat sigmoid.\n\\begin{tabular}{ll} relu & faster \\\\ \\end{tabular}", 'it says "faster" of relu'),
    ("The sigmoid and ReLU runs were trained alike, but ReLU learned more.", "it names two activations"),
    ("ReLU vs sigmoid: see Table~1.", 'it names two activations (relu, sigmoid) with "vs"'),
    ("ReLU ((( q1.ablations.activation.variants.relu.test_acc_mean|pct(1) ))) and sigmoid "
     "((( q1.ablations.activation.variants.sigmoid.test_acc_mean|pct(1) )))", 'with "its result inserted"'),
])
def test_a_verdict_on_the_draft_or_a_table_row_that_compares_is_a_finding(tmp_path, typed, reason):
    findings = _render(tmp_path, typed + "\n")
    assert any(reason in f for f in findings), findings


@pytest.mark.parametrize("sentence, suggested", [
    ("Cross-entropy learned faster than MSE.", 'claim("loss", "ce", ">", "mse")'),
    ("The rate ((( q1.config.lr ))) converged faster than the draft's learning rate.",
     'claim("lr", "0.01", ">", "<another learning rate>")'),
    ("The wider network converged faster.", 'claim("hidden", "<one hidden size>", ">", "<another hidden size>")'),
    ("Sigmoid trails ReLU.", 'claim("activation", "relu", ">", "sigmoid")'),
])
def test_the_fix_it_declares_what_the_sentence_names(tmp_path, sentence, suggested):
    (finding,) = _render(tmp_path, sentence + "\n")
    assert suggested in finding


@pytest.mark.parametrize("sentence, printed", [
    ("Adam memorised the labels and SGD did not.", "claims.draft_setting()"),
    ("Random labels were learned more slowly than real labels.", "claims.random_training()"),
])
def test_a_comparison_no_claim_expresses_says_to_print_the_claims_sentence(tmp_path, sentence, printed):
    (finding,) = _render(tmp_path, sentence + "\n")
    assert "no claim(...) declares" in finding and printed in finding and "claim(\"" not in finding


def test_a_learning_rate_claim_reads_its_values_inserted_or_by_size(tmp_path):
    lr = dict(factor="lr", a="0.1", b="0.01")
    reversed_words = ["The larger rate trailed the smaller one",
                      "((( q1.config.lr ))) learned faster than the larger learning rate"]
    for n, words in enumerate(reversed_words):
        (tmp_path / str(n)).mkdir()
        findings = _claim(tmp_path / str(n), words, **lr)
        assert any("its words say 0.01 converged faster than 0.1" in f for f in findings), findings
    (tmp_path / "same").mkdir()
    assert _claim(tmp_path / "same", "the higher learning rate did no better", rel="~", **lr) == []


@pytest.mark.parametrize("words, said", [
    ("Cross-entropy learned faster than MSE", ">"), ("The squared error trailed the log loss", ">"),
    ("MSE reached a lower loss sooner than CE", "<"), ("CE and MSE could not be told apart", "~"),
])
def test_a_loss_claim_reads_the_losses_by_any_of_their_names(words, said):
    from report.audit import direction
    mentions = direction.mentions(words, "loss", "ce", "mse")
    assert direction.read(words, mentions, "ce", "mse")[0] == said
