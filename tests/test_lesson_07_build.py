"""Lesson 07's Build section, followed step by step on a copy of stage 6: the stage 7 tests pass after it.

The steps are the lesson's own text (solutions/07_hardening.ipynb, "Build: your app gets stage 7's
defences"): stage 7's files (start_from(7), which keeps the student's stage 6 app aside), then the
student's own answers to 7.1, 7.2 and 7.11 (the solution notebook's) put in where the steps say.
Before the steps the same tests fail, so they test the steps.
"""
import re
import shutil

import pytest

from workbook.my_app import run_stage_tests, start_from
from workbook.stages import stage

from lesson_build import answer, build_section, edit

LESSON = "07_hardening.ipynb"
MODULES = ["app.py", "auth.py", "two_factor.py", "user_management.py", "db.py", "throttle.py", "devices.py",
           "sessions.py", "recovery_codes.py", "secrets_at_rest.py", "events.py"]
NEW_PAGES = ["change_password.html", "recovery_codes.html", "replace_phone.html", "replace_phone_scan.html"]


def follow_the_steps(app):
    # 1. Stage 7's files; the student's stage 6 app moves aside, untouched.
    mine = {path.relative_to(app): path.read_bytes() for path in app.rglob("*") if path.is_file()}
    start_from(7, app)
    kept = app.with_name(f"{app.name}.before_stage_7")
    assert {path.relative_to(kept): path.read_bytes() for path in kept.rglob("*") if path.is_file()} == mine
    for name in MODULES:
        assert (app / name).read_bytes() == (stage(7).folder / name).read_bytes()
    # 2. The student's replay guard.
    edit(app / "user_management.py", "# ANCHOR: replay_check\ndef use_timecode(",
         answer(LESSON, "7.1") + "\n\n\n# ANCHOR: replay_check\ndef use_timecode(")
    text = (app / "user_management.py").read_text(encoding="utf-8")
    start = text.index('    changed = get_db().execute(\n        "UPDATE users SET last_timecode = ?"')
    end = text.index("    return changed == 1\n# ANCHOR_END: replay_check")
    text = text[:start] + "    return accept_once(get_db(), user_id, timecode)\n" + text[end + len("    return changed == 1\n"):]
    (app / "user_management.py").write_text(text, encoding="utf-8")
    # 3. The student's pause.
    edit(app / "throttle.py", "@dataclass(frozen=True)\nclass Attempt:",
         answer(LESSON, "7.2") + "\n\n\n@dataclass(frozen=True)\nclass Attempt:")
    edit(app / "throttle.py", 'locked_until = now + min(MAX_DELAY, FIRST_DELAY << min(streak - limits["free"], 30))',
         "locked_until = now + throttle_delay(streak)")
    # 4. The student's message to the owner.
    edit(app / "events.py", "def log_event(", "EVENT_MESSAGES = MESSAGES\n\n\n" + answer(LESSON, "7.11") + "\n\n\ndef log_event(")
    edit(app / "events.py", '    event = {"kind": kind, "detail": detail, "time": now}\n',
         '    event = security_event(kind, {}, now) if detail == MESSAGES.get(kind) else '
         '{"kind": kind, "detail": detail, "time": now}\n')


def test_the_build_section_names_every_step_this_test_takes():
    text = build_section(LESSON)
    assert len(re.findall(r"^\d+\. \*\*", text, re.M)) == 5
    for words in MODULES + NEW_PAGES + ["static/style.css", "stage7_session", "accept_once(get_db(), user_id, "
                                        "timecode)", "throttle_delay(streak)",
                                        'FIRST_DELAY << min(streak - limits["free"], 30)', "EVENT_MESSAGES = MESSAGES",
                                        "security_event(kind, {}, now)", "MESSAGES.get(kind)", "check_my_app(7)",
                                        "start_from(6)", "start_from(7)", "my_app.before_stage_7/"]:
        assert words in text, f"the Build section no longer says {words!r}"
    for exercise in range(1, 12):
        assert f"7.{exercise}" in text, f"the Build section does not say where exercise 7.{exercise} went"


@pytest.mark.slow
def test_following_the_build_steps_on_stage_6_passes_the_stage_7_tests(tmp_path):
    app = tmp_path / "my_app"
    shutil.copytree(stage(6).folder, app, ignore=shutil.ignore_patterns("instance", "__pycache__", "CHANGES.diff",
                                                                         "README.md"))
    before = run_stage_tests(7, app, extra_args=("-x", "-q"))
    assert not before.passed, "stage 6 passes the stage 7 tests before the steps: they test nothing"
    follow_the_steps(app)
    after = run_stage_tests(7, app, extra_args=("-q",), timeout=900)
    assert after.passed, after.output[-3000:]
