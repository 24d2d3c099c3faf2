"""Stage 7: the login flow of stage 6, hardened against the usual attacks.

Shaped like Flask's tutorial app (flaskr): this file is the application factory;
``auth.py`` (the password step) and ``two_factor.py`` (the code step and the pages
behind it) are the views; the rest are the rooms they use: ``db.py`` (SQLite),
``user_management.py`` (accounts, passwords), ``sessions.py`` (server-side sessions),
``throttle.py`` (counting failures), ``devices.py`` (device cookies),
``recovery_codes.py``, ``events.py`` (security events) and ``secrets_at_rest.py``
(the TOTP secrets, encrypted).

Run it on your own machine from the repository root, either way (a local run over
plain HTTP, without the debugger; keys are made for you):
    .venv/bin/python app_steps/step_07_hardening/app.py
    FLASK_LOCAL_RUN=1 .venv/bin/python -m flask --app app_steps/step_07_hardening/app.py run --port 5007
Deployed, with several workers sharing one database:
    FLASK_SECRET_KEY=... FLASK_TOTP_ENCRYPTION_KEYS=... gunicorn -w 4 --chdir app_steps/step_07_hardening 'app:create_app()'
"""
import os
import re
import secrets
import time
from urllib.parse import urlsplit

from flask import Flask, g, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

# The folder is not a package: app.py imports its neighbours by their plain names.
import auth
import db
import devices
import events
import secrets_at_rest
import throttle  # noqa: F401 (the lesson reads its numbers through this module)
import two_factor

# The browser loads nothing that does not come from this site (the QR code is an
# inline data: image), runs no inline script, and no other site may frame these pages.
# base-uri and object-src are not covered by default-src: without them an injected
# <base href> would send every relative link and form elsewhere, and <object> runs plugins.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

MIN_SECRET_KEY = 32  # characters: secrets.token_hex(32) gives 64
# What X-Forwarded-Prefix may say: a path such as /user/ana/proxy/5007, never //host or a URL.
PROXY_PREFIX = re.compile(r"(/[A-Za-z0-9._~-]+)*/?")


class ConfigurationError(RuntimeError):
    """A setting the app cannot run with safely; the message says how to fix it.

    Raised, not SystemExit: gunicorn answers a worker's SystemExit by starting
    another worker, forever, while an exception at start-up stops it with the message.
    """


def guessable_key(key):
    """Why ``key`` is no secret (a reason), or None. Length first, then what no random key looks like."""
    text = key.decode("latin-1") if isinstance(key, bytes) else key
    if len(text) < MIN_SECRET_KEY:
        return f"has {len(text)} characters; use at least {MIN_SECRET_KEY} random ones"
    if re.fullmatch(r"(.+?)\1+", text, re.S):
        return "is one character or word repeated"
    if text.isdigit():
        return "is a number"
    if len(set(text)) < 8:
        return "uses fewer than 8 different characters"
    return None


def one_path_prefix(wsgi_app):
    """Drop an X-Forwarded-Prefix that is not a plain path: //evil.example would make every
    redirect and link point at that host."""
    def guarded(environ, start_response):
        prefix = environ.get("HTTP_X_FORWARDED_PREFIX")
        if prefix is not None and not PROXY_PREFIX.fullmatch(prefix):
            del environ["HTTP_X_FORWARDED_PREFIX"]
        return wsgi_app(environ, start_response)
    return guarded


