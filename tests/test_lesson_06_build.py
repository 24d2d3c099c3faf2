"""Lesson 06's Build section, followed step by step on a copy of stage 5: the stage 6 tests pass after it.

The steps are the lesson's own text (solutions/06_login_flow.ipynb, "Build: accounts, and the page in
between"). Only the pages and the database connection are copied from stage 6; the rest is written here
as a student following the steps would write it, from the lesson's answers to Exercises 6.2-6.5, and
with the student's own stage 5 helpers moved, not retyped. That code is the Build's model answer:
before the steps the stage 6 tests fail, after them they pass, and a plausible wrong step (a login that
sets ``user_id`` before the code, a logout by GET) fails ``check_my_app(6)`` on the test that names it.
"""
import re
import shutil

import nbformat
import pytest

from workbook import ROOT
from workbook.listings import listing
from workbook.my_app import check_my_app, run_stage_tests
from workbook.stages import stage

from lesson_build import answer, build_section, edit

LESSON = "06_login_flow.ipynb"
PAGES = ["base.html", "register.html", "login.html", "enable_2fa.html", "verify_2fa.html", "dashboard.html",
         "error.html"]
MOVED = ["provisioning_uri", "qr_data_uri", "grouped", "normalise_code"]


def from_the_def(source, name):
    """An answer from its ``def name(`` on: the exercise cell's imports stay in the notebook."""
    return source[source.index(f"def {name}("):]


def cut_function(source, name):
    """``source`` without the top-level function ``name`` (and its anchor comments), and that function."""
    start = source.index(f"def {name}(")
    end = source.index("\n\n\n", start)
    function = source[start:end]
    rest = source[:start] + source[end + 3:]
    return re.sub(r"# ANCHOR(_END)?: normalise\n", "", rest), function


def users_module():
    """Steps 2 and 3: the connection copied from the lesson's listings, the users written from 6.2 and 6.3."""
    return (
        '"""Users and their TOTP secrets in SQLite."""\n'
        "import os\nimport sqlite3\n\nfrom flask import current_app, g\n"
        "from werkzeug.security import check_password_hash, generate_password_hash\n\n"
        + listing(6, "user_management.py", "schema") + "\n\n\n"
        + listing(6, "user_management.py", "connection") + "\n\n\n"
        + listing(6, "user_management.py", "pending_secret") + "\n\n\n"
        + answer(LESSON, "6.3") + '''


def get_user(user_id):
    return get_db().execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()


def hash_password(password):
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def create_user(username, password):
    db = get_db()
    try:
        with db:
            db.execute("INSERT INTO users (username, password_hash) VALUES (?, ?)",
                       (username, hash_password(password)))
    except sqlite3.IntegrityError:
        return False
    return True


def check_password(username, password):
    user = find_user(get_db(), username)
    stored = user["password_hash"] if user is not None else hash_password("no such user, no such password")
    if check_password_hash(stored, password) and user is not None:
        return user
    return None
''')


def guard_from_exercise_6_5(source=None):
    """Step 4's login_required: the student's 6.5 (the solutions', or ``source``), testing g.user, sending to
    auth.login."""
    guard = from_the_def(source or answer(LESSON, "6.5"), "login_required")
    for old, new in [('session.get("user_id") is None', "g.user is None"), ('url_for("login")', 'url_for("auth.login")')]:
        assert guard.count(old) == 1, f"Exercise 6.5's answer no longer has {old!r}: update the Build's step 4"
        guard = guard.replace(old, new)
    return guard


def auth_module():
    """Step 4: register, log in, log out, and the guards."""
    return (
        '"""The password step: register, log in, log out, and the guards the other pages use."""\n'
        "import functools\n\n"
        "from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for\n\n"
        'import user_management\n\nbp = Blueprint("auth", __name__)\n\n\n'
        + from_the_def(answer(LESSON, "6.4"), "next_page_after_password") + '''


@bp.before_app_request
def load_logged_in_user():
    user_id = session.get("user_id")
    g.user = user_management.get_user(user_id) if user_id is not None else None


''' + guard_from_exercise_6_5() + '''


def password_checked_user():
    user_id = session.get("pending_user_id")
    return user_management.get_user(user_id) if user_id is not None else None


@bp.route("/register", methods=["GET", "POST"])
def register():
    if request.method == "GET":
        return render_template("register.html")
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    if not username or not 8 <= len(password) <= 256:
        error = "Choose a username, and a password of 8 to 256 characters."
        return render_template("register.html", error=error, username=username[:32]), 400
    if not user_management.create_user(username, password):
        return render_template("register.html", error="That username is taken.", username=username[:32]), 409
    flash("Account created. Log in to set up two-factor authentication.")
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html")
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    if not username or not password:
        return render_template("login.html", error="Enter your username and password."), 400
    user = user_management.check_password(username, password)
    if user is None:
        return render_template("login.html", error="Wrong username or password."), 401
    session.clear()
    session["pending_user_id"] = user["id"]
    return redirect(request.script_root + next_page_after_password(user))


@bp.post("/logout")
def logout():
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("auth.login"))
''')


