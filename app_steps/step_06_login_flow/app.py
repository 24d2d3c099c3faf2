"""Stage 6: a real login, with the 2FA page between the password and the dashboard.

Run it from the repository root, either way:
    python app_steps/step_06_login_flow/app.py
    flask --app app_steps/step_06_login_flow/app.py run --port 5006
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
from flask import Flask, flash, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import user_management

ISSUER = "Flask 2FA Workbook"
USERNAME_PATTERN = "[A-Za-z0-9_.-]{3,32}"
MIN_PASSWORD, MAX_PASSWORD = 8, 256


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
    """The six digits typed (spaces allowed, ASCII 0-9 only), or None."""
    if raw is None or len(raw) > 20:
        return None
    code = raw.replace(" ", "")
    return code if re.fullmatch("[0-9]{6}", code) else None


def create_app(test_config=None):
    app = Flask(__name__)
    app.config.from_mapping(
        CLOCK=time.time,
        DATABASE=os.path.join(app.instance_path, "users.sqlite"),
        # Browsers share cookies between ports of 127.0.0.1: a name of its own keeps
        # this stage's session apart from another stage running beside it.
        SESSION_COOKIE_NAME="stage6_session",
    )
    # FLASK_SECRET_KEY, FLASK_DATABASE, ... from the environment.
    app.config.from_prefixed_env()
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        # Never a fixed string in the source: anyone who reads it can sign cookies.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        app.logger.warning(
            "FLASK_SECRET_KEY is not set, so a random key is used: everyone is "
            "logged out whenever the app restarts."
        )
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=0, x_proto=0, x_host=0, x_prefix=1)
    user_management.init_app(app)

    def code_is_right(secret, code):
        # One step either side: phone clocks drift and people type slowly.
        return pyotp.TOTP(secret).verify(code, for_time=app.config["CLOCK"](), valid_window=1)

    # ANCHOR: guards
    def login_required(view):
        """Both factors passed in this session, or back to the login page."""
        @functools.wraps(view)
        def wrapped(**kwargs):
            user_id = session.get("user_id")
            if user_id is None or user_management.get_user(user_id) is None:
                if user_id is not None:
                    session.clear()  # the account is gone: forget it
                flash("Log in first.")
                return redirect(url_for("login"))
            return view(**kwargs)
        return wrapped

    def password_checked_user():
        """The user who passed the password step in this session, if any."""
        user_id = session.get("pending_user_id")
        return user_management.get_user(user_id) if user_id is not None else None
    # ANCHOR_END: guards

    def finish_login(user_id, message=None):
        # A fresh session at each step up, so nothing from before carries over.
        session.clear()
        session["user_id"] = user_id
        if message:
            flash(message)
        return redirect(url_for("dashboard"))

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

    # ANCHOR: login
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
        session.clear()
        session["pending_user_id"] = user["id"]  # the password step only: not logged in yet
        if user["totp_secret"] is None:
            return redirect(url_for("enable_2fa"))
        return redirect(url_for("verify_2fa"))
    # ANCHOR_END: login

    # ANCHOR: enable_2fa
    @app.route("/enable-2fa", methods=["GET", "POST"])
    def enable_2fa():
        user = password_checked_user()
        if user is None:
            flash("Log in first.")
            return redirect(url_for("login"))
        if user["totp_secret"] is not None:
            # Enrolled already: the QR code (the secret) is never shown again.
            return redirect(url_for("verify_2fa"))
        secret = user_management.pending_secret(user["id"], pyotp.random_base32())

        error, status = None, 200
        if request.method == "POST":
            code = normalise_code(request.form.get("otp"))
            if code is None:
                error, status = "Type the 6 digits your app shows, like 123 456.", 400
            elif not code_is_right(secret, code):
                error, status = "That code is not right. Check the app and try again.", 401
            else:
                user_management.turn_on_2fa(user["id"], secret)
                return finish_login(user["id"], "Two-factor authentication is on.")
        page = render_template(
            "enable_2fa.html",
            username=user["username"],
            qr_code=qr_data_uri(provisioning_uri(secret, user["username"])),
            manual_key=grouped(secret),
            error=error,
        )
        # A page that shows a secret must not be kept in any cache.
        return page, status, {"Cache-Control": "no-store"}
    # ANCHOR_END: enable_2fa

    # ANCHOR: verify_2fa
    @app.route("/verify-2fa", methods=["GET", "POST"])
    def verify_2fa():
        user = password_checked_user()
        if user is None:
            flash("Log in first.")
            return redirect(url_for("login"))
        if user["totp_secret"] is None:
            return redirect(url_for("enable_2fa"))
        if request.method == "GET":
            return render_template("verify_2fa.html")
        code = normalise_code(request.form.get("otp"))
        if code is None:
            return render_template("verify_2fa.html", error="Type the 6 digits your app shows, like 123 456."), 400
        if not code_is_right(user["totp_secret"], code):
            return render_template("verify_2fa.html", error="That code is not right. Try the one your app shows now."), 401
        return finish_login(user["id"])
    # ANCHOR_END: verify_2fa

    @app.get("/dashboard")
    @login_required
    def dashboard():
        user = user_management.get_user(session["user_id"])
        return render_template("dashboard.html", username=user["username"])

    @app.post("/logout")
    def logout():
        session.clear()
        flash("You are logged out.")  # after clear(): flashed messages live in the session
        return redirect(url_for("login"))

    # ANCHOR: relative_redirects
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
    # ANCHOR_END: relative_redirects

    @app.errorhandler(HTTPException)
    def http_error(error):
        # A short page that says what to do, never a stack trace.
        return render_template("error.html", problem=error), error.code

    return app


if __name__ == "__main__":
    create_app().run(port=int(os.environ.get("FLASK_RUN_PORT", 5000)))
