"""The password step: register, log in, log out, and the guards the other pages use."""
import functools
import math
import re

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from zxcvbn import zxcvbn

import user_management

bp = Blueprint("auth", __name__)

USERNAME_PATTERN = "[A-Za-z0-9_.-]{3,32}"
MIN_PASSWORD, MAX_PASSWORD = 8, 256
PENDING_LOGIN_SECONDS = 10 * 60  # password done, code not yet: this long at most


def clock():
    """Now, as the app sees it: tests set ``CLOCK`` to a clock they move by hand."""
    return current_app.config["CLOCK"]()


def renew_session():
    """A new, empty session at each change of privilege (logged in, logged out, 2FA off).

    Whatever an attacker planted in the old one (a session fixation) is gone.
    The CSRF token lives in the session too, so forget the copy cached for this request.
    """
    session.clear()
    g.pop("csrf_token", None)


def start_server_session(user_id, logged_in):
    """A fresh cookie session tied to a new row in the sessions table (ended there, it is over)."""
    renew_session()
    session["sid"] = user_management.start_session(user_id, clock(), logged_in)


@bp.before_app_request
def load_logged_in_user():
    """``g.user``: who passed both factors in this session, or None. Read once per request.

    The cookie alone proves nothing: its session must still exist on the server
    (logging out, turning 2FA off or on again deletes it there) and must have
    been used in the last 30 minutes, and started less than 12 hours ago.
    """
    g.user = g.server_session = None
    if request.endpoint == "static":
        return
    token = session.get("sid")
    if token is None:
        if "user_id" in session or "pending_user_id" in session:
            renew_session()  # not one of ours: a cookie from before, or a forgery
        return
    config = current_app.config
    row = user_management.find_session(token, clock(), config["SESSION_IDLE_SECONDS"],
                                       config["SESSION_MAX_SECONDS"])
    if row is None or row["user_id"] not in (session.get("user_id"), session.get("pending_user_id")):
        renew_session()
        flash("Your session has ended. Log in again.")
        return
    g.server_session = row
    if row["logged_in"] and session.get("user_id") == row["user_id"]:
        g.user = user_management.get_user(row["user_id"])


def login_required(view):
    """Both factors passed in this session, or back to the login page."""
    @functools.wraps(view)
    def wrapped(**kwargs):
        if g.user is None or g.user["totp_secret"] is None:
            if session.get("user_id") is not None:
                renew_session()  # the account is gone, or 2FA was turned off elsewhere
            flash("Log in first.")
            return redirect(url_for("auth.login"))
        return view(**kwargs)
    return wrapped


def password_step_required(view):
    """The password was right in this session, less than 10 minutes ago."""
    @functools.wraps(view)
    def wrapped(**kwargs):
        user_id, since = session.get("pending_user_id"), session.get("pending_since")
        row = g.server_session
        if user_id is None or not isinstance(since, (int, float)) or row is None or row["logged_in"]:
            flash("Log in first.")
            return redirect(url_for("auth.login"))
        if not 0 <= clock() - since <= PENDING_LOGIN_SECONDS:
            user_management.end_session(session["sid"])
            renew_session()
            flash("That login took more than 10 minutes. Log in again.")
            return redirect(url_for("auth.login"))
        user = user_management.get_user(user_id)
        if user is None:
            renew_session()
            flash("Log in first.")
            return redirect(url_for("auth.login"))
        return view(user, **kwargs)
    return wrapped


def wait_message(wait):
    if wait == math.inf:
        return ("Too many wrong codes in a row: codes are closed for this account. "
                "Log in with one of your recovery codes.")
    if wait > 24 * 3600:  # the ceiling: a month, not a pause
        return (f"Too many wrong codes in a row: codes are closed for {math.ceil(wait / (24 * 3600))} days. "
                "Log in with one of your recovery codes.")
    return f"Too many wrong tries in a row. Wait {wait} seconds, then try again."


def too_many_attempts(template, wait, **context):
    """429 with the form again, and Retry-After: the seconds until the next try."""
    headers = {} if wait == math.inf else {"Retry-After": str(wait)}
    return render_template(template, error=wait_message(wait), **context), 429, headers


def password_problem(password, username):
    """What is wrong with a new password, or None.

    Length, then guessability: zxcvbn knows the passwords that leak most often
    (12345678, iloveyou, ...), keyboard walks, repeats and the username itself.
    Below score 2 a password falls in under a million guesses.
    """
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return f"Choose a password of {MIN_PASSWORD} to {MAX_PASSWORD} characters."
    if not password.strip():
        return "A password of spaces only is easy to guess: choose another."
    # zxcvbn's work grows with the length; the first 100 characters tell enough.
    if zxcvbn(password[:100], user_inputs=[username])["score"] < 2:
        return ("That password is one of the most common ones, or close to one: attackers try "
                "those first. Choose another, for example four random words.")
    return None


@bp.route("/register", methods=["GET", "POST"])
def register():
    if request.method == "GET":
        return render_template("register.html")
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    if not re.fullmatch(USERNAME_PATTERN, username):
        error = "Choose a username of 3 to 32 letters, digits, dots, dashes or underscores."
        return render_template("register.html", error=error, username=username[:32]), 400
    error = password_problem(password, username)
    if error:
        return render_template("register.html", error=error, username=username), 400
    if not user_management.create_user(username, password):
        error = "That username is taken: choose another."
        return render_template("register.html", error=error, username=username), 409
    flash("Account created. Log in to set up two-factor authentication.")
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html")
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    if not username or not password or len(username) > 64 or len(password) > MAX_PASSWORD:
        return render_template("login.html", error="Enter your username and password."), 400
    user = user_management.find_user(username)
    if user is not None:
        # Password guesses on one account wait like code guesses.
        wait = user_management.start_attempt(user["id"], clock(), "password")
        if wait is not None:
            return too_many_attempts("login.html", wait)
    if user_management.check_password(user, password) is None:
        # The same words whether the name or the password was wrong.
        return render_template("login.html", error="Wrong username or password."), 401
    user_management.attempt_succeeded(user["id"], "password")
    start_server_session(user["id"], logged_in=False)
    session["pending_user_id"] = user["id"]  # the password step only: not logged in yet
    session["pending_since"] = clock()       # a number: the pending login expires
    if user["totp_secret"] is None:
        return redirect(url_for("two_factor.enable_2fa"))
    return redirect(url_for("two_factor.verify_2fa"))


@bp.post("/logout")
def logout():
    if g.user is not None:
        user_management.end_all_sessions(g.user["id"])  # this browser, and every copy of its cookie
    elif session.get("sid"):
        user_management.end_session(session["sid"])
    renew_session()
    flash("You are logged out.")  # after clear(): flashed messages live in the session
    return redirect(url_for("auth.login"))