def follow_the_steps(app):
    six = stage(6).folder
    # 1. The pages.
    for name in PAGES:
        shutil.copy(six / "templates" / name, app / "templates" / name)
    (app / "templates" / "index.html").unlink()
    (app / "templates" / "enabled.html").unlink()
    (app / "static").mkdir()
    shutil.copy(six / "static" / "style.css", app / "static" / "style.css")
    # 2. The database connection, and 3. the users, written from Exercises 6.2 and 6.3.
    (app / "user_management.py").write_text(users_module(), encoding="utf-8")
    # 4. Register, log in, log out.
    (app / "auth.py").write_text(auth_module(), encoding="utf-8")
    # 5. The page between: the student's four helpers move out of app.py into two_factor.py.
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
    # 6. The factory.
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
        # 7. Its own cookie.
        ('SESSION_COOKIE_NAME="stage5_session"', 'SESSION_COOKIE_NAME="stage6_session"'),
    ]:
        assert source.count(old) == 1, f"stage 5's app.py no longer has {old!r}: update the Build steps"
        source = source.replace(old, new)
    (app / "app.py").write_text(source, encoding="utf-8")


def stage_5_copy(tmp_path):
    app = tmp_path / "my_app"
    shutil.copytree(stage(5).folder, app, ignore=shutil.ignore_patterns("instance", "__pycache__", "CHANGES.diff",
                                                                         "README.md"))
    return app


def test_the_build_section_names_every_step_this_test_takes():
    text = build_section(LESSON)
    assert len(re.findall(r"^\d+\. \*\*", text, re.M)) == 7
    for words in PAGES + MOVED + [
            "static/style.css", "index.html", "enabled.html", "user_management.py", "auth.login", "auth.register",
            "auth.logout", "two_factor.dashboard", "`error`",
            # 2-3: what is copied, and what the student writes from 6.2 and 6.3
            "SCHEMA", "get_db", "close_db", "init_app", "pending_secret", "turn_on_2fa", "Exercise 6.3",
            "Exercise 6.2", "get_user(user_id)", "hash_password(password)", "PASSWORD_HASH_METHOD",
            "create_user(username, password)", "`?` marks", "with db:", "sqlite3.IntegrityError", "False",
            "check_password(username, password)", "find_user(get_db(), username)", "password_hash",
            # 4: auth.py, route by route
            "auth.py", 'Blueprint("auth", __name__)', "Exercise 6.4", "@bp.before_app_request", "g.user",
            "Exercise 6.5", "password_checked_user()", "pending_user_id", "/register", "/login", "/logout",
            "`username`", "`password`", "400", "409", "401", "405", "POST only", "clear the session",
            "next_page_after_password(user)", "request.script_root", "the same `error`",
            # 5-7
            "two_factor.py", 'Blueprint("two_factor", __name__)', "code_is_right", "finish_login",
            "/enable-2fa", "/verify-2fa", "/dashboard", "user_management.init_app(app)", "register_blueprint",
            "relative_redirects", "DATABASE", "stage6_session", "check_my_app(6)", "start_from(5)"]:
        assert words in text, f"the Build section no longer says {words!r}"


def test_the_build_copies_only_the_pages_and_the_connection():
    """Steps 2-4 name no stage file to copy but the templates: auth.py and the users are the student's."""
    text = build_section(LESSON)
    assert not re.search(r"[Cc]opy stage 6's `(auth|user_management)\.py`", text)
    assert "Copy in the two listings that follow Exercise 6.3" in text


def test_no_listing_of_what_the_student_writes_runs_before_check_my_app():
    """Stage 6's auth.py and two_factor.py, and user_management.py's user functions, only on request."""
    notebook = nbformat.read(ROOT / "solutions" / LESSON, as_version=4).cells
    for cell in notebook:
        if cell.cell_type != "code":
            continue
        for call in re.findall(r'show\(6, "(?:auth|two_factor)\.py"[^)]*\)', cell.source):
            assert "if SHOW_THE_BUILDS_ANSWER:" in cell.source, f"{cell.id} lists {call} on Run All"
        assert 'show(6, "user_management.py")' not in cell.source, f"{cell.id} lists the whole database module"


@pytest.mark.slow
def test_following_the_build_steps_on_stage_5_passes_the_stage_6_tests(tmp_path):
    app = stage_5_copy(tmp_path)
    before = run_stage_tests(6, app, extra_args=("-x", "-q"))
    assert not before.passed, "stage 5 passes the stage 6 tests before the steps: they test nothing"
    follow_the_steps(app)
    after = run_stage_tests(6, app, extra_args=("-q",))
    assert after.passed, after.output[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("old, new, failing_test", [
    # The password alone logs in: both keys set, so enrolment still works and only the guard's test sees it.
    ('    session["pending_user_id"] = user["id"]\n',
     '    session["pending_user_id"] = user["id"]\n    session["user_id"] = user["id"]\n',
     "test_dashboard_needs_both_factors"),
    # Logout by a link: any page can log you out, and the test that asks for 405 names it.
    ('@bp.post("/logout")', '@bp.route("/logout", methods=["GET", "POST"])',
     "test_logout_by_get_is_refused_clearly"),
], ids=["user_id set by the password", "logout by GET"])
def test_a_wrong_step_fails_check_my_app_on_the_test_that_names_it(tmp_path, capsys, old, new, failing_test):
    app = stage_5_copy(tmp_path)
    follow_the_steps(app)
    edit(app / "auth.py", old, new)
    check_my_app(6, app)
    printed = capsys.readouterr().out
    assert printed.startswith("❌"), printed
    assert f"FAILED {failing_test}" in printed, printed
