"""The password step: register, log in, log out, and the guards the other pages use."""
import functools
import re

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for

import user_management

bp = Blueprint("auth", __name__)

USERNAME_PATTERN = "[A-Za-z0-9_.-]{3,32}"
MIN_PASSWORD, MAX_PASSWORD = 8, 256
PENDING_LOGIN_SECONDS = 10 * 60  # password done, code not yet: this long at most


def clock():
    """Now, as the app sees it: tests set ``CLOCK`` to a clock they move by hand."""
    return current_app.config["CLOCK"]()


# ANCHOR: session_renewal
def renew_session():
    """A new, empty session at each change of privilege (logged in, logged out, 2FA off).

    Whatever an attacker planted in the old one (a session fixation) is gone.
    The CSRF token lives in the session too, so forget the copy cached for this request.
    """
    session.clear()
    g.pop("csrf_token", None)
# ANCHOR_END: session_renewal


@bp.before_app_request
def load_logged_in_user():
    """``g.user``: the user who passed both factors in this session, or None. Read once per request."""
    user_id = session.get("user_id")
    g.user = user_management.get_user(user_id) if user_id is not None else None


# ANCHOR: guards
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
        if user_id is None or not isinstance(since, (int, float)):
            flash("Log in first.")
            return redirect(url_for("auth.login"))
        if not 0 <= clock() - since <= PENDING_LOGIN_SECONDS:
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
# ANCHOR_END: guards


@bp.route("/register", methods=["GET", "POST"])
def register():
    if request.method == "GET":
        return render_template("register.html")
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    if not re.fullmatch(USERNAME_PATTERN, username):
        error = "Choose a username of 3 to 32 letters, digits, dots, dashes or underscores."
        return render_template("register.html", error=error, username=username[:32]), 400
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        error = f"Choose a password of {MIN_PASSWORD} to {MAX_PASSWORD} characters."
        return render_template("register.html", error=error, username=username), 400
    if not user_management.create_user(username, password):
        error = "That username is taken: choose another."
        return render_template("register.html", error=error, username=username), 409
    flash("Account created. Log in to set up two-factor authentication.")
    return redirect(url_for("auth.login"))


# ANCHOR: login
@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html")
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    if not username or not password or len(username) > 64 or len(password) > MAX_PASSWORD:
        return render_template("login.html", error="Enter your username and password."), 400
    user = user_management.check_password(username, password)
    if user is None:
        # The same words whether the name or the password was wrong.
        return render_template("login.html", error="Wrong username or password."), 401
    renew_session()
    session["pending_user_id"] = user["id"]  # the password step only: not logged in yet
    session["pending_since"] = clock()       # a number: the pending login expires
    if user["totp_secret"] is None:
        return redirect(url_for("two_factor.enable_2fa"))
    return redirect(url_for("two_factor.verify_2fa"))
# ANCHOR_END: login


@bp.post("/logout")
def logout():
    renew_session()
    flash("You are logged out.")  # after clear(): flashed messages live in the session
    return redirect(url_for("auth.login"))
