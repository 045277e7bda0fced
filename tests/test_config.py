"""config.toml: typos and invalid values fail before any work, naming the key.

Every test here reads a copy (the pinned shipped configuration, or a file it writes), never the
student's config.toml: the last test edits a copy of the repository the way a student would and
runs this file there."""
import dataclasses
import re
import subprocess
import sys

import pytest
from conftest import NAMES_BY_SCRIPT, SHIPPED_CONFIG, repository_copy

from pipeline import config, defaults, paths


def _write(tmp_path, text, complete=True):
    """A config.toml holding `text`, plus (when `complete`) an empty header for every section
    that must be present and is not: its keys then take their defaults."""
    missing = [name for name in ("q1", "q2", "report") if f"[{name}]" not in text]
    path = tmp_path / "config.toml"
    path.write_text(text + ("".join(f"\n[{name}]\n" for name in missing) if complete else ""))
    return path


def test_the_shipped_config_is_valid_and_quick_trims_it():
    full = config.load(SHIPPED_CONFIG, quick=False)
    quick = config.load(SHIPPED_CONFIG, quick=True)
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
    ("[data]\ndataset = 'fashion'\n", "[data] dataset"),
    ("[data]\ndataset = 'MNIST'\n", "[data] dataset"),
    ("[data]\ndataset = 3\n", "[data] dataset"),
    ("[data]\nname = 'mnist'\n", "[data] name"),
    ("[q1]\nablate_hidden = [[64, 0]]\n", "[q1] ablate_hidden"),
    ("[q1]\nablate_hidden = [[]]\n", "[q1] ablate_hidden"),
    ("[q1]\nablate_hidden = [64, 32]\n", "[q1] ablate_hidden"),
    ("[q1]\nablate_hidden = [['64']]\n", "[q1] ablate_hidden"),
    ("[q1]\ntarget_test_acc = 0.9\n", "[q1] target_test_acc"),
    ("[q1]\ntarget_test_acc = {mnist = 1.5}\n", "[q1] target_test_acc"),
    ("[q1]\ntarget_test_acc = {emnist = 0.9}\n", "[q1] target_test_acc"),
    # values that pass a type check but would forge a result or crash a run
    ("[q1]\nseeds = [0, 0, 0, 0, 0]\n", "[q1] seeds"),       # one run counted five times
    ("[q2]\nseeds = [3, 1, 3]\n", "[q2] seeds"),
    ("[q1]\nseeds = [-1]\n", "[q1] seeds"),
    ("[q2]\nseeds = [12345678901234567890]\n", "[q2] seeds"),  # above torch's 64 bits
    ("[q1]\nseeds = [9223372036854775808]\n", "[q1] seeds"),   # 2**63
    ("[q1]\nlr = nan\n", "[q1] lr"),
    ("[q1]\nlr = inf\n", "[q1] lr"),
    ("[q1]\nlr = 0\n", "[q1] lr"),
    ("[q1]\nablate_lr = [0.1, -inf]\n", "[q1] ablate_lr"),
    ("[q1]\nablate_lr = [nan]\n", "[q1] ablate_lr"),
    ("[q2]\ndraft_lr = -0.01\n", "[q2] draft_lr"),
    ("[q2]\ndraft_lr = nan\n", "[q2] draft_lr"),
    ("[q2]\ndraft_epochs = 0\n", "[q2] draft_epochs"),
    ("[q2]\nepochs = 0\n", "[q2] epochs"),
    ("[q2]\nhidden = [100000000]\n", "[q2] hidden"),              # terabytes of parameters
    ("[q1]\nhidden = [4000000, 4000000]\n", "[q1] hidden"),
    ("[q1]\nablate_hidden = [[64], [100000000]]\n", "[q1] ablate_hidden"),
])
def test_a_bad_key_or_value_is_named(tmp_path, text, key):
    with pytest.raises(config.ConfigError) as err:
        config.load(_write(tmp_path, text), quick=False)
    assert key in str(err.value)


def test_the_largest_seed_torch_takes_is_accepted(tmp_path):
    sections = config.load(_write(tmp_path, "[q1]\nseeds = [0, 9223372036854775807]\n"), quick=False)
    assert sections["q1"].seeds == [0, 2 ** 63 - 1]


def test_layers_too_big_for_this_machine_say_how_much_memory_they_need(tmp_path, monkeypatch):
    from pipeline import tasks
    monkeypatch.setattr(tasks, "memory_bytes", lambda: 2 * 10 ** 9)  # a 2 GB machine
    with pytest.raises(config.ConfigError) as err:
        config.load(_write(tmp_path, "[q1]\nhidden = [100000, 1000]\n"), quick=False)
    assert "[q1] hidden" in str(err.value) and "this machine has 2 GB" in str(err.value)
    assert config.load(_write(tmp_path, "[q1]\nhidden = [2048, 1024]\n"), quick=False)


