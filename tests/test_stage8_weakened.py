"""An app reaches stage 8 only with every passkey rule: a copy missing any one of them fails.

As in test_stage7_weakened.py, each case copies stage 8 into a scratch folder, removes one rule by
editing the source text, and runs the behaviour suite on it at stage 8 as the grader does
(``run_tests``, the class grader's engine); one case also goes through ``run_stage_tests``, what the
student's ``check_my_app(8)`` runs. The control: the same tests pass on an untouched copy.
"""
import shutil

import pytest

from workbook.grading.apps import run_tests
from workbook.grading.engine import default_engine
from workbook.my_app import run_stage_tests
from workbook.stages import stage
from workbook.testing.stage_outcomes import stage_results

pytestmark = pytest.mark.slow

# The rpIdHash that py_webauthn compares with sha256(expected RP ID) is made equal to anything: a
# server that never checks which site the authenticator signed for. (Appended to passkeys.py.)
ANY_RP_ID = '''

# ---- weakened by tests/test_stage8_weakened.py: the RP ID hash is never compared
import hashlib as _hashlib  # noqa: E402

import webauthn.authentication.verify_authentication_response as _verify_module  # noqa: E402


class _EqualToAnything(bytes):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = bytes.__hash__


class _Digest:
    def __init__(self):
        self._hash = _hashlib.sha256()

    def update(self, data):
        self._hash.update(data)

    def digest(self):
        return _EqualToAnything(self._hash.digest())


class _Hashlib:
    sha256 = _Digest


_verify_module.hashlib = _Hashlib
'''

LOGIN_CHECKS = '            credential_public_key=passkey["public_key"],\n'

# name: (file, text to find, text to put instead, a test that must fail because of it)
WEAKENINGS = {
    # The login believes whatever origin the browser signed (the relay's, say).
    "origin check": ("passkeys.py", 'expected_origin=current_app.config["ORIGIN"],\n' + LOGIN_CHECKS,
                     'expected_origin=json.loads(credential.response.client_data_json)["origin"],\n' + LOGIN_CHECKS,
                     "test_a_login_from_another_origin_is_refused"),
    "RP ID check": ("passkeys.py", "\nbp = Blueprint(", ANY_RP_ID + "\nbp = Blueprint(",
                    "test_a_signature_for_another_rp_id_is_refused"),
    # Something you have is enough: no PIN or fingerprint asked at login.
    "user verification": ("passkeys.py", '            credential_current_sign_count=passkey["sign_count"],'
                          '  # not growing: a cloned authenticator?\n            require_user_verification=True,',
                          '            credential_current_sign_count=passkey["sign_count"],\n'
                          '            require_user_verification=False,',
                          "test_user_verification_is_required_to_log_in"),
    # The challenge stays on the server after its use: a copied cookie can answer it again.
    "challenge used once": ("passkeys.py",
                            'deleted = db.execute("DELETE FROM passkey_challenges WHERE id_hash = ?", (_hash(token),)).rowcount',
                            "deleted = 1", "test_the_server_forgets_a_used_challenge"),
    "challenge expiry": ("passkeys.py", 'if not 0 <= clock() - row["created"] <= CHALLENGE_SECONDS:',
                         "if False:", "test_a_challenge_expires_after_5_minutes"),
    # The stored counter is never compared: a cloned authenticator logs in.
    "sign count": ("passkeys.py", 'credential_current_sign_count=passkey["sign_count"],',
                   "credential_current_sign_count=0,", "test_a_sign_count_that_does_not_grow_is_refused"),
    # A browser left signed in for hours can still add the thief's passkey.
    "recent login for adding": ("passkeys.py", "if not 0 <= clock() - login_time() <= RECENT_LOGIN_SECONDS:",
                                "if False:", "test_adding_a_passkey_needs_a_recent_full_login"),
    # "Passkeys only" is shown but the code step still lets a password and a code in: a relay's way.
    "passkeys only": ("two_factor.py", 'if passkey_accounts.passkeys_only(user["id"]) and "recovery_code" not in request.form:',
                      'if False and "recovery_code" not in request.form:',
                      "test_passkeys_only_stops_password_and_code_but_not_recovery_codes"),
}


def run_stage_8(app_folder, tmp_path, *pytest_args):
    """(whether the app passed stage 8, pytest's output): the grader's own run of the stage 8 tests."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    run = run_tests([8], app_folder, run_dir, timeout=900, engine=default_engine(), extra_args=pytest_args)
    results, finished, _last = stage_results(run_dir / "outcomes.jsonl")
    return finished and results.get(8, (False, ""))[0], run.output


def weakened_copy(tmp_path, file, find, replace):
    folder = tmp_path / "app"
    shutil.copytree(stage(8).folder, folder, ignore=shutil.ignore_patterns("instance", "__pycache__"))
    path = folder / file
    source = path.read_text(encoding="utf-8")
    assert source.count(find) == 1, f"{file} no longer has {find!r} once: update this test"
    path.write_text(source.replace(find, replace), encoding="utf-8")
    return folder


@pytest.mark.parametrize("rule", list(WEAKENINGS))
def test_stage8_without_one_rule_fails_stage_8(tmp_path, rule):
    file, find, replace, failing_test = WEAKENINGS[rule]
    passed, output = run_stage_8(weakened_copy(tmp_path, file, find, replace), tmp_path, "-x", "-k", failing_test)
    assert not passed, f"stage 8 without its {rule} passed:\n{output[-3000:]}"
    assert "FAILED" in output and failing_test in output, output[-3000:]


def test_check_my_app_refuses_stage_8_without_passkeys_only_and_passes_a_full_copy(tmp_path):
    """What check_my_app(8) runs (run_stage_tests), on a copy without "passkeys only", then on an untouched copy."""
    file, find, replace, failing_test = WEAKENINGS["passkeys only"]
    weakened = run_stage_tests(8, weakened_copy(tmp_path / "weakened", file, find, replace),
                               extra_args=("-x", "-k", failing_test))
    assert not weakened.passed and failing_test in weakened.output, weakened.output[-3000:]
    full = run_stage_tests(8, weakened_copy(tmp_path / "full", "app.py", "import auth\n", "import auth\n"),
                           extra_args=("-k", failing_test))
    assert full.passed, full.output[-3000:]


def test_stage7_does_not_pass_stage_8(tmp_path):
    folder = tmp_path / "app"
    shutil.copytree(stage(7).folder, folder, ignore=shutil.ignore_patterns("instance", "__pycache__"))
    passed, output = run_stage_8(folder, tmp_path, "-x", "-k", "passkey")
    assert not passed, output[-3000:]
    assert "FAILED" in output or "ERROR" in output, output[-3000:]


def test_a_full_copy_of_stage8_passes_stage_8(tmp_path):
    """The control: the tests the cases above expect to fail pass on an untouched copy made the same way."""
    selected = " or ".join(failing_test for _file, _find, _replace, failing_test in WEAKENINGS.values())
    copy = weakened_copy(tmp_path, "app.py", "import auth\n", "import auth\n")
    passed, output = run_stage_8(copy, tmp_path, "-k", selected, "-rA")  # -rA: a PASSED line per test
    assert passed, output[-3000:]
    lines = [line for line in output.splitlines() if line.startswith("PASSED ")]
    for _file, _find, _replace, failing_test in WEAKENINGS.values():
        assert any(failing_test in line for line in lines), f"no {failing_test} passed:\n{output[-3000:]}"
