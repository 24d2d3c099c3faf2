"""Lesson 08's Build section, followed step by step on a copy of stage 7: the stage 8 tests pass after it.

The steps are the lesson's own text (solutions/08_phishing_and_passkeys.ipynb, "Build: passkeys in your
app"); each edit below is one of them. Before the steps the same tests fail, so they test the steps.
"""
import shutil

import pytest

from workbook.my_app import run_stage_tests
from workbook.stages import stage

from lesson_build import build_section, edit

LESSON = "08_phishing_and_passkeys.ipynb"
COPIED = ["passkeys.py", "passkey_accounts.py", "static/passkeys.js", "static/passkeys.css", "templates/passkeys.html",
          "templates/passkey_login.html"]


def follow_the_steps(app):
    eight = stage(8).folder
    # 1. The module, its script, styles and templates.
    for name in COPIED:
        shutil.copy(eight / name, app / name)
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
                  "check_my_app(8)", "start_from(7)"]:
        assert words in text, f"the Build section no longer says {words!r}"


@pytest.mark.slow
def test_following_the_build_steps_on_stage_7_passes_the_stage_8_tests(tmp_path):
    app = tmp_path / "my_app"
    shutil.copytree(stage(7).folder, app, ignore=shutil.ignore_patterns("instance", "__pycache__", "CHANGES.diff"))
    before = run_stage_tests(8, app, extra_args=("-x", "-q", "-k", "passkey"))
    assert not before.passed, "stage 7 passes the stage 8 tests before the steps: they test nothing"
    follow_the_steps(app)
    # Every stage 8 test but the slow ones: months of simulated guessing at the ceilings of throttle.py, a file
    # the steps leave as stage 7 has it (checked here), and which stages 7 and 8 are both simulated with.
    assert (app / "throttle.py").read_bytes() == (stage(7).folder / "throttle.py").read_bytes()
    after = run_stage_tests(8, app, extra_args=("-q", "-m", "not slow"))
    assert after.passed, after.output[-3000:]
