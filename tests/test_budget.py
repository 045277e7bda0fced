"""The two-page budget: lengths measured from the LaTeX log, and the message.

tests/test_report.py builds a real over-long body."""
from report.tex import budget

TEXT_HEIGHT, TOP = 750.0, 800.0  # pt; positions in the log are sp from the page's bottom


def _log(*marks):
    """A LaTeX log as main.tex.j2 writes it: the page geometry, then (name, page, pt from top)."""
    lines = [f"BUDGETPAGE={TEXT_HEIGHT}pt,{TOP}pt,12.0pt"]
    lines += [f"BUDGETMARK={name},{page},{round((TOP - down) * 65536)}" for name, page, down in marks]
    return "\n".join(lines)


def _info(log):
    return {"body_pages": budget.measure(log)["end_page"], "layout": budget.measure(log)}


def test_section_lengths_run_across_pages():
    layout = budget.measure(_log(("theory", 1, 50), ("q1", 1, 500), ("q2", 2, 300),
                                 ("summary", 2, 600), ("end", 2, 700), ("appendix", 3, 0)))
    assert layout["parts"] == {"title": 50, "theory": 450, "q1": 550, "q2": 300, "summary": 100}
    assert layout["end_page"] == 2 and "appendix" not in layout["parts"]


def test_a_body_that_fits_has_no_message():
    assert budget.check(_info(_log(("theory", 1, 50), ("end", 2, 749)))) is None


def test_a_body_past_two_pages_says_by_how_much_and_where():
    log = _log(("theory", 1, 40), ("q1", 1, 200), ("q2", 2, 100), ("summary", 2, 650),
               ("end", 3, 150))  # 150 pt onto page 3: 0.2 page, 12.5 lines of 12 pt
    message = budget.check(_info(log))
    assert message.startswith("the main body runs 0.20 page (about 13 lines) past its 2-page limit")
    # q1 runs from 200 pt on page 1 to 100 pt on page 2: 650 pt; q2 550 pt; summary 250 pt
    assert "longest sections: templates/q1.tex.j2 0.87 page, templates/q2.tex.j2 0.73 page, " \
           "templates/summary.tex.j2 0.33 page" in message


def test_without_marks_the_page_count_still_decides():
    assert budget.measure("no marks here") is None
    assert budget.check({"body_pages": 2, "layout": None}) is None
    assert "has 3 pages" in budget.check({"body_pages": 3, "layout": None})



def test_an_end_mark_pushed_to_the_next_page_by_a_full_page_fits():
    # page 2 exactly full: the zero-height end mark lands at the top of page 3, 0.014 pt "over"
    assert budget.check(_info(_log(("theory", 1, 50), ("end", 3, 0.014)))) is None
    assert budget.check(_info(_log(("theory", 1, 50), ("end", 3, 7.0)))) is not None  # > half a line


def test_a_long_title_block_is_named_with_the_fix_that_helps():
    # a 500-character name (or the unset-[student] box) makes the title 300 pt, 25 lines
    log = _log(("theory", 1, 300), ("q1", 1, 500), ("q2", 2, 100), ("summary", 2, 650),
               ("end", 3, 150))
    message = budget.check(_info(log))
    assert "the title block (templates/title.tex.j2) 0.40 page" in message
    assert message.endswith("the title block takes about 25 lines (usually 3): shorten [student] "
                            "name in config.toml, or set [student] name and id if its red box shows")
    assert "shorten these templates" not in message


def test_a_usual_title_block_points_at_the_templates():
    log = _log(("theory", 1, 40), ("q1", 1, 200), ("q2", 2, 100), ("summary", 2, 650),
               ("end", 3, 150))
    assert budget.check(_info(log)).endswith("shorten these templates")