def create_app(test_config=None):
    app = Flask(__name__)
    # ANCHOR: cookie_settings
    app.config.from_mapping(
        CLOCK=time.time,
        DATABASE=os.path.join(app.instance_path, "users.sqlite"),
        PASSWORD_HASH_METHOD="argon2id",  # slow on purpose, and memory-hard, against guessing
        # Browsers share cookies between ports of 127.0.0.1: a name of its own keeps
        # this stage's session apart from another stage running beside it.
        SESSION_COOKIE_NAME="stage7_session",
        DEVICE_COOKIE_NAME="stage7_device",  # devices.py: the browsers an account trusts
        SESSION_COOKIE_HTTPONLY=True,   # page scripts cannot read the session cookie
        SESSION_COOKIE_SAMESITE="Lax",  # the browser leaves it out of other sites' POSTs
        # Sent over HTTPS only (None: decided below). A local run (FLASK_LOCAL_RUN=1,
        # python app.py) or debug mode is on your own machine over plain HTTP: there it is off.
        SESSION_COOKIE_SECURE=None,
        MAX_CONTENT_LENGTH=8 * 1024,    # every form here is a few short fields
        # A session ends after 30 minutes without a request, and 12 hours after
        # its login whatever happens; the server checks both (auth.py).
        SESSION_IDLE_SECONDS=30 * 60,
        SESSION_MAX_SECONDS=12 * 3600,
        PERMANENT_SESSION_LIFETIME=12 * 3600,  # and Flask refuses an older signature
        NOTIFY=events.log_event,  # NOTIFY(username, event): a real app sends the owner an e-mail
    )
    # ANCHOR_END: cookie_settings
    # FLASK_SECRET_KEY, FLASK_DATABASE, FLASK_SESSION_COOKIE_SECURE=false, ... from the environment.
    app.config.from_prefixed_env()
    if test_config:
        app.config.update(test_config)
    local = bool(app.debug or app.config.get("LOCAL_RUN"))
    if app.config["SESSION_COOKIE_SECURE"] is None:
        app.config["SESSION_COOKIE_SECURE"] = not local
    if app.config["SESSION_COOKIE_SECURE"] and not app.config["SESSION_COOKIE_NAME"].startswith("__Host-"):
        # __Host-: the browser takes this cookie only over HTTPS, from this very host, for path /.
        app.config["SESSION_COOKIE_NAME"] = "__Host-" + app.config["SESSION_COOKIE_NAME"]

    # ANCHOR: secret_key
    key = app.config.get("SECRET_KEY")
    how = ("export FLASK_SECRET_KEY=$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(32))'), "
           "or, on your own machine, run it as: .venv/bin/python app_steps/step_07_hardening/app.py")
    if key is not None and not isinstance(key, (str, bytes)):
        # FLASK_SECRET_KEY=123456 is read as the number 123456, which cannot sign anything.
        raise ConfigurationError(f"FLASK_SECRET_KEY must be text, not a {type(key).__name__}: {how}")
    if not (local or app.testing):
        if not key:
            # A random key would differ in each gunicorn worker: nobody could stay logged in.
            raise ConfigurationError(f"FLASK_SECRET_KEY is not set: {how}")
        if reason := guessable_key(key):
            raise ConfigurationError(f"FLASK_SECRET_KEY {reason}: {how}")
    if not key:
        # Never a fixed string in the source: anyone who reads it can sign cookies.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        app.logger.warning(
            "FLASK_SECRET_KEY is not set, so a random key is used: everyone is "
            "logged out whenever the app restarts."
        )
    # ANCHOR_END: secret_key
    configure_totp_keys(app, local)
    if app.config.get("BEHIND_PROXY"):
        # Only a proxy we run (JupyterHub's) may say where the app lives: from
        # anyone else, X-Forwarded-Prefix would point links and redirects at their site.
        app.wsgi_app = one_path_prefix(ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1))
    db.init_app(app)
    devices.init_app(app)
    with app.app_context():
        secrets_at_rest.encrypt_all(db.get_db())
        db.close_db()

    # ANCHOR: csrf_setup
    # Every POST must carry the csrf_token hidden field that the form got from this
    # site, so another site cannot make your browser submit a form here.
    CSRFProtect(app)
    # ANCHOR_END: csrf_setup

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        message = ("This form is out of date or did not come from this site, so nothing was "
                   "changed. Go back, reload the page and send the form again.")
        return render_template("error.html", title="Form out of date", message=message), 400

    app.register_blueprint(auth.bp)
    app.register_blueprint(two_factor.bp)

    @app.get("/")
    def index():
        return redirect(url_for("two_factor.dashboard" if g.user else "auth.login"))

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
        if request.endpoint != "static":
            # Pages behind the password (and the forms with their tokens) stay out of
            # every cache: the back button on a shared computer shows nothing.
            response.headers["Cache-Control"] = "no-store"
        if app.config["SESSION_COOKIE_SECURE"]:
            # The cookie goes over HTTPS only, so the site is HTTPS only: the browser
            # remembers that for a year and never tries plain HTTP first.
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response
    # ANCHOR_END: security_headers

    @app.errorhandler(413)
    def too_large(error):
        message = "That was more than any form here sends. Go back and send just what the form asks for."
        return render_template("error.html", title="Too much data", message=message), 413

    @app.errorhandler(HTTPException)
    def http_error(error):
        # A short page that says what to do, never a stack trace.
        return render_template("error.html", title=f"{error.code} {error.name}",
                               message=error.description), error.code

    return app


def configure_totp_keys(app, local):
    """TOTP_ENCRYPTION_KEYS (FLASK_TOTP_ENCRYPTION_KEYS, comma-separated): required like SECRET_KEY.

    On your own machine (a local run, debug mode) and in tests, a key is made once in the
    instance folder (mode 0600) and kept there: the secrets must still open after a restart.
    """
    how = ("export FLASK_TOTP_ENCRYPTION_KEYS=$(.venv/bin/python -c "
           "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'), "
           "and keep it: without it no TOTP secret in the database can be read. To rotate, put a new key "
           "first, followed by a comma and the old one")
    setting = app.config.get("TOTP_ENCRYPTION_KEYS")
    if setting:
        try:
            keys = secrets_at_rest.parse_keys(setting)
        except (ValueError, TypeError):
            raise ConfigurationError(f"FLASK_TOTP_ENCRYPTION_KEYS must be Fernet keys, comma-separated: {how}") from None
    elif local or app.testing:
        keys = secrets_at_rest.key_file_keys(app.instance_path)
    else:
        raise ConfigurationError(f"FLASK_TOTP_ENCRYPTION_KEYS is not set: {how}")
    secrets_at_rest.init_app(app, keys)


if __name__ == "__main__":
    # `python app.py` is a run on your own machine over plain HTTP, without the debugger:
    # keys are made for you (the cookie is not marked Secure). Never on a machine others reach.
    os.environ.setdefault("FLASK_LOCAL_RUN", "1")
    create_app().run(port=int(os.environ.get("FLASK_RUN_PORT", 5000)), use_reloader=False)
