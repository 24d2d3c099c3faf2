"""Stage 2: a session key that is not in the source, and one TOTP secret per user.

Run it from the repository root, either way:
    .venv/bin/python app_steps/step_02_secret_key/app.py
    .venv/bin/python -m flask --app app_steps/step_02_secret_key/app.py run --port 5002
"""
import os
import secrets
import time

import pyotp
from flask import Flask, session
from markupsafe import escape
from werkzeug.middleware.proxy_fix import ProxyFix


# ANCHOR: secret_key
def create_app(test_config=None):
    app = Flask(__name__)
    app.config.from_mapping(
        CLOCK=time.time,
        ACCOUNT_NAME="student",
        # Browsers share cookies between ports of 127.0.0.1: a name of its own keeps
        # this stage's session apart from another stage running beside it.
        SESSION_COOKIE_NAME="stage2_session",
    )
    # FLASK_SECRET_KEY in the environment becomes app.config["SECRET_KEY"].
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
    # ANCHOR_END: secret_key
    # FLASK_BEHIND_PROXY=1 says a proxy (Jupyter's, Codespaces') is in front: trust the
    # X-Forwarded-* headers it sets. Without one, anyone could send them: ignore them.
    if app.config.get("BEHIND_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)

    # ANCHOR: secret_store
    # TOTP secrets stay on the server. The session cookie is signed, not
    # encrypted: anyone can read it, so it only carries an id to look one up.
    # (Kept in memory here; stage 6 moves it into a database.)
    totp_secrets = {}

    def secret_for_this_session():
        enrolment_id = session.get("enrolment_id")
        if enrolment_id not in totp_secrets:
            enrolment_id = secrets.token_urlsafe(16)
            session["enrolment_id"] = enrolment_id
            totp_secrets[enrolment_id] = pyotp.random_base32()  # 160 random bits, made once
        return totp_secrets[enrolment_id]
    # ANCHOR_END: secret_store

    @app.get("/")
    def index():
        secret = secret_for_this_session()
        code = pyotp.TOTP(secret).at(app.config["CLOCK"]())
        grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
        page = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<title>Stage 2: your secret</title></head><body>"
            f"<h1>A TOTP secret for {escape(app.config['ACCOUNT_NAME'])}</h1>"
            f"<p>Your secret, kept on the server: <code>{escape(grouped)}</code></p>"
            f"<p>It gives the code <strong>{code}</strong> right now. Reload the page: "
            "the secret stays the same, the code changes every 30 seconds.</p>"
            "</body></html>"
        )
        # A page that shows a secret must not be kept in any cache.
        return page, {"Cache-Control": "no-store"}

    return app


if __name__ == "__main__":
    create_app().run(port=int(os.environ.get("FLASK_RUN_PORT", 5000)))