@pytest.mark.parametrize("content, says", [
    (b'[student]\nname = "Jos\xe9"\n', "config.toml:2 is not UTF-8 (byte 0xe9); save it as UTF-8"),
    (b"\xff\xfe[\x00q\x001\x00]\x00", "config.toml:1 is not UTF-8"),  # saved as UTF-16
    (None, "config.toml is a folder, not a file"),
])
def test_an_unreadable_config_is_one_line(tmp_path, content, says):
    path = tmp_path / "config.toml"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(config.ConfigError) as err:
        config.load(path, quick=False)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_an_unknown_dataset_is_one_message_naming_the_key_and_the_choices(tmp_path):
    path = _write(tmp_path, "[data]\ndataset = 'fashion'\n[q1]\nlr_rate = 1\n")
    message = "config.toml: [data] dataset = 'fashion' is invalid: one of mnist, fashion-mnist"
    with pytest.raises(config.ConfigError) as err:
        config.dataset(path)  # what the Makefile reads: [data] alone, before the typo in [q1]
    assert str(err.value) == message


def test_without_a_data_section_the_dataset_is_mnist(tmp_path):
    assert config.load(_write(tmp_path, ""), quick=False)["data"].dataset == "mnist"
    assert config.dataset(_write(tmp_path, "")) == "mnist"


def test_the_dataset_needs_its_own_target_accuracy(tmp_path):
    text = "[data]\ndataset = 'fashion-mnist'\n[q1]\ntarget_test_acc = {mnist = 0.9}\n"
    with pytest.raises(config.ConfigError, match="no target for \\[data\\] dataset = 'fashion-mnist'"):
        config.load(_write(tmp_path, text), quick=False)
    fashion = config.load(_write(tmp_path, "[data]\ndataset = 'fashion-mnist'\n"), quick=False)
    assert fashion["data"].dataset == "fashion-mnist" and fashion["q1"].target_test_acc["fashion-mnist"] == 0.8


SECTIONS_BUT = {name: "".join(f"[{other}]\n" for other in ("q1", "q2", "report") if other != name)
                for name in ("q1", "q2", "report")}


@pytest.mark.parametrize("text, says", [
    ("", "config.toml is empty: it needs the sections [q1], [q2] and [report], and [student]"),
    ("# nothing but comments\n", "config.toml is empty"),
    ("[student]\nname = 'A'\n", "config.toml has no [q1], [q2] or [report] section; copy them back"),
    (SECTIONS_BUT["q1"], "config.toml has no [q1] section; copy it back"),
    (SECTIONS_BUT["q2"], "config.toml has no [q2] section"),
    (SECTIONS_BUT["report"], "config.toml has no [report] section"),
])
def test_an_empty_config_or_a_missing_section_is_named_not_defaulted(tmp_path, text, says):
    with pytest.raises(config.ConfigError) as err:
        config.load(_write(tmp_path, text, complete=False), quick=False)
    assert str(err.value).startswith(says) and "git show HEAD:config.toml" in str(err.value)


def test_a_missing_config_says_how_to_restore_it(tmp_path):
    with pytest.raises(config.ConfigError, match="is missing; `git checkout config.toml` restores"):
        config.load(tmp_path / "config.toml", quick=False)


def test_without_student_the_placeholders_stand_and_are_flagged(tmp_path):
    student = config.load(_write(tmp_path, "[q1]\n[q2]\n[report]\n"), quick=False)["student"]
    assert config.unset_student_keys(student) == ["[student] name", "[student] id"]


def test_a_key_left_out_takes_its_default_and_the_defaults_round_trip_through_toml(tmp_path):
    assert config.load(_write(tmp_path, ""), quick=False) == defaults.defaults()
    path = tmp_path / "written.toml"
    path.write_text(defaults.toml_text(defaults.defaults()), encoding="utf-8")
    assert config.load(path, quick=False) == defaults.defaults()


def test_the_differences_name_each_key_changed_and_its_default(tmp_path):
    edited = config.load(_write(tmp_path, "[q1]\nlr = 0.05\nhidden = [32]\n"), quick=False)
    assert defaults.differences(edited) == ["[q1] hidden = [32] (default: [128, 64])",
                                            "[q1] lr = 0.05 (default: 0.01)"]
    assert defaults.differences(defaults.defaults()) == []


def test_every_key_is_documented_and_every_documented_key_exists():
    documented = (paths.ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    for name, section in config.SECTIONS.items():
        assert f"`[{name}]`" in documented, name
        for field in dataclasses.fields(section):
            assert f"`{field.name}`" in documented, f"[{name}] {field.name} is not in docs/config.md"


def test_integers_are_accepted_where_floats_are_expected(tmp_path):
    q1 = config.load(_write(tmp_path, "[q1]\nlr = 1\n"), quick=False)["q1"]
    assert q1.lr == 1.0 and isinstance(q1.lr, float)


def test_sections_are_rewritten_only_when_they_change(tmp_path):
    out = tmp_path / "sections"
    load = lambda text: config.load(_write(tmp_path, text), quick=False)  # noqa: E731
    assert sorted(config.write_sections(out, load("[student]\nname = 'A'\n"), quick=False)) == [
        "data", "q1", "q2", "report", "student"]
    assert config.write_sections(out, load("[student]\nname = 'A'\n"), quick=False) == []
    assert config.write_sections(out, load("[student]\nname = 'B'\n"), quick=False) == ["student"]
    switched = "[student]\nname = 'B'\n[data]\ndataset = 'fashion-mnist'\n"
    assert config.write_sections(out, load(switched), quick=False) == ["data"], "tasks' sections unchanged"



def _student(tmp_path, **values):
    lines = "".join(f"{key} = {_toml_string(value)}\n" for key, value in values.items())
    return config.load(_write(tmp_path, "[student]\n" + lines), quick=False)["student"]


def _toml_string(value: str) -> str:
    """A TOML basic string holding any text, control characters included."""
    return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}"
                         for c in value) + '"'


