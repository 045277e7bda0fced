"""Each output's source files, read off the imports: what re-runs it when edited."""
from pipeline import sources
from pipeline.sources import ENTRIES, code_files

CODE = {output: code_files(output) for output in ENTRIES}


def test_a_task_depends_on_the_graders_code_it_imports_and_not_on_plumbing():
    assert {"experiments/q1.py", "hw1/task1.py", "hw1/scratch_mlp.py", "hw1/data.py",
            "experiments/datasets.py"} <= set(CODE["q1"])
    assert "hw1/task2.py" not in CODE["q1"] and "hw1/scratch_mlp.py" not in CODE["q2"]
    for files in CODE.values():  # editing a message or the command line re-runs nothing
        assert not [f for f in files if f.startswith("pipeline/") or f.endswith("__init__.py")]
        assert not {"hw1/messages.py", "hw1/atomic.py", "hw1/names.py"} & set(files)


def test_grammars_and_lua_named_by_a_module_are_its_sources_and_outputs_are_not():
    assert {"derivations/formula_latex.lark", "derivations/formula_plain.lark"} <= set(CODE["derivations"])
    assert "report/tex/confine.lua" in CODE["report"]
    assert not [f for f in CODE["report"] if f.endswith((".pdf", ".sh", ".zip"))]


def test_imports_are_read_relative_and_absolute_without_running_anything():
    assert "report.tex.latexmk" in sources._imported("report.__main__")
    assert sources._imported("pipeline.sources") == {"pipeline.tasks"}
    assert sources.module_file("report.no_such_module") is None


def test_a_stamp_is_rewritten_only_when_its_outputs_code_hash_changes(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "STAMPS", tmp_path / ".code")
    assert sources.write_stamps() == list(sources.ENTRIES)
    assert sources.write_stamps() == []
    real = sources.code_hash
    monkeypatch.setattr(sources, "code_hash", lambda output: "edited" if output == "q1" else real(output))
    assert sources.write_stamps() == ["q1"]
    assert (tmp_path / ".code" / "q1.sha256").read_text() == "edited\n"
