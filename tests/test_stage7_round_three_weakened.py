"""An app reaches stage 7 only with round three in place: a copy missing one round-three rule fails.

As in test_stage7_weakened.py, each case copies stage 7 into a scratch folder, removes one rule,
and runs the behaviour suite on it at stage 7 as the grader does. Here the rule is removed from the
outside, by code appended to the copy's ``app.py`` that wraps ``create_app``: it holds whatever the
stage's modules are called inside, so the only text it needs is ``def create_app(`` itself.
"""
import shutil

import pytest

from workbook.stages import stage

from test_stage7_weakened import run_stage_7

pytestmark = pytest.mark.slow

WRAP = '''

# ---- weakened by tests/test_stage7_round_three_weakened.py: {name}
_create_app_in_full = create_app


def create_app(test_config=None):
    app = _create_app_in_full(test_config)
{body}
    return app
'''

# name: (code run on the app made by create_app, code run once at import, a test that must fail)
WEAKENINGS = {
    # The device cookie never reaches the browser: every Set-Cookie but the session's is dropped.
    "device cookie": ('''\
    inner = app.wsgi_app

    def session_cookie_only(environ, start_response):
        def start(status, headers, exc_info=None):
            name = app.config["SESSION_COOKIE_NAME"]
            headers = [(key, value) for key, value in headers
                       if key.lower() != "set-cookie" or value.split("=", 1)[0].strip() == name]
            return start_response(status, headers, exc_info)
        return inner(environ, start)

    app.wsgi_app = session_cookie_only''', "", "test_a_trusted_browser_gets_in_while_strangers_are_paused"),
    # The owner is never told: NOTIFY is replaced, whatever the test set it to.
    "notify": ('''\
    app.config["NOTIFY"] = lambda user, event: None''', "", "test_every_security_event_goes_to_notify"),
    # The TOTP secret is stored as it is: Fernet "encrypts" to the plain text.
    "secrets at rest": ("", '''\
from cryptography import fernet as _fernet  # noqa: E402

for _kind in (_fernet.Fernet, _fernet.MultiFernet):
    _kind.encrypt = lambda self, data: data
    _kind.decrypt = lambda self, token, ttl=None: token if isinstance(token, bytes) else token.encode()
''', "test_a_stolen_database_file_holds_no_totp_secret"),
    # Any success (the owner's, in her own browser) wipes the account's failures of that kind, every
    # browser's: the ceiling counts a streak again, not failures.
    "rolling ceiling": ("", '''\
import throttle as _throttle  # noqa: E402

_succeeded = _throttle.attempt_succeeded


def _wipe_on_success(attempt):
    _succeeded(attempt)
    _throttle.get_db().execute("DELETE FROM failures WHERE subject = ? AND kind = ?", attempt.key[:2])


_throttle.attempt_succeeded = _wipe_on_success
''', "test_ninety_days_give_at_most_thirty_guesses_a_month_whatever_successes_come_between"),
    # A new password leaves every other session of the account alive.
    "sessions ended by a new password": ("", '''\
import sessions as _sessions  # noqa: E402

_sessions.end_all_sessions = lambda user_id, db=None, but=None: None
''', "test_changing_the_password_ends_every_other_session_and_device_cookie"),
    # Passwords hashed with werkzeug's scrypt by default, as before round three.
    "argon2id": ('''\
    if not (test_config and "PASSWORD_HASH_METHOD" in test_config):
        app.config["PASSWORD_HASH_METHOD"] = "scrypt"''', "", "test_passwords_are_hashed_with_argon2id"),
}


@pytest.fixture
def stage7_folder(request):
    """Stage 7's folder, or the one given with --app-dir (to try these cases on another version of it)."""
    return request.config.getoption("--app-dir") or stage(7).folder


def weakened_copy(source_folder, tmp_path, name):
    """A copy of stage 7 whose create_app is wrapped by the weakening ``name``."""
    body, at_import, _failing_test = WEAKENINGS[name]
    folder = tmp_path / "app"
    shutil.copytree(source_folder, folder, ignore=shutil.ignore_patterns("instance", "__pycache__"))
    app_file = folder / "app.py"
    source = app_file.read_text(encoding="utf-8")
    assert "\ndef create_app(" in source, "stage 7's app.py no longer defines create_app: update this test"
    main = source.find('\nif __name__ == "__main__":')
    if main == -1:
        main = len(source)
    wrapper = WRAP.format(name=name, body=body or "    pass") + (f"\n\n{at_import}" if at_import else "")
    app_file.write_text(source[:main] + wrapper + "\n" + source[main:], encoding="utf-8")
    return folder


@pytest.mark.parametrize("rule", list(WEAKENINGS))
def test_stage7_without_one_round_three_rule_fails_stage_7(stage7_folder, tmp_path, rule):
    failing_test = WEAKENINGS[rule][2]
    passed, output = run_stage_7(weakened_copy(stage7_folder, tmp_path, rule), tmp_path, "-x", "-k", failing_test)
    assert not passed, f"stage 7 without its {rule} passed:\n{output[-3000:]}"
    assert "FAILED" in output and failing_test in output, output[-3000:]


def test_the_same_tests_pass_on_a_full_copy_of_stage7(stage7_folder, tmp_path):
    """The control: the tests the cases above expect to fail pass on stage 7 copied the same way, with
    a wrapper that changes nothing."""
    WEAKENINGS["nothing"] = ("", "", "")
    try:
        copy = weakened_copy(stage7_folder, tmp_path, "nothing")
    finally:
        del WEAKENINGS["nothing"]
    selected = " or ".join(failing_test for _body, _import, failing_test in WEAKENINGS.values())
    passed, output = run_stage_7(copy, tmp_path, "-k", selected, "-rA")
    assert passed, output[-3000:]
    lines = [line for line in output.splitlines() if line.startswith("PASSED ")]
    for _body, _import, failing_test in WEAKENINGS.values():
        assert any(failing_test in line for line in lines), f"no {failing_test} passed:\n{output[-3000:]}"
