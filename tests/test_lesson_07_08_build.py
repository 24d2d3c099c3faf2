"""Lessons 07 and 08's Build sections, followed one after the other, exactly as written, on a copy of stage 6.

Each lesson's own Build test starts from the stage before it; a student starts lesson 08 from the app
lesson 07's Build left. That app's events.record hands a known kind to the student's security_event and
must pass the passkeys' own kinds (``passkey_added``...) on as they are: check_my_app(8) passes.
"""
import shutil

import pytest
import test_lesson_07_build as lesson_07
import test_lesson_08_build as lesson_08

from workbook.my_app import run_stage_tests
from workbook.stages import stage


@pytest.mark.slow
def test_following_07s_build_then_08s_passes_the_stage_8_tests(tmp_path):
    app = tmp_path / "my_app"
    shutil.copytree(stage(6).folder, app, ignore=shutil.ignore_patterns("instance", "__pycache__", "CHANGES.diff",
                                                                         "README.md"))
    lesson_07.follow_the_steps(app)
    lesson_08.follow_the_steps(app)
    after = run_stage_tests(8, app, extra_args=("-q",), timeout=900)
    assert after.passed, after.output[-3000:]
