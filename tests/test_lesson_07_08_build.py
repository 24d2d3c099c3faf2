"""Lessons 07 and 08's Build sections, followed one after the other, exactly as written, on a copy of stage 6.

A student starts lesson 08 from the app lesson 07's Build left: stage 7's files with the student's own
answers to 7.1, 7.2 and 7.4-7.11 in them (test_lesson_07_build.follow_the_steps), then passkeys with the
answer to 8.5 (test_lesson_08_build.follow_the_steps). The stage 8 suite holds every stage 7 test, so this
one run checks both Builds: check_my_app(7) after the first, check_my_app(8) after the second. (That app's
events.record hands a known kind to the student's security_event and passes the passkeys' own kinds,
``passkey_added``..., on as they are.) Before the steps the same tests fail, so they test the steps.
"""
import pytest
import test_lesson_07_build as lesson_07
import test_lesson_08_build as lesson_08

from workbook.my_app import run_stage_tests


@pytest.mark.slow
def test_following_07s_build_then_08s_passes_the_stage_7_and_stage_8_tests(tmp_path):
    app = lesson_07.stage_6_copy(tmp_path)
    before = run_stage_tests(8, app, extra_args=("-x", "-q"))
    assert not before.passed, "stage 6 passes the stage 8 tests before the steps: they test nothing"
    lesson_07.follow_the_steps(app)
    lesson_08.follow_the_steps(app)
    after = run_stage_tests(8, app, extra_args=("-q",), timeout=900)
    assert after.passed, after.output[-3000:]
