"""Grades an instructor can trust: every way a student could game the grader is caught and flagged.

Each test is one attack (or one way of handing work in) from issue 14, with the exact mark a careful
instructor would give. The whole messy class is in tests/test_grading_class.py.
"""
import os
import shutil

import pytest

from workbook import ROOT, my_app

STAGE_5 = ROOT / "app_steps" / "step_05_verify_route"


def _exit_app(folder):
    folder.mkdir(parents=True)
    (folder / "app.py").write_text("import os; os._exit(0)\n", encoding="utf-8")
    return folder


@pytest.mark.slow
def test_check_my_app_does_not_pass_an_app_that_ends_the_test_process(tmp_path, capsys):
    my_app.check_my_app(7, _exit_app(tmp_path / "my_app"))
    out = capsys.readouterr().out
    assert out.startswith("❌ Stage 7 tests did not finish"), out
    assert "os._exit()" in out


@pytest.mark.slow
def test_check_my_app_names_every_failing_test_of_the_stage(tmp_path, capsys):
    folder = my_app.start_from(5, tmp_path / "my_app")
    capsys.readouterr()
    my_app.check_my_app(6, folder)
    out = capsys.readouterr().out
    assert out.startswith("❌ Stage 6 tests: ")
    assert out.count("FAILED") >= 2, out   # not only the first failure: the plugin keeps going on one stage
