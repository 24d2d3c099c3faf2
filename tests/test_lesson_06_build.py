"""Lesson 06's Build section, followed step by step on a copy of stage 5: the stage 6 tests pass after it.

The steps are the lesson's own text (solutions/06_login_flow.ipynb, "Build: accounts, and the page in
between"); each edit below is one of them, with the student's own stage 5 helpers moved, not retyped,
and the lesson's answer to Exercise 6.3 put into the database module. Before the steps the same tests
fail, so they test the steps.
"""
import re
import shutil

import pytest

from workbook.my_app import run_stage_tests
from workbook.stages import stage

from lesson_build import answer, build_section, edit

LESSON = "06_login_flow.ipynb"
PAGES = ["base.html", "register.html", "login.html", "enable_2fa.html", "verify_2fa.html", "dashboard.html",
         "error.html"]
MOVED = ["provisioning_uri", "qr_data_uri", "grouped", "normalise_code"]


def cut_function(source, name):
    """``source`` without the top-level function ``name`` (and its anchor comments), and that function."""
    start = source.index(f"def {name}(")
    end = source.index("\n\n\n", start)
    function = source[start:end]
    rest = source[:start] + source[end + 3:]
    return re.sub(r"# ANCHOR(_END)?: normalise\n", "", rest), function


def follow_the_steps(app):
    six = stage(6).folder
    # 1. The pages.
    for name in PAGES:
        shutil.copy(six / "templates" / name, app / "templates" / name)
    (app / "templates" / "index.html").unlink()
    (app / "templates" / "enabled.html").unlink()
    (app / "static").mkdir()
    shutil.copy(six / "static" / "style.css", app / "static" / "style.css")
    # 2. The users table, with the student's find_user (Exercise 6.3).
    shutil.copy(six / "user_management.py", app / "user_management.py")
    edit(app / "user_management.py", '    user = get_db().execute("SELECT * FROM users WHERE username = ?", (username,))'
         '.fetchone()\n', "    user = find_user(get_db(), username)\n")
    with (app / "user_management.py").open("a", encoding="utf-8") as module:
        module.write("\n\n" + answer(LESSON, "6.3") + "\n")
    # 3. Register and log in.
    shutil.copy(six / "auth.py", app / "auth.py")
    # 4. The page between: the student's four helpers move out of app.py into two_factor.py.
    source = (app / "app.py").read_text(encoding="utf-8")
    moved = []
    for name in MOVED:
        source, function = cut_function(source, name)
        moved.append(function)
    source = source.replace('ISSUER = "Flask 2FA Workbook"\n\n\n', "")
    routes = (six / "two_factor.py").read_text(encoding="utf-8")
    routes = routes[routes.index("def code_is_right("):]
    (app / "two_factor.py").write_text(
        '"""The code step: enrol once, verify every later time, then the dashboard."""\n'
        "import base64\nimport io\nimport re\n\nimport pyotp\nimport pyqrcode\n"
        "from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for\n\n"
        "import user_management\nfrom auth import login_required, password_checked_user\n\n"
        'bp = Blueprint("two_factor", __name__)\n\nISSUER = "Flask 2FA Workbook"\n\n\n'
        + "\n\n\n".join(moved) + "\n\n\n" + routes, encoding="utf-8")
    # 5. The factory.
    start = source.index("    # TOTP secrets stay on the server")
    end = source.index("    @app.errorhandler(HTTPException)")
    source = source[:start] + '''    user_management.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(two_factor.bp)

    @app.get("/")
    def index():
        return redirect(url_for("two_factor.dashboard" if g.user else "auth.login"))

    @app.after_request
    def relative_redirects(response):
        location = response.headers.get("Location", "")
        here = request.script_root + request.path
        folder = here[: here.rfind("/") + 1]
        if location.startswith(folder) and not urlsplit(location).netloc:
            response.headers["Location"] = location[len(folder):] or "./"
        return response

''' + source[end:]
    for old, new in [
        ("import base64\nimport io\nimport os\nimport re\nimport secrets\nimport time\n\nimport pyotp\nimport pyqrcode\n",
         "import os\nimport secrets\nimport time\nfrom urllib.parse import urlsplit\n\n"),
        ("from flask import Flask, render_template, request, session\n",
         "from flask import Flask, g, redirect, render_template, request, url_for\n"),
        ("from werkzeug.middleware.proxy_fix import ProxyFix\n",
         "from werkzeug.middleware.proxy_fix import ProxyFix\n\nimport auth\nimport two_factor\nimport user_management\n"),
        ('        ACCOUNT_NAME="student",\n', '        DATABASE=os.path.join(app.instance_path, "users.sqlite"),\n'
         '        PASSWORD_HASH_METHOD="scrypt",\n'),
        # 6. Its own cookie.
        ('SESSION_COOKIE_NAME="stage5_session"', 'SESSION_COOKIE_NAME="stage6_session"'),
    ]:
        assert source.count(old) == 1, f"stage 5's app.py no longer has {old!r}: update the Build steps"
        source = source.replace(old, new)
    (app / "app.py").write_text(source, encoding="utf-8")


def test_the_build_section_names_every_step_this_test_takes():
    text = build_section(LESSON)
    assert len(re.findall(r"^\d+\. \*\*", text, re.M)) == 6
    for words in PAGES + MOVED + ["static/style.css", "index.html", "enabled.html", "user_management.py",
                                  "find_user(get_db(), username)", "auth.py", "two_factor.py",
                                  'Blueprint("two_factor", __name__)', "code_is_right", "finish_login",
                                  "/enable-2fa", "/verify-2fa", "/dashboard", "user_management.init_app(app)",
                                  "register_blueprint", "relative_redirects", "DATABASE", "PASSWORD_HASH_METHOD",
                                  "stage6_session", "check_my_app(6)", "start_from(5)"]:
        assert words in text, f"the Build section no longer says {words!r}"


@pytest.mark.slow
def test_following_the_build_steps_on_stage_5_passes_the_stage_6_tests(tmp_path):
    app = tmp_path / "my_app"
    shutil.copytree(stage(5).folder, app, ignore=shutil.ignore_patterns("instance", "__pycache__", "CHANGES.diff",
                                                                         "README.md"))
    before = run_stage_tests(6, app, extra_args=("-x", "-q"))
    assert not before.passed, "stage 5 passes the stage 6 tests before the steps: they test nothing"
    follow_the_steps(app)
    after = run_stage_tests(6, app, extra_args=("-q",))
    assert after.passed, after.output[-3000:]
