"""Lesson 08's Build section, followed step by step on a copy of stage 7 (the catch-up path): the passkey tests pass.

The steps are the lesson's own text (solutions/08_phishing_and_passkeys.ipynb, "Build: passkeys in your
app"); each edit below is one of them. Before the steps the same tests fail, so they test the steps.
"""
import shutil

import pytest

from workbook.my_app import run_stage_tests
from workbook.stages import stage

from lesson_build import answer, build_section, code_blocks, edit, paste_above
from mutants import lesson_08

LESSON = "08_phishing_and_passkeys.ipynb"
IMPORTS = "from webauthn.helpers.exceptions import InvalidAuthenticationResponse\n"
VERIFY = '''    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge["challenge"],
            expected_rp_id=current_app.config["RP_ID"],
            expected_origin=current_app.config["ORIGIN"],
            credential_public_key=passkey["public_key"],
            credential_current_sign_count=passkey["sign_count"],  # not growing: a cloned authenticator?
            require_user_verification=True,
        )
    except Exception as error:  # InvalidAuthenticationResponse, or any error on a crafted response
        return login_failed(f"That passkey login did not check out: {error}")
    # The counter moves only if nobody else used this passkey since we read it.
    moved = db.execute(
        "UPDATE passkeys SET sign_count = ?, last_used = ?, backed_up = ? WHERE id = ? AND sign_count = ?",
        (verified.new_sign_count, clock(), int(verified.credential_backed_up), passkey["id"], passkey["sign_count"]),
    ).rowcount
    user = get_user(passkey["user_id"])
    if moved != 1 or user is None or user["totp_secret"] is None:
'''
YOUR_VERIFY = '''    # Your Exercise 8.5: the challenge, the origin, the RP ID, user verification, the counter.
    user_id = finish_passkey_login(db, {"challenge": challenge["challenge"]}, body["credential"],
                                   current_app.config["RP_ID"], current_app.config["ORIGIN"])
    if user_id != passkey["user_id"]:
        return login_failed("That passkey login did not check out: try again.")
    db.execute("UPDATE passkeys SET last_used = ? WHERE id = ?", (clock(), passkey["id"]))
    user = get_user(user_id)
    if user is None or user["totp_secret"] is None:
'''

COPIED = ["passkeys.py", "passkey_accounts.py", "static/passkeys.js", "static/passkeys.css", "templates/passkeys.html",
          "templates/passkey_login.html"]


def follow_the_steps(app, answers=None):
    answers = {"8.5": answer(LESSON, "8.5")} | (answers or {})
    eight = stage(8).folder
    # 1. The module, its script, styles and templates.
    for name in COPIED:
        shutil.copy(eight / name, app / name)
    # 2. The student's verification (Exercise 8.5) in login_verify.
    edit(app / "passkeys.py", "from werkzeug.exceptions import HTTPException\n",
         "from werkzeug.exceptions import HTTPException\n" + IMPORTS)
    paste_above(app / "passkeys.py", "# ANCHOR: login_verify\n", answers["8.5"])
    edit(app / "passkeys.py", VERIFY, YOUR_VERIFY)
    # 3. The settings and the blueprint; the cookie's name.
    edit(app / "app.py", "import auth\n", "import auth\nimport passkeys\n")
    edit(app / "app.py", "    app.register_blueprint(two_factor.bp)\n",
         "    app.register_blueprint(two_factor.bp)\n    passkeys.init_app(app)\n")
    edit(app / "app.py", 'SESSION_COOKIE_NAME="stage7_session"', 'SESSION_COOKIE_NAME="stage8_session"')
    edit(app / "app.py", 'DEVICE_COOKIE_NAME="stage7_device"', 'DEVICE_COOKIE_NAME="stage8_device"')
    # 4. The pages: the CSRF token for the script, the passkey login, the link.
    edit(app / "templates" / "base.html", '  <meta name="viewport" content="width=device-width, initial-scale=1">\n',
         '  <meta name="viewport" content="width=device-width, initial-scale=1">\n'
         '  <meta name="csrf-token" content="{{ csrf_token() }}">\n')
    edit(app / "templates" / "login.html", "  </form>\n", '  </form>\n  {% include "passkey_login.html" %}\n')
    edit(app / "templates" / "dashboard.html", "    <li><a href=\"{{ url_for('two_factor.replace_phone') }}\">",
         "    <li><a href=\"{{ url_for('passkeys.list_passkeys') }}\">Passkeys</a></li>\n"
         "    <li><a href=\"{{ url_for('two_factor.replace_phone') }}\">")
    # 5. No downgrade: passkeys only refuses a code (a recovery code still works).
    edit(app / "two_factor.py", "import user_management\n", "import passkey_accounts\nimport user_management\n")
    edit(app / "two_factor.py", 'def verify_2fa(user):\n    if request.method != "POST":\n',
         'def verify_2fa(user):\n'
         '    if passkey_accounts.passkeys_only(user["id"]) and "recovery_code" not in request.form:\n'
         '        status = 403 if request.method == "POST" else 200\n'
         '        return render_template("verify_2fa.html", error=passkey_accounts.PASSKEYS_ONLY_MESSAGE), status\n'
         '    if request.method != "POST":\n')


