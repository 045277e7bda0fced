"""config.toml: typos and invalid values fail before any work, naming the key."""
import pytest

from pipeline import config


def _write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_the_repository_config_is_valid_and_quick_trims_it():
    full = config.load(quick=False)
    quick = config.load(quick=True)
    assert full["q1"].activation == "relu" and full["q1"].loss == "mse" and full["q1"].lr == 0.01
    assert quick["q1"].epochs <= 2 and len(quick["q1"].seeds) == 1 and len(quick["q2"].seeds) == 1


@pytest.mark.parametrize("text, key", [
    ("[q1]\nlr_rate = 0.1\n", "[q1] lr_rate"),
    ("[q1]\nactivation = 'relu6'\n", "[q1] activation"),
    ("[q1]\nlr = -1\n", "[q1] lr"),
    ("[q1]\nepochs = '10'\n", "[q1] epochs"),
    ("[q2]\noptimizer = 'rmsprop'\n", "[q2] optimizer"),
    ("[studnet]\nname = 'x'\n", "[studnet]"),
    ("[student]\nid = '12/34'\n", "[student] id"),
])
def test_a_bad_key_or_value_is_named(tmp_path, text, key):
    with pytest.raises(config.ConfigError) as err:
        config.load(_write(tmp_path, text), quick=False)
    assert key in str(err.value)


def test_integers_are_accepted_where_floats_are_expected(tmp_path):
    q1 = config.load(_write(tmp_path, "[q1]\nlr = 1\n"), quick=False)["q1"]
    assert q1.lr == 1.0 and isinstance(q1.lr, float)


def test_sections_are_rewritten_only_when_they_change(tmp_path):
    out = tmp_path / "sections"
    load = lambda text: config.load(_write(tmp_path, text), quick=False)  # noqa: E731
    assert sorted(config.write_sections(out, load("[student]\nname = 'A'\n"))) == [
        "q1", "q2", "report", "student"]
    assert config.write_sections(out, load("[student]\nname = 'A'\n")) == []
    assert config.write_sections(out, load("[student]\nname = 'B'\n")) == ["student"]
