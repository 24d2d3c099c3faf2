"""Stage 7: the login flow of stage 6, hardened against the usual attacks.

Run it from the repository root, either way (both are debug mode, for your own machine):
    python app_steps/step_07_hardening/app.py
    flask --app app_steps/step_07_hardening/app.py run --debug --port 5007
Deployed, with several workers sharing one database:
    FLASK_SECRET_KEY=... gunicorn -w 4 --chdir app_steps/step_07_hardening 'app:create_app()'
"""
import base64
import functools
import io
import os
import re
import secrets
import time
from urllib.parse import urlsplit

import pyotp
import pyqrcode
from flask import Flask, flash, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from pyotp.exceptions import OTPVerificationError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import user_management

ISSUER = "Flask 2FA Workbook"
USERNAME_PATTERN = "[A-Za-z0-9_.-]{3,32}"
MIN_PASSWORD, MAX_PASSWORD = 8, 256
PENDING_LOGIN_SECONDS = 10 * 60  # password done, code not yet: this long at most
RECOVERY_CODE_COUNT = 10

# The browser loads nothing that does not come from this site (the QR code is an
# inline data: image), runs no inline script, and no other site may frame these pages.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def provisioning_uri(secret, account_name):
    """The otpauth:// URI that authenticator apps read from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=ISSUER)


def qr_data_uri(text):
    """``text`` as a QR code, in a PNG, in a data URI an <img> can show inline."""
    picture = io.BytesIO()
    pyqrcode.create(text, error="M").png(picture, scale=5)  # .png() needs pypng
    return "data:image/png;base64," + base64.b64encode(picture.getvalue()).decode("ascii")


def grouped(secret):
    """The secret in groups of four, easier to type than 32 characters in a row."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def normalise_code(raw):
    """The six digits typed (spaces allowed, ASCII 0-9 only), or None.

    [0-9] and fullmatch, not \\d and match: \\d also takes "١٢٣٤٥٦" and "１２３４５６",
    and match would let a trailing newline through.
    """
    if raw is None or len(raw) > 20:
        return None
    code = raw.replace(" ", "")
    return code if re.fullmatch("[0-9]{6}", code) else None


# ANCHOR: recovery_code_format
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32: no 0, 1, 8 or 9 to mistake for o, l, b, g


RECOVERY_CODE_LENGTH = 24  # 24 characters of 5 bits: 120 random bits


def new_recovery_code():
    """24 characters from ``secrets``, in groups of four: abcd-efgh-ijkm-nopq-rstu-vwxy."""
    code = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return "-".join(code[i:i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4))


def normalise_recovery_code(raw):
    """A recovery code as it was generated (any case, dashes and spaces optional), or None."""
    if raw is None or len(raw) > 60:
        return None
    code = raw.replace(" ", "").replace("-", "")
    if not re.fullmatch(f"[A-Za-z2-7]{{{RECOVERY_CODE_LENGTH}}}", code):
        return None
    code = code.lower()
    return "-".join(code[i:i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4))
# ANCHOR_END: recovery_code_format


