"""An app reaches stage 7 only with every protection: a copy missing any one of them fails.

Each case copies stage 7 into a scratch folder, removes one protection by editing
the source text, and runs the behaviour suite on it at stage 7 as the grader does
(``pytest tests/stages --app-dir DIR --stage 7``, in a worker forked from its fork server).
"""
import shutil

import pytest

from workbook.grading.apps import run_tests
from workbook.grading.engine import default_engine
from workbook.stages import stage
from workbook.testing.stage_outcomes import stage_results

pytestmark = pytest.mark.slow

# name: (file, text to find, text to put instead, a test that must fail because of it)
WEAKENINGS = {
    "replay check": ("user_management.py", "last_timecode IS NULL OR last_timecode < ?",
                     "last_timecode IS NULL OR last_timecode < ? OR 1", "test_a_code_works_once"),
    "CSRF": ("app.py", "MAX_CONTENT_LENGTH=8 * 1024,", "MAX_CONTENT_LENGTH=8 * 1024, WTF_CSRF_ENABLED=False,",
             "csrf"),
    "throttle": ("throttle.py", "\ndef attempt_succeeded(",
                 "\ndef start_attempt(*args, **kwargs):\n    return Attempt(tuple(args[:3]), None)\n\n\ndef attempt_succeeded(",
                 "attempt"),
    "recovery codes": ("recovery_codes.py", "\ndef left(",
                       "\ndef use(user_id, code):\n    return False\n\n\ndef left(",
                       "recovery"),
    "session renewal": ("auth.py", '    session.clear()\n    g.pop("csrf_token", None)', '    g.pop("csrf_token", None)',
                        "renewed"),
    "session revocation": ("sessions.py", '"DELETE FROM sessions WHERE user_id = ? AND id_hash IS NOT ?"',
                           '"SELECT ?, ?"', "test_a_copied_cookie_opens_nothing_after_logout"),
}


def run_stage_7(app_folder, tmp_path, *pytest_args):
    """(whether the app passed stage 7, pytest's output): the grader's own run of the stage 7 tests."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    run = run_tests([7], app_folder, run_dir, timeout=900, engine=default_engine(), extra_args=pytest_args)
    results, finished, _last = stage_results(run_dir / "outcomes.jsonl")
    return finished and results.get(7, (False, ""))[0], run.output


def weakened_copy(tmp_path, file, find, replace):
    folder = tmp_path / "app"
    shutil.copytree(stage(7).folder, folder, ignore=shutil.ignore_patterns("instance", "__pycache__"))
    path = folder / file
    source = path.read_text(encoding="utf-8")
    assert source.count(find) == 1, f"{file} no longer has {find!r}: update this test"
    path.write_text(source.replace(find, replace), encoding="utf-8")
    return folder


@pytest.mark.parametrize("protection", list(WEAKENINGS))
def test_stage7_without_one_protection_fails_stage_7(tmp_path, protection):
    file, find, replace, failing_test = WEAKENINGS[protection]
    passed, output = run_stage_7(weakened_copy(tmp_path, file, find, replace), tmp_path, "-x", "-k", failing_test)
    assert not passed, f"stage 7 without its {protection} passed:\n{output[-3000:]}"
    assert "FAILED" in output and failing_test in output, output[-3000:]


def test_stage6_does_not_pass_stage_7(tmp_path):
    folder = tmp_path / "app"
    shutil.copytree(stage(6).folder, folder, ignore=shutil.ignore_patterns("instance", "__pycache__"))
    passed, output = run_stage_7(folder, tmp_path, "-x")
    assert not passed, output[-3000:]
    assert "FAILED" in output or "ERROR" in output, output[-3000:]


def test_a_full_copy_of_stage7_passes_stage_7(tmp_path):
    """The control: the same tests pass on an untouched copy, so the failures above are the protections'.

    (The whole suite passing on stage 7 itself is tests/stages' job; here only the tests the
    cases above expect to fail, run the same way, on a copy made the same way.)
    """
    selected = " or ".join(failing_test for _file, _find, _replace, failing_test in WEAKENINGS.values())
    copy = weakened_copy(tmp_path, "app.py", "import auth\n", "import auth\n")
    passed, output = run_stage_7(copy, tmp_path, "-k", selected, "-rA")  # -rA: a PASSED line per test
    assert passed, output[-3000:]
    lines = [line for line in output.splitlines() if line.startswith("PASSED ")]
    for _file, _find, _replace, failing_test in WEAKENINGS.values():
        assert any(failing_test in line for line in lines), f"no {failing_test} passed:\n{output[-3000:]}"
