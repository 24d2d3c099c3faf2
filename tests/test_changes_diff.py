"""Each stage's CHANGES.diff is the real diff from the stage before it."""
import pytest

from workbook.authoring import diffs
from workbook.stages import STAGES


def test_committed_diffs_are_up_to_date():
    stale = diffs.write_diffs(check=True)
    assert not stale, f"run `python -m workbook diffs`: {[str(p) for p in stale]}"


@pytest.mark.parametrize("stage", STAGES[1:], ids=lambda s: s.folder.name)
def test_diff_names_both_stages(stage):
    text = (stage.folder / "CHANGES.diff").read_text(encoding="utf-8")
    assert f"+++ b/{stage.folder.name}/app.py" in text


def test_a_change_makes_the_diff_stale(tmp_path):
    before, after = tmp_path / "step_a", tmp_path / "step_b"
    for folder, body in ((before, "x = 1\n"), (after, "x = 2\n")):
        folder.mkdir()
        (folder / "app.py").write_text(body)
    text = diffs.changes(before, after)
    assert "-x = 1\n+x = 2\n" in text
