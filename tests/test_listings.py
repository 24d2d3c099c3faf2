"""Listings: lessons show stage code through anchors, and every anchor is there for a lesson.

An anchor no lesson shows is clutter in the file a student reads; an unpaired
one breaks ``show``. Readers never see the markers: ``show`` and the
CHANGES.diff files strip them.
"""
import ast
import json
import re
from collections import Counter

import pytest

from workbook import ROOT, listings
from workbook.authoring import diffs
from workbook.stages import STAGES

SHOWN_BY = {"show", "listing"}


def anchors_in_stages():
    """(stage, file, anchor) -> Counter of ANCHOR / ANCHOR_END markers, for every stage file."""
    found = {}
    for stage in STAGES:
        for path in sorted(stage.folder.rglob("*")):
            if not path.is_file() or path.suffix not in listings.LANGUAGES or path.name == "CHANGES.diff":
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                if match := listings.ANCHOR_LINE.search(line):
                    key = (stage.number, path.relative_to(stage.folder).as_posix(), match[3])
                    found.setdefault(key, Counter())["end" if match[2] else "start"] += 1
    return found


def anchors_shown_by_lessons():
    """(stage, file, anchor) for every show()/listing() call with an anchor in solutions/."""
    used = set()
    for notebook in sorted((ROOT / "solutions").glob("*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            # Jupyter-only lines (magics, shell escapes) are not Python: leave them out.
            source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
            for node in ast.walk(ast.parse(source)):
                if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in SHOWN_BY
                        and len(node.args) == 3 and all(isinstance(a, ast.Constant) for a in node.args)):
                    used.add(tuple(a.value for a in node.args))
    return used


def test_every_anchor_is_paired():
    unpaired = {key: dict(count) for key, count in anchors_in_stages().items()
                if count != Counter(start=1, end=1)}
    assert unpaired == {}, "each anchor needs exactly one ANCHOR and one ANCHOR_END line"


def test_every_anchor_is_shown_by_a_lesson():
    unused = sorted(set(anchors_in_stages()) - anchors_shown_by_lessons())
    assert unused == [], "anchors no lesson shows: remove them, or show them in a lesson"


def test_every_listing_a_lesson_shows_exists():
    missing = sorted(anchors_shown_by_lessons() - set(anchors_in_stages()))
    assert missing == []


def test_readers_never_see_markers():
    for stage in STAGES:
        text = (stage.folder / "CHANGES.diff").read_text(encoding="utf-8")
        assert not listings.ANCHOR_LINE.search(text), f"{stage.folder.name}/CHANGES.diff shows an anchor marker"
    for stage, filename, anchor in anchors_shown_by_lessons():
        assert not listings.ANCHOR_LINE.search(listings.listing(stage, filename, anchor))


def test_a_diff_opens_with_a_diffstat(tmp_path):
    before, after = tmp_path / "step_a", tmp_path / "step_b"
    for folder, body in ((before, "x = 1\ny = 1\n"), (after, "# ANCHOR: x\nx = 2\n# ANCHOR_END: x\ny = 1\nz = 3\n")):
        folder.mkdir()
        (folder / "app.py").write_text(body)
    text = diffs.changes(before, after)
    first_line = text.splitlines()[0]
    assert re.fullmatch(r" app\.py \| +3 \+\+-", first_line), first_line
    assert "1 file changed, 2 insertions(+), 1 deletion(-)" in text
    assert "ANCHOR" not in text


@pytest.mark.parametrize("stage", [s.number for s in STAGES[1:]])
def test_show_changes_can_show_one_file(stage):
    whole = (STAGES[stage - 1].folder / "CHANGES.diff").read_text(encoding="utf-8")
    one = listings.file_changes(stage, "app.py")
    assert one.startswith(f"--- a/{STAGES[stage - 2].folder.name}/app.py") or one.startswith("--- /dev/null")
    assert one in whole and one != whole.strip()
