"""Stage 4: the page moves into a Jinja template, with the form for the code.

Run it from the repository root, either way:
    .venv/bin/python app_steps/step_04_template/app.py
    .venv/bin/python -m flask --app app_steps/step_04_template/app.py run --port 5004
"""
import base64
import io
import os
import secrets
import time

import pyotp
import pyqrcode
from flask import Flask, render_template, session
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.middleware.proxy_fix import ProxyFix

ISSUER = "Flask 2FA Workbook"


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


def create_app(test_config=None):
    app = Flask(__name__)
    app.config.from_mapping(
        CLOCK=time.time,
        ACCOUNT_NAME="student",
        # Browsers share cookies between ports of 127.0.0.1: a name of its own keeps
        # this stage's session apart from another stage running beside it.
        SESSION_COOKIE_NAME="stage4_session",
    )
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
    # FLASK_BEHIND_PROXY=1 says a proxy (Jupyter's, Codespaces') is in front: trust the
    # X-Forwarded-* headers it sets. Without one, anyone could send them: ignore them.
    if app.config.get("BEHIND_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)

    # TOTP secrets stay on the server; the session cookie only carries an id.
    totp_secrets = {}

    def secret_for_this_session():
        enrolment_id = session.get("enrolment_id")
        if enrolment_id not in totp_secrets:
            enrolment_id = secrets.token_urlsafe(16)
            session["enrolment_id"] = enrolment_id
            totp_secrets[enrolment_id] = pyotp.random_base32()
        return totp_secrets[enrolment_id]

    # ANCHOR: home
    @app.get("/")
    def home():
        secret = secret_for_this_session()
        page = render_template(
            "index.html",
            account_name=app.config["ACCOUNT_NAME"],
            qr_code=qr_data_uri(provisioning_uri(secret, app.config["ACCOUNT_NAME"])),
            manual_key=grouped(secret),
        )
        # A page that shows a secret must not be kept in any cache.
        return page, {"Cache-Control": "no-store"}
    # ANCHOR_END: home

    @app.errorhandler(MethodNotAllowed)
    def form_not_wired_yet(error):
        message = "This page cannot check codes yet: stage 5 adds the route that verifies them."
        return render_template("error.html", title="Codes are not checked yet", message=message), 405

    return app


if __name__ == "__main__":
    create_app().run(port=int(os.environ.get("FLASK_RUN_PORT", 5000)))
