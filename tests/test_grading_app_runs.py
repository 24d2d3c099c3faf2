"""What grading an app costs: partial credit taken from the grading run itself, when it ran that stage whole.

``grade_app`` names the stages partial credit will want (the one the app was built from, and the one
above) with ``--complete-stages``: their tests all run in the one grading run, even after one failed, and
the share comes from there. Before, a second run repeated every test of that stage (for a stage 7 app,
all 302 of stage 8, the 235 of stage 7 among them, after the grading run had run them). The grade must
be what the second run gave: the same stage, the same share, the same failing tests named.
"""
import json

import pytest
from messy_class import copy_stage, stage_6_with_one_bug

from workbook.grading import apps
from workbook.grading.engine import default_engine
from workbook.testing.stage_outcomes import HOPELESS

pytestmark = pytest.mark.slow


@pytest.fixture
def runs(monkeypatch):
    """[(stages asked for, tests the app answered)] of each pytest run grade_app starts."""
    seen = []
    run_tests = apps.run_tests

    def counted(stages, app_dir, run_dir, *args, **kwargs):
        run = run_tests(stages, app_dir, run_dir, *args, **kwargs)
        answered = 0
        for line in (run_dir / "outcomes.jsonl").read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.get("when") == "call" and record.get("outcome") in ("passed", "failed") \
                    and not record.get("reused"):
                answered += 1
        seen.append((list(stages), answered))
        return run
    monkeypatch.setattr(apps, "run_tests", counted)
    return seen


def _grade(folder, scratch, **options):
    scratch.mkdir()
    return apps.grade_app(folder, scratch, engine=default_engine(), **options)


def _share_by_a_run_of_its_own(grade, folder, scratch):
    """The partial credit as grade_app took it before: the next stage's tests in a run of their own."""
    scratch.mkdir()
    alone = apps.AppGrade(grade.stage)
    apps._next_stage_share(alone, folder, scratch, apps.DEFAULT_APP_TIMEOUT, default_engine(), None)
    return alone


@pytest.mark.parametrize("app", ["stage 5, untouched", "stage 6, untouched", "stage 6 with one bug"])
def test_the_share_from_the_grading_run_is_the_share_a_run_of_its_own_gives(tmp_path, runs, app):
    folder = tmp_path / "my_app"
    stage_6_with_one_bug(folder) if app == "stage 6 with one bug" else copy_stage(int(app[6]), folder)
    grade = _grade(folder, tmp_path / "scratch")
    assert len(runs) == 1, f"partial credit started a second run: {runs}"
    alone = _share_by_a_run_of_its_own(grade, folder, tmp_path / "alone")
    assert grade.stage == (0 if app == "stage 6 with one bug" else int(app[6])), grade
    assert grade.next_stage == alone.next_stage and grade.next_stage[1] < grade.next_stage[2], (grade, alone)
    assert grade.partial == alone.partial and grade.failing == alone.failing, (grade, alone)
    assert not grade.flags, grade.flags


def test_a_stage_5_app_answers_fewer_tests_than_with_a_second_run(tmp_path, runs):
    folder = copy_stage(5, tmp_path / "my_app")
    grade = _grade(folder, tmp_path / "scratch")
    (_stages, answered), = runs
    _grade(folder, tmp_path / "before", partial=False)
    _share_by_a_run_of_its_own(grade, folder, tmp_path / "alone")
    before = runs[1][1] + runs[2][1]
    assert answered < before, f"{answered} tests answered in one run, {before} in the grading run and the second"


def test_an_app_better_than_the_stage_it_was_built_from_still_gets_its_share(tmp_path, runs, monkeypatch):
    """A stage 2 app taken for one built from stage 1: stages 1 and 2 run whole, stage 2 passes, and stage 3
    (the next, not run whole in the grading run) gets a run of its own, as before."""
    folder = copy_stage(2, tmp_path / "my_app")
    monkeypatch.setattr(apps, "closest_stage", lambda app_folder: 1)
    grade = _grade(folder, tmp_path / "scratch")
    assert grade.stage == 2 and grade.next_stage[0] == 3, grade
    assert [stages for stages, _answered in runs] == [[1, 2, 3, 4, 5, 6, 7, 8], [3]], runs
    alone = _share_by_a_run_of_its_own(grade, folder, tmp_path / "alone")
    assert grade.next_stage == alone.next_stage and grade.failing == alone.failing, (grade, alone)


def test_an_app_that_does_not_start_stops_at_its_first_failures_even_in_the_stages_run_whole(tmp_path, runs):
    """A stage 7 app that raises at start: stages 7 and 8 would run whole (302 and 235 tests failing one by
    one); after HOPELESS failures and no pass they stop as the others do."""
    folder = copy_stage(7, tmp_path / "my_app")
    source = (folder / "app.py").read_text(encoding="utf-8")
    (folder / "app.py").write_text(source.replace("def create_app(test_config=None):\n",
                                                  "def create_app(test_config=None):\n    raise RuntimeError('oops')\n",
                                                  1), encoding="utf-8")
    grade = _grade(folder, tmp_path / "scratch")
    assert grade.stage == 0, grade
    answered = sum(count for _stages, count in runs)
    assert answered <= 2 * HOPELESS + 8, f"{answered} tests answered: {runs}"


def test_a_second_app_with_the_same_files_takes_the_share_from_the_class_cache(tmp_path, runs):
    """The class's cache (apps with the same files: untouched copies of a stage) keeps working: the first
    copy's grading run fills it, the second copy runs no stage whole for it, and gets the same grade."""
    cache = {}
    first = _grade(copy_stage(5, tmp_path / "first"), tmp_path / "scratch1", cache=cache)
    second = _grade(copy_stage(5, tmp_path / "second"), tmp_path / "scratch2", cache=cache)
    assert len(runs) == 2, runs
    assert (second.stage, second.next_stage, second.failing) == (first.stage, first.next_stage, first.failing)
    assert runs[1][1] < runs[0][1], f"the second copy ran stage 6 whole again: {runs}"
