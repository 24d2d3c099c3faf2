"""The password step: register, log in, log out, and the guards the other pages use."""
import functools
import re

import pyotp
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from zxcvbn import zxcvbn

import devices
import events
import recovery_codes
import secrets_at_rest
import sessions
import throttle
import user_management

bp = Blueprint("auth", __name__)

SITE_NAME = "Flask 2FA Workbook"
USERNAME_PATTERN = "[A-Za-z0-9_.-]{3,32}"
MIN_PASSWORD, MAX_PASSWORD = 8, 256
ZXCVBN_LENGTH = 72  # zxcvbn refuses longer passwords; past 72 characters, length alone is strength
PENDING_LOGIN_SECONDS = sessions.PENDING_SECONDS  # password done, code not yet: this long at most
PURGE_EVERY = 60  # seconds between two sweeps of expired rows


def clock():
    """Now, as the app sees it: tests set ``CLOCK`` to a clock they move by hand."""
    return current_app.config["CLOCK"]()


def client_address():
    """The client's address: the TCP peer, or the proxy's X-Forwarded-For with FLASK_BEHIND_PROXY=1
    (ProxyFix, app.py: believed only then, since any client can send the header)."""
    return request.remote_addr or "unknown"


# ANCHOR: session_renewal
def renew_session():
    """A new, empty session at each change of privilege (logged in, logged out, new phone).

    Whatever an attacker planted in the old one (a session fixation) is gone.
    The CSRF token lives in the session too, so forget the copy cached for this request.
    """
    session.clear()
    g.pop("csrf_token", None)
# ANCHOR_END: session_renewal


def end_this_browsers_session():
    """A new login or registration in this browser: its earlier session ends on the server too."""
    if session.get("sid"):
        sessions.end_session(session["sid"])


# ANCHOR: server_sessions
def start_server_session(user_id, logged_in):
    """A fresh cookie session tied to a new row in the sessions table (ended there, it is over)."""
    end_this_browsers_session()
    renew_session()
    session["sid"] = sessions.start_session(user_id, clock(), logged_in)


@bp.before_app_request
def load_logged_in_user():
    """``g.user``: who passed both factors in this session, or None. Read once per request.

    The cookie alone proves nothing: its session must still exist on the server
    (logging out, a new phone or a new password deletes it there) and must have
    been used in the last 30 minutes, and started less than 12 hours ago.
    """
    g.user = g.server_session = None
    if request.endpoint == "static":
        return
    purge_expired()
    token = session.get("sid")
    if token is None:
        if "user_id" in session or "pending_user_id" in session or "registering" in session:
            renew_session()  # not one of ours: a cookie from before, or a forgery
        return
    config = current_app.config
    row = sessions.find_session(token, clock(), config["SESSION_IDLE_SECONDS"], config["SESSION_MAX_SECONDS"])
    registering = row is not None and row["user_id"] is None and session.get("registering")
    if row is None or not (registering or row["user_id"] in (session.get("user_id"), session.get("pending_user_id"))):
        renew_session()
        flash("Your session has ended. Log in again.")
        return
    g.server_session = row
    if row["logged_in"] and session.get("user_id") == row["user_id"]:
        user = user_management.get_user(row["user_id"])
        # Both factors: an account without a phone (an older stage 7's) is never signed in.
        g.user = user if user is not None and user["totp_secret"] is not None else None
# ANCHOR_END: server_sessions


def purge_expired():
    """At most once a minute: delete what has expired for everyone, not only for who comes back
    (sessions, unfinished registrations, unsaved recovery codes, old failures and trust)."""
    now, state = clock(), current_app.extensions.setdefault("stage7_purge", {"last": None})
    if state["last"] is not None and 0 <= now - state["last"] < PURGE_EVERY:
        return
    state["last"] = now
    config = current_app.config
    sessions.purge(now, config["SESSION_IDLE_SECONDS"], config["SESSION_MAX_SECONDS"])
    recovery_codes.purge(now)
    throttle.purge(now)
    devices.purge(now)
    events.purge(now)


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


def _pending_expired():
    since = session.get("pending_since")
    return not isinstance(since, (int, float)) or not 0 <= clock() - since <= PENDING_LOGIN_SECONDS


def _back_to(endpoint, message):
    if session.get("sid"):
        sessions.end_session(session["sid"])
    renew_session()
    flash(message)
    return redirect(url_for(endpoint))


def password_checked_user():
    """The user who passed the password step in this session, if any."""
    user_id = session.get("pending_user_id")
    return user_management.get_user(user_id) if user_id is not None else None


def password_step_required(view):
    """The password was right in this session, less than 10 minutes ago."""
    @functools.wraps(view)
    def wrapped(**kwargs):
        user_id, row = session.get("pending_user_id"), g.server_session
        if user_id is None or row is None or row["logged_in"]:
            flash("Log in first.")
            return redirect(url_for("auth.login"))
        if _pending_expired():
            return _back_to("auth.login", "That login took more than 10 minutes. Log in again.")
        user = password_checked_user()
        if user is None:
            renew_session()
            flash("Log in first.")
            return redirect(url_for("auth.login"))
        return view(user, **kwargs)
    return wrapped


