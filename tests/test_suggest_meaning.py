"""Which value a typed number's message points to (issue 25b): the words around the number say
what kind of key, counts of layers are counts, constants and ratios are no result, and another
task's key is offered only when the sentence labels that task."""
import pytest

from report.audit.suggest import Suggestions


def _suggest(context, template, before, typed, after):
    return Suggestions(context, full_config={})(typed, before, after, f"templates/{template}.tex.j2")


@pytest.mark.parametrize("template, before, typed, after, wanted, not_wanted", [
    ("q2", "It saw all ", "128", " training labels once.", "q2.n_train", "layers"),
    ("q1", "The network has ", "two", " hidden layers of ReLU units.", "q1.config.hidden|length", "q2."),
    ("q1", "Mini-batches of ", "32", " images were drawn.", "q1.config.batch_size", "n_train"),
    ("q1", "Each image has ", "784", " pixels.", "q1.layers[0]", "q2."),
    ("q1", "Test accuracy reached ", "60000", " test images.", None, "n_train"),
])
def test_the_words_around_a_number_choose_its_key(recorded_context, template, before, typed, after,
                                                 wanted, not_wanted):
    said = _suggest(recorded_context, template, before, typed, after) or ""
    if wanted:
        assert f"((( {wanted}|num(0) )))" in said, said
    assert not_wanted not in said.split(" instead")[0], said


def test_a_constant_of_the_problem_is_declared_not_taken_from_a_result(recorded_context):
    said = _suggest(recorded_context, "q2", "Chance level is ", "50\\,\\%", " for two balanced classes.")
    assert said.startswith("a constant of the problem") and '0.5|typed("chance level")|pct(0)' in said
    assert "test_acc" not in said


def test_a_ratio_is_no_result(recorded_context):
    for after in (" as fast as sigmoid.", " as fast.", " times faster."):
        said = _suggest(recorded_context, "q1", "ReLU learned ", "twice" if "as" in after else "3", after)
        assert said.startswith("a ratio of two results") and "config.epochs" not in said, after
    # the same word counting something is still a count
    assert "ratio" not in (_suggest(recorded_context, "q1", "It ran ", "twice", ", once per seed.") or "")


def test_the_nearest_words_decide_between_a_constant_and_a_result(recorded_context):
    said = _suggest(recorded_context, "q2", "Chance is 50 % for two balanced classes, over all ", "128",
                    " training labels.")
    assert said.startswith("write ((( q2.n_train|num(0) )))"), said


def test_another_tasks_key_only_when_labelled(recorded_context):
    unlabelled = _suggest(recorded_context, "q1", "We trained on ", "128", " images.") or ""
    assert "q2.n_train" not in unlabelled
    labelled = _suggest(recorded_context, "q1", "Task~2 trained on ", "128", " images.") or ""
    assert "((( q2.n_train|num(0) )))" in labelled


def test_a_task_label_elsewhere_in_the_sentence_is_not_the_numbers(recorded_context):
    said = _suggest(recorded_context, "q2", "We used ", "128", " images, unlike Task~1's set.") or ""
    assert "((( q2.n_train|num(0) )))" in said, said
    said = _suggest(recorded_context, "q2", "", "60000", " training images of Task~1") or ""
    assert "((( q1.n_train|num(0) )))" in said, said
