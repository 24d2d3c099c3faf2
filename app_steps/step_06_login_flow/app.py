"""Stage 6: a real login, with the 2FA page between the password and the dashboard.

Shaped like Flask's tutorial app (flaskr): this file is the application factory,
``auth.py`` is the password step, ``two_factor.py`` the code step and the
protected page, and ``user_management.py`` the database.

Run it from the repository root, either way:
    .venv/bin/python app_steps/step_06_login_flow/app.py
    .venv/bin/python -m flask --app app_steps/step_06_login_flow/app.py run --port 5006
"""
import os
import secrets
import time
from urllib.parse import urlsplit

from flask import Flask, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

# The folder is not a package: app.py imports its neighbours by their plain names.
import auth
import two_factor
import user_management


def create_app(test_config=None):
    app = Flask(__name__)
    app.config.from_mapping(
        CLOCK=time.time,
        DATABASE=os.path.join(app.instance_path, "users.sqlite"),
        PASSWORD_HASH_METHOD="scrypt",  # werkzeug's default: slow on purpose, against guessing
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
    if app.config.get("BEHIND_PROXY"):
        # Only a proxy we run (JupyterHub's) may say where the app lives: from
        # anyone else, X-Forwarded-Prefix would point links and redirects at their site.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)
    user_management.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(two_factor.bp)

    @app.get("/")
    def index():
        return redirect(url_for("two_factor.dashboard" if g.user else "auth.login"))

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
        return render_template("error.html", title=f"{error.code} {error.name}",
                               message=error.description), error.code

    return app


if __name__ == "__main__":
    create_app().run(port=int(os.environ.get("FLASK_RUN_PORT", 5000)))
