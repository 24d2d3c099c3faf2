"""Lesson 07 says what its cells show, in teaching order, without the project's history.

The corrections of issue 22 held against the things themselves: the flash messages the lesson
reads off stage 7's pages, the session a renewal leaves, the throttle counts stage 7 keeps.
"""
import re

import nbformat
import pytest

from workbook import ROOT
from workbook.app_loader import load_module
from workbook.authoring.release import EXERCISE_LINE, QUESTION_LINE
from workbook.stages import stage

LESSON = ROOT / "solutions" / "07_hardening.ipynb"


@pytest.fixture(scope="module")
def cells():
    return nbformat.read(LESSON, as_version=4).cells


def _cell(cells, cell_id):
    return next(c for c in cells if c.id == cell_id)


def _markdown(cells):
    return "\n\n".join(c.source for c in cells if c.cell_type == "markdown")


def test_exercises_are_numbered_in_the_order_they_come(cells):
    ids = [m.group(2) for c in cells if c.cell_type == "code" for m in [EXERCISE_LINE.search(c.source)] if m]
    numbers = [int(i.split(".")[1]) for i in ids if ".A" not in i]
    assert numbers == list(range(1, len(numbers) + 1))
    attacks = [i for i in ids if ".A" in i]        # the attacks the student writes: a series of their own
    assert attacks == [f"7.A{n}" for n in range(1, len(attacks) + 1)]
    questions = [m.group(2) for c in cells if c.cell_type == "code" for m in [QUESTION_LINE.search(c.source)] if m]
    assert questions == [f"7.Q{n}" for n in range(1, len(questions) + 1)]


def test_no_authoring_history_in_what_the_student_reads(cells):
    text = _markdown(cells) + "\n".join(c.source for c in cells if c.cell_type == "code" and c.source.startswith("#"))
    assert not re.search(r"\bround (one|two|three)\b|\b(first|second|third) round\b|round-(two|three)", text, re.I)


def _parts(cells):
    """Each part's heading and its cells, up to the next part or the lesson's closing sections."""
    starts = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("# Part ")]
    ends = [*starts[1:], next(i for i, c in enumerate(cells) if c.source.startswith("## What comes next"))]
    return [(cells[start].source, cells[start:end]) for start, end in zip(starts, ends, strict=True)]


def test_the_parts_are_timed_and_at_most_45_minutes_with_their_build(cells):
    """Each part ends with its Build steps; its stated time counts them, and the first cell's table says the same."""
    parts = _parts(cells)
    assert len(parts) == 10
    table = {int(number): (int(total), int(read), int(build)) for number, total, read, build in re.findall(
        r"^\| (\d+) \|.*\| (\d+) min \((\d+) \+ Build (\d+)\) \|$", cells[0].source, re.M)}
    assert sorted(table) == list(range(1, 11)), "the first cell's table should list the ten parts"
    before = next(c.source for c in cells if c.source.startswith("# Before Part 1 ·"))
    minutes = int(re.search(r"about (\d+) minutes", before).group(1))
    opening = re.search(r"^\| before 1 \|.*\| (\d+) min \((\d+) \+ Build (\d+)\) \|$", cells[0].source, re.M)
    assert opening, "the first cell's table should list the Build before Part 1, with the opening cells"
    opening_total, read, build = map(int, opening.groups())
    assert minutes == build and opening_total == read + build <= 45, (before, opening.group(0))
    for number, (heading, part) in enumerate(parts, start=1):
        minutes = int(re.search(r"about (\d+) minutes", heading).group(1))
        assert minutes <= 45, heading
        total, read, build = table[number]
        assert minutes == total and abs(total - read - build) <= 1, (heading, table[number])
        assert part[-1].source.startswith("## Build"), f"{heading} does not end with its Build steps"
    assert opening_total + sum(total for total, _, _ in table.values()) + 5 >= int(re.search(
        r"^About (\d+) minutes", cells[0].source, re.M).group(1)), "the parts and the stated total disagree"


def test_part_6_starts_afresh_at_the_sessions_that_end_on_the_server(cells):
    """Part 5 (forged forms) ends with its Build; Part 6 opens with a cell that builds what it needs, then the
    server sessions' section."""
    parts = _parts(cells)
    assert parts[4][0].startswith("# Part 5 · Forged forms (")
    heading, part = parts[5]
    assert heading.startswith("# Part 6 · Sessions that end on the server (")
    assert part[1].cell_type == "code" and part[1].source.startswith("# This part starts afresh")
    assert part[2].source.startswith("## Sessions that end on the server")


def test_the_flash_regex_reads_stage_7s_flash_messages(cells):
    """07-57 and 07-n02 read the dashboard's flash line with a regex: it must match the template's <p>."""
    template = (stage(7).folder / "templates" / "base.html").read_text(encoding="utf-8")
    rendered = re.search(r'<p class="flash"[^>]*>\{\{ message \}\}</p>', template).group(0).replace(
        "{{ message }}", "You used a recovery code: 9 left.")
    for cell_id in ("07-57", "07-n02"):
        pattern = re.search(r"re\.findall\(r'(.*?)'", _cell(cells, cell_id).source).group(1)
        assert re.findall(pattern, rendered, re.S) == ["You used a recovery code: 9 left."], cell_id


def test_the_renewal_text_says_what_the_session_shows(cells):
    """07-42 prints no csrf_token after the password step: 07-43 must not claim a new token at each step."""
    text = _cell(cells, "07-43").source
    assert "each step got a new CSRF token" not in text
    assert "renewal empties the session" in text


def test_wrong_recovery_codes_have_counts_of_their_own(cells):
    throttle = load_module(stage(7).folder).throttle
    assert {"code", "recovery"} <= set(throttle.LIMITS), "stage 7 counts codes and recovery codes apart"
    text = _markdown(cells)
    assert "counts wrong recovery codes with counts of their own, apart from wrong TOTP codes" in text
    assert not re.search(r"recovery codes? (share|count against) the (code|same) (throttle|count)", text, re.I)


def test_each_stage_listing_of_an_answer_comes_after_its_check(cells):
    """The listings that hold an exercise's answer in stage 7 are shown after that exercise's check cell."""
    order = [c.id for c in cells]
    listing_after_check = {"07-k11": "07-k09", "07-31": "07-r2-07", "07-r2-12": "07-r2-16",
                           "07-45": "07-55", "07-s08": "07-s06", "07-n08": "07-n06"}
    for listing, check in listing_after_check.items():
        assert order.index(listing) > order.index(check), (listing, check)


@pytest.mark.slow
@pytest.mark.parametrize("part", range(2, 11))
def test_each_part_runs_after_a_restarted_kernel(cells, part):
    """After a break the student runs the lesson's first code cell, then the part: nothing from an earlier part."""
    from nbclient import NotebookClient

    setup = next(c for c in cells if c.cell_type == "code")
    notebook = nbformat.v4.new_notebook(cells=[setup, *_parts(cells)[part - 1][1]])
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