@pytest.mark.parametrize("script", NAMES_BY_SCRIPT)
def test_a_name_in_each_covered_script_is_accepted(tmp_path, script):
    name = NAMES_BY_SCRIPT[script]
    assert _student(tmp_path, name=name).name == name
    assert script in config.name_scripts(name)


@pytest.mark.parametrize("name", [r"\input{/etc/passwd}", "O'Neil \"Bo\" & Sons_50% #1 {x} \\ ~^ $",
                                  "Nguye\u0302\u0303n"])  # decomposed ễ: accepted as its NFC form
def test_latex_specials_and_decomposed_accents_are_accepted(tmp_path, name):
    assert _student(tmp_path, name=name).name == name


@pytest.mark.parametrize("name, says", [
    ("", "write your name"),
    ("   ", "write your name"),
    ("Shai \U0001F600", "U+1F600 GRINNING FACE"),
    ("Shai\u0007", "U+0007 a control character"),
    ("Shai\tK", "U+0009 a control character"),
    ("a\u202eb", "U+202E RIGHT-TO-LEFT OVERRIDE"),  # would reorder the title's text
    ("やまだ", "U+3084 HIRAGANA LETTER YA"),           # no font declared for kana
])
def test_a_name_the_report_cannot_typeset_is_refused_naming_the_key(tmp_path, name, says):
    with pytest.raises(config.ConfigError) as err:
        _student(tmp_path, name=name)
    assert "[student] name" in str(err.value) and says in str(err.value)


@pytest.mark.parametrize("student_id", ["２０６２０２３８４", "٢٠٦٢٠٢٣٨٤", "²06", "ⅫI", "206-202", "", "206 202"])
def test_an_id_with_look_alike_or_non_ascii_characters_is_refused(tmp_path, student_id):
    with pytest.raises(config.ConfigError, match=r"\[student\] id .*ASCII letters"):
        _student(tmp_path, id=student_id)


def test_an_ascii_id_is_accepted(tmp_path):
    assert _student(tmp_path, id="206202384ab").id == "206202384ab"


def test_a_section_written_as_a_plain_key_is_named(tmp_path):
    path = _write(tmp_path, 'q1 = 3\n[q2]\n[report]\n', complete=False)
    with pytest.raises(config.ConfigError, match=r"q1 = 3 must be a section"):
        config.load(path, quick=False)


def test_sections_read_back_as_they_were_written(tmp_path):
    sections = config.load(SHIPPED_CONFIG, quick=False)
    config.write_sections(tmp_path / ".config", sections, quick=False)
    assert config.read_sections(tmp_path) == sections
    assert config.read_dataset(tmp_path) == "mnist"


def test_a_missing_or_damaged_section_file_names_the_command_that_writes_it(tmp_path):
    with pytest.raises(config.ConfigError, match=r"\.config/q1\.json is missing; run `make report`"):
        config.read_sections(tmp_path, ("q1",))
    (tmp_path / ".config").mkdir()
    (tmp_path / ".config" / "q1.json").write_text('{"quick": false, "lr": ')
    with pytest.raises(config.ConfigError, match=r"q1\.json is damaged; delete it and run"):
        config.read_sections(tmp_path, ("q1",))


def test_a_students_valid_edit_of_config_toml_keeps_the_config_tests_green(tmp_path):
    repo = repository_copy(tmp_path / "repo")
    edited = repo / "config.toml"  # the pinned configuration (repository_copy puts it there)
    text, count = re.subn(r"(?m)^lr = 0\.01$", "lr = 0.05", edited.read_text(), count=1)
    assert count == 1, "the shipped config.toml has [q1] lr = 0.01 first"
    edited.write_text(text)
    assert config.load(edited, quick=False)["q1"].lr == 0.05, "the edit is valid and in [q1]"
    # -p no:cacheprovider: nothing written beside the copy; its own modules come first on the path
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_config.py", "-k", "not students_valid_edit"],
                          cwd=repo, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and " failed" not in done.stdout


def test_a_config_that_is_a_device_is_refused_without_reading_it(tmp_path):
    (tmp_path / "config.toml").symlink_to("/dev/zero")  # endless: reading it would fill memory
    with pytest.raises(config.ConfigError, match="is not a regular file"):
        config.load(tmp_path / "config.toml", quick=False)


def test_a_config_saved_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf" + b"[q1]\nlr = 0.05\n[q2]\n[report]\n")  # as Notepad saves it
    assert config.load(path, quick=False)["q1"].lr == 0.05
