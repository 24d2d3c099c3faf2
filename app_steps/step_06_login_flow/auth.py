"""The password step: register, log in, log out, and the guards the other pages use."""
import functools
import re

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

import user_management

bp = Blueprint("auth", __name__)

USERNAME_PATTERN = "[A-Za-z0-9_.-]{3,32}"
MIN_PASSWORD, MAX_PASSWORD = 8, 256


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
        if g.user is None:
            if session.get("user_id") is not None:
                session.clear()  # the account is gone: forget it
            flash("Log in first.")
            return redirect(url_for("auth.login"))
        return view(**kwargs)
    return wrapped


def password_checked_user():
    """The user who passed the password step in this session, if any."""
    user_id = session.get("pending_user_id")
    return user_management.get_user(user_id) if user_id is not None else None
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
    session.clear()
    session["pending_user_id"] = user["id"]  # the password step only: not logged in yet
    if user["totp_secret"] is None:
        return redirect(url_for("two_factor.enable_2fa"))
    return redirect(url_for("two_factor.verify_2fa"))
# ANCHOR_END: login


@bp.post("/logout")
def logout():
    session.clear()
    flash("You are logged out.")  # after clear(): flashed messages live in the session
    return redirect(url_for("auth.login"))