def test_the_build_section_names_every_step_this_test_takes():
    text = build_section(LESSON)
    for words in ["passkeys.py", "static/passkeys.js", "static/passkeys.css", "templates/passkeys.html",
                  "templates/passkey_login.html", "passkeys.init_app(app)", "stage8_session", "stage8_device", "csrf-token",
                  "passkey_accounts.py",
                  'include "passkey_login.html"', "/passkeys", "passkey_accounts.passkeys_only", "PASSKEYS_ONLY_MESSAGE",
                  "check_my_app(8)", "start_from(7)", "finish_passkey_login", IMPORTS.strip(), "# ANCHOR: login_verify"]:
        assert words in text, f"the Build section no longer says {words!r}"
    assert YOUR_VERIFY in code_blocks(text), "the Build section no longer gives login_verify's new lines as the test pastes them"


@pytest.mark.slow
def test_following_the_build_steps_on_stage_7_passes_the_stage_8_tests(tmp_path):
    app = tmp_path / "my_app"
    shutil.copytree(stage(7).folder, app, ignore=shutil.ignore_patterns("instance", "__pycache__", "CHANGES.diff"))
    before = run_stage_tests(8, app, extra_args=("-x", "-q", "-k", "passkey"))
    assert not before.passed, "stage 7 passes the stage 8 tests before the steps: they test nothing"
    follow_the_steps(app)
    # The passkey tests: the rest of the stage 8 suite is stage 7's, on files the steps leave as stage 7 has
    # them (test_lesson_07_08_build.py runs all of it on the app lesson 07's Build leaves).
    after = run_stage_tests(8, app, extra_args=("-q", "-k", "passkey"))
    assert after.passed, after.output[-3000:]


@pytest.mark.slow
def test_a_wrong_verification_pasted_in_fails_the_stage_8_test_that_names_it(tmp_path):
    wrong = [m for m in lesson_08.MUTANTS if m.exercise == "8.5" and m.name == "user verification not required"]
    assert len(wrong) == 1 and not wrong[0].passes
    app = tmp_path / "my_app"
    shutil.copytree(stage(7).folder, app, ignore=shutil.ignore_patterns("instance", "__pycache__", "CHANGES.diff"))
    follow_the_steps(app, {"8.5": wrong[0].source.strip()})
    run = run_stage_tests(8, app, extra_args=("-q", "-k", "user_verification_is_required_to_log_in"))
    assert not run.passed, "the stage 8 test of user verification passes with a login that does not require it"
    failed = [line for line in run.output.splitlines() if line.startswith("FAILED")]
    assert failed and all("user_verification_is_required_to_log_in" in line for line in failed), run.output[-3000:]