def create_app(test_config=None):
    app = Flask(__name__)
    # ANCHOR: cookie_settings
    app.config.from_mapping(
        CLOCK=time.time,
        DATABASE=os.path.join(app.instance_path, "users.sqlite"),
        # Browsers share cookies between ports of 127.0.0.1: a name of its own keeps
        # this stage's session apart from another stage running beside it.
        SESSION_COOKIE_NAME="stage7_session",
        SESSION_COOKIE_HTTPONLY=True,   # page scripts cannot read the session cookie
        SESSION_COOKIE_SAMESITE="Lax",  # the browser leaves it out of other sites' POSTs
        # Sent over HTTPS only. Debug mode (flask run --debug, python app.py) is a
        # run on your own machine over plain HTTP, so there the default is off.
        SESSION_COOKIE_SECURE=not app.debug,
        MAX_CONTENT_LENGTH=8 * 1024,    # every form here is a few short fields
    )
    # ANCHOR_END: cookie_settings
    # FLASK_SECRET_KEY, FLASK_DATABASE, FLASK_SESSION_COOKIE_SECURE=false, ... from the environment.
    app.config.from_prefixed_env()
    if test_config:
        app.config.update(test_config)

    # ANCHOR: secret_key
    if not app.config.get("SECRET_KEY"):
        if not (app.debug or app.testing):
            # A random key would differ in each gunicorn worker: nobody could stay logged in.
            raise SystemExit(
                "FLASK_SECRET_KEY is not set: export FLASK_SECRET_KEY=$(python -c "
                "'import secrets; print(secrets.token_hex(32))'), or run it on your own machine "
                "with: flask --app app_steps/step_07_hardening/app.py run --debug"
            )
        # Never a fixed string in the source: anyone who reads it can sign cookies.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        app.logger.warning(
            "FLASK_SECRET_KEY is not set, so a random key is used: everyone is "
            "logged out whenever the app restarts."
        )
    # ANCHOR_END: secret_key
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=0, x_proto=0, x_host=0, x_prefix=1)
    user_management.init_app(app)

    # ANCHOR: csrf_setup
    # Every POST must carry the csrf_token hidden field that the form got from this
    # site, so another site cannot make your browser submit a form here.
    CSRFProtect(app)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        description = ("This form is out of date or did not come from this site, so nothing was "
                       "changed. Go back, reload the page and send the form again.")
        return render_template("error.html", problem=error, description=description), 400
    # ANCHOR_END: csrf_setup

    def clock():
        return app.config["CLOCK"]()

    def matching_timecode(secret, code):
        """The 30-second step whose code this is, or None if it matches none in the window."""
        try:
            # One step either side: phone clocks drift and people type slowly.
            return pyotp.TOTP(secret).verify_and_get_timecode(code, for_time=clock(), valid_window=1)
        except OTPVerificationError:
            return None

    # ANCHOR: session_renewal
    def renew_session():
        """A new, empty session at each change of privilege (logged in, logged out, 2FA off).

        Whatever an attacker planted in the old one (a session fixation) is gone.
        The CSRF token lives in the session too, so forget the copy cached for this request.
        """
        session.clear()
        g.pop("csrf_token", None)
    # ANCHOR_END: session_renewal

    def login_required(view):
        """Both factors passed in this session, or back to the login page."""
        @functools.wraps(view)
        def wrapped(**kwargs):
            user_id = session.get("user_id")
            user = user_management.get_user(user_id) if user_id is not None else None
            if user is None or user["totp_secret"] is None:
                if user_id is not None:
                    renew_session()  # the account is gone, or 2FA was turned off elsewhere
                flash("Log in first.")
                return redirect(url_for("login"))
            return view(user, **kwargs)
        return wrapped

    def password_step_required(view):
        """The password was right in this session, less than 10 minutes ago."""
        @functools.wraps(view)
        def wrapped(**kwargs):
            user_id, since = session.get("pending_user_id"), session.get("pending_since")
            if user_id is None or not isinstance(since, (int, float)):
                flash("Log in first.")
                return redirect(url_for("login"))
            if not 0 <= clock() - since <= PENDING_LOGIN_SECONDS:
                renew_session()
                flash("That login took more than 10 minutes. Log in again.")
                return redirect(url_for("login"))
            user = user_management.get_user(user_id)
            if user is None:
                renew_session()
                flash("Log in first.")
                return redirect(url_for("login"))
            return view(user, **kwargs)
        return wrapped

    def finish_login(user_id):
        renew_session()
        session["user_id"] = user_id

    def wait_message(wait):
        return f"Too many wrong codes in a row. Wait {wait} seconds, then try again."

    def too_many_attempts(template, wait):
        """429 with the form again, and Retry-After: the seconds until the next try."""
        return render_template(template, error=wait_message(wait)), 429, {"Retry-After": str(wait)}

    @app.get("/")
    def index():
        return redirect(url_for("dashboard" if session.get("user_id") else "login"))

    @app.route("/register", methods=["GET", "POST"])
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
        return redirect(url_for("login"))

    @app.route("/login", methods=["GET", "POST"])
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
            return redirect(url_for("enable_2fa"))
        return redirect(url_for("verify_2fa"))

    @app.route("/enable-2fa", methods=["GET", "POST"])
    @password_step_required
    def enable_2fa(user):
        if user["totp_secret"] is not None:
            # Enrolled already: the QR code (the secret) is never shown again.
            return redirect(url_for("verify_2fa"))
        secret = user_management.pending_secret(user["id"], pyotp.random_base32())

        def page(error=None, status=200, headers=()):
            html = render_template(
                "enable_2fa.html",
                username=user["username"],
                qr_code=qr_data_uri(provisioning_uri(secret, user["username"])),
                manual_key=grouped(secret),
                error=error,
            )
            # A page that shows a secret must not be kept in any cache.
            return html, status, {"Cache-Control": "no-store", **dict(headers)}

        if request.method == "GET":
            return page()
        code = normalise_code(request.form.get("otp"))
        if code is None:
            return page("Type the 6 digits your app shows, like 123 456.", 400)
        wait = user_management.start_attempt(user["id"], clock())
        if wait is not None:
            return page(wait_message(wait), 429, {"Retry-After": str(wait)})
        timecode = matching_timecode(secret, code)
        if timecode is None:
            return page("That code is not right. Check the app and try again.", 401)
        recovery_codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
        if not user_management.turn_on_2fa(user["id"], secret, timecode, recovery_codes):
            # Another request (another tab, another worker) turned 2FA on first.
            return redirect(url_for("verify_2fa"))
        # turn_on_2fa set the failed attempts back to 0, in the same transaction.
        finish_login(user["id"])
        flash("Two-factor authentication is on.")
        return redirect(url_for("recovery_codes"))

    @app.get("/recovery-codes")
    @login_required
    def recovery_codes(user):
        # Taken out of the database as they are shown: a reload shows nothing.
        codes = user_management.take_recovery_codes_to_show(user["id"])
        html = render_template("recovery_codes.html", codes=codes)
        return html, 200, {"Cache-Control": "no-store"}

    # ANCHOR: verify_2fa
    @app.route("/verify-2fa", methods=["GET", "POST"])
    @password_step_required
    def verify_2fa(user):
        if user["totp_secret"] is None:
            return redirect(url_for("enable_2fa"))
        if request.method == "GET":
            return render_template("verify_2fa.html")
        if "recovery_code" in request.form:  # the second form on the page
            return use_recovery_code(user)

        code = normalise_code(request.form.get("otp"))
        if code is None:
            return render_template("verify_2fa.html", error="Type the 6 digits your app shows, like 123 456."), 400
        wait = user_management.start_attempt(user["id"], clock())
        if wait is not None:
            return too_many_attempts("verify_2fa.html", wait)
        timecode = matching_timecode(user["totp_secret"], code)
        if timecode is None:
            return render_template("verify_2fa.html", error="That code is not right. Try the one your app shows now."), 401
        if not user_management.use_timecode(user["id"], timecode):
            error = "That code was used already. Wait for your app to show the next one."
            return render_template("verify_2fa.html", error=error), 401
        user_management.attempt_succeeded(user["id"])
        finish_login(user["id"])
        return redirect(url_for("dashboard"))

    def use_recovery_code(user):
        code = normalise_recovery_code(request.form.get("recovery_code"))
        if code is None:
            error = "Type one of your recovery codes, like abcd-efgh-ijkm-nopq-rstu-vwxy."
            return render_template("verify_2fa.html", error=error), 400
        wait = user_management.start_attempt(user["id"], clock())
        if wait is not None:
            return too_many_attempts("verify_2fa.html", wait)
        if not user_management.use_recovery_code(user["id"], code):
            error = "That recovery code is not right, or was used already."
            return render_template("verify_2fa.html", error=error), 401
        user_management.attempt_succeeded(user["id"])
        finish_login(user["id"])
        left = user_management.recovery_codes_left(user["id"])
        flash(f"You used a recovery code: {left} left. Each one works only once.")
        return redirect(url_for("dashboard"))
    # ANCHOR_END: verify_2fa

    @app.get("/dashboard")
    @login_required
    def dashboard(user):
        return render_template(
            "dashboard.html",
            username=user["username"],
            codes_waiting=user_management.has_recovery_codes_to_show(user["id"]),
        )

    @app.route("/disable-2fa", methods=["GET", "POST"])
    @login_required
    def disable_2fa(user):
        if request.method == "GET":
            return render_template("disable_2fa.html")
        password = request.form.get("password", "")
        code = normalise_code(request.form.get("otp"))
        if not password or len(password) > MAX_PASSWORD or code is None:
            error = "Type your password and the 6 digits your app shows now."
            return render_template("disable_2fa.html", error=error), 400
        wait = user_management.start_attempt(user["id"], clock())
        if wait is not None:
            return too_many_attempts("disable_2fa.html", wait)
        timecode = matching_timecode(user["totp_secret"], code)
        if (not user_management.password_is_right(user, password) or timecode is None
                or not user_management.use_timecode(user["id"], timecode)):
            # A fresh code, not the one used to log in: whoever holds only your
            # session (a browser left open) cannot turn 2FA off.
            error = "That password or code is not right. Wait for a new code and try again."
            return render_template("disable_2fa.html", error=error), 401
        user_management.attempt_succeeded(user["id"])
        user_management.turn_off_2fa(user["id"])
        renew_session()
        flash("Two-factor authentication is off. Log in again to set it up with a new QR code.")
        return redirect(url_for("login"))

    @app.post("/logout")
    def logout():
        renew_session()
        flash("You are logged out.")  # after clear(): flashed messages live in the session
        return redirect(url_for("login"))

    @app.after_request
    def relative_redirects(response):
        """Send redirects as paths relative to this page ("dashboard", not "/dashboard").

        Behind JupyterHub, url_for() already puts the proxy's /proxy/<port> prefix
        in front, and jupyter-server-proxy adds it again to any Location that
        starts with "/". A relative Location is right behind any proxy, and without one.
        """
        location = response.headers.get("Location", "")
        here = request.script_root + request.path
        folder = here[: here.rfind("/") + 1]
        if location.startswith(folder) and not urlsplit(location).netloc:
            response.headers["Location"] = location[len(folder):] or "./"
        return response

    # ANCHOR: security_headers
    @app.after_request
    def security_headers(response):
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"  # a file is what its type says
        response.headers["Referrer-Policy"] = "same-origin"     # addresses stay on this site
        return response
    # ANCHOR_END: security_headers

    @app.errorhandler(413)
    def too_large(error):
        description = "That was more than any form here sends. Go back and send just what the form asks for."
        return render_template("error.html", problem=error, description=description), 413

    @app.errorhandler(HTTPException)
    def http_error(error):
        # A short page that says what to do, never a stack trace.
        return render_template("error.html", problem=error, description=error.description), error.code

    return app


if __name__ == "__main__":
    # `python app.py` is a run on your own machine over plain HTTP: debug mode, as
    # with `flask run --debug` (a random key is allowed; the cookie is not marked Secure).
    os.environ.setdefault("FLASK_DEBUG", "1")
    create_app().run(port=int(os.environ.get("FLASK_RUN_PORT", 5000)), use_reloader=False)