def registration_required(view):
    """A registration under way in this session, less than 10 minutes old: the row holds its name."""
    @functools.wraps(view)
    def wrapped(**kwargs):
        row = g.server_session
        if not session.get("registering") or row is None or row["reserved_name"] is None:
            if g.user is not None:  # signed in: the phone is set up already
                return redirect(url_for("two_factor.dashboard"))
            if session.get("pending_user_id") is not None:
                return redirect(url_for("two_factor.verify_2fa"))
            flash("Register, or log in, first.")
            return redirect(url_for("auth.login"))
        if _pending_expired():
            return _back_to("auth.register", "That registration took more than 10 minutes. Register again.")
        return view(row, **kwargs)
    return wrapped


def wait_message(wait):
    if wait > 24 * 3600:  # a ceiling: days, not a pause
        return (f"Too many wrong tries: this way in is closed for {round(wait / (24 * 3600)) or 1} days. "
                "A browser you signed in with before counts its own tries, so it may still let you in.")
    return f"Too many wrong tries. Wait {throttle.retry_after(wait)} seconds, then try again."


def too_many_attempts(template, wait, **context):
    """429 with the form again, and Retry-After: the seconds until the next try."""
    return (render_template(template, error=wait_message(wait), **context), 429,
            {"Retry-After": str(throttle.retry_after(wait))})


def password_problem(password, username):
    """What is wrong with a new password, or None.

    Length, then guessability: zxcvbn knows the passwords that leak most often
    (12345678, iloveyou, ...), keyboard walks, dates, l33t spellings, and the
    username and the site's name. Score 3: about 10^8 guesses or more.
    """
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return f"Choose a password of {MIN_PASSWORD} to {MAX_PASSWORD} characters."
    if not password.strip():
        return "A password of spaces only is easy to guess: choose another."
    user_inputs = [SITE_NAME, *SITE_NAME.lower().split(), username]
    if zxcvbn(password[:ZXCVBN_LENGTH], user_inputs=user_inputs)["score"] < 3:
        return ("That password is too easy to guess: a common one, a word with digits or a year, "
                "or close to your name or to the name of this site. Choose another, for example four random words.")
    return None


@bp.route("/register", methods=["GET", "POST"])
def register():
    if request.method != "POST":
        return render_template("register.html")
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    if not re.fullmatch(USERNAME_PATTERN, username):
        error = "Choose a username of 3 to 32 letters, digits, dots, dashes or underscores."
        return render_template("register.html", error=error, username=username[:32]), 400
    error = password_problem(password, username)
    if error:
        return render_template("register.html", error=error, username=username), 400
    # Each registration costs a slow password hash: a few an hour from one address.
    attempt = throttle.start_attempt(f"address:{client_address()}", "register", "-", clock())
    if attempt.wait is not None:
        return too_many_attempts("register.html", attempt.wait, username=username)
    taken = "That username is taken: choose another."
    if sessions.name_taken(username, clock()):
        return render_template("register.html", error=taken, username=username), 409
    password_hash = user_management.hash_password(password)
    secret = secrets_at_rest.encrypt(pyotp.random_base32())
    end_this_browsers_session()
    token = sessions.start_registration(username, password_hash, secret, clock())
    if token is None:
        return render_template("register.html", error=taken, username=username), 409
    renew_session()
    session["sid"] = token
    session["registering"] = True
    session["pending_since"] = clock()
    # No account yet: it is made when a code from the phone is right, in this session.
    return redirect(url_for("two_factor.enable_2fa"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method != "POST":
        return render_template("login.html")
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    if not username or not password or len(username) > 64 or len(password) > MAX_PASSWORD:
        return render_template("login.html", error="Enter your username and password."), 400
    now = clock()
    user = user_management.account_named(username)
    device = devices.trusted(user["id"], now) if user else None
    if user is None:
        # Names that are not accounts: counted per client address, like a stranger's guesses.
        attempt = throttle.start_attempt(f"address:{client_address()}", "unknown_name", "-", now)
    else:
        # A browser this account trusts counts alone; every other one shares the strangers' count.
        attempt = throttle.start_attempt(f"user:{user['id']}", "password", device or throttle.STRANGERS, now)
    if attempt.wait is not None:
        return too_many_attempts("login.html", attempt.wait)
    if user_management.check_password(user, password) is None:
        if user is not None and device is None:
            events.record(user, "password_failed", now)
        # The same words whether the name or the password was wrong.
        return render_template("login.html", error="Wrong username or password."), 401
    throttle.attempt_succeeded(attempt)
    throttle.end_pause(f"address:{client_address()}", "unknown_name", "-")
    if user["totp_secret"] is None:
        # An account of an older stage 7 without a phone: a password alone never enrols one.
        message = ("This account has no authenticator app, and a password alone cannot add one "
                   "(anyone who knows it could). Register a new account.")
        return render_template("login.html", error=message), 403
    start_server_session(user["id"], logged_in=False)
    session["pending_user_id"] = user["id"]  # the password step only: not logged in yet
    session["pending_since"] = now           # a number: the pending login expires
    return redirect(url_for("two_factor.verify_2fa"))


@bp.post("/logout")
def logout():
    if g.user is not None:
        sessions.end_all_sessions(g.user["id"])  # this browser, and every copy of its cookie
    elif session.get("sid"):
        sessions.end_session(session["sid"])
    renew_session()  # the device cookie stays: it marks this browser, not a session
    flash("You are logged out.")  # after clear(): flashed messages live in the session
    return redirect(url_for("auth.login"))
