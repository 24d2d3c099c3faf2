"""Stage 1: prove that the four libraries of the workbook are installed.

Run it from the repository root, either way:
    .venv/bin/python app_steps/step_01_install/app.py
    .venv/bin/python -m flask --app app_steps/step_01_install/app.py run --port 5001
"""
import os
import io
from importlib import metadata

from flask import Flask
from markupsafe import escape
from werkzeug.middleware.proxy_fix import ProxyFix

# ANCHOR: imports
# The guide installs `qrcode` but imports `pyqrcode`: they are different
# projects. We use pyqrcode, and its .png() needs pypng (imported as `png`).
import png  # noqa: F401  (pyqrcode's .png() imports it; fail here if it is missing)
import pyotp
import pyqrcode

# ANCHOR_END: imports

# The name pip knows each library by, and the module it was imported as.
LIBRARIES = [("Flask", "flask"), ("pyotp", "pyotp"), ("PyQRCode", "pyqrcode"), ("pypng", "png")]


def installed_versions():
    """Map each library's pip name to its installed version."""
    return {name: metadata.version(name) for name, _module in LIBRARIES}


def libraries_work():
    """Use each library once, so the page proves more than a successful import."""
    secret = pyotp.random_base32()
    picture = io.BytesIO()
    pyqrcode.create(pyotp.TOTP(secret).provisioning_uri(name="test")).png(picture, scale=2)
    return len(secret), len(picture.getvalue())


def create_app(test_config=None):
    app = Flask(__name__)
    app.config.from_prefixed_env()
    if test_config:
        app.config.update(test_config)
    # Behind a proxy (Jupyter's on a hub, Codespaces' port forwarding) the browser's
    # address is not the one the app sees. FLASK_BEHIND_PROXY=1 (config BEHIND_PROXY)
    # says one proxy is in front: trust the X-Forwarded-For, -Proto, -Host and -Prefix
    # headers it sets. Without a proxy anyone could send them, so they are ignored.
    if app.config.get("BEHIND_PROXY"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)

    @app.get("/")
    def index():
        secret_length, png_size = libraries_work()
        rows = "".join(
            f"<li><strong>{escape(name)}</strong> {escape(version)}</li>"
            for name, version in installed_versions().items()
        )
        return (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<title>Stage 1: installed</title></head><body>"
            "<h1>Everything is installed</h1>"
            f"<p>Flask imported these libraries:</p><ul>{rows}</ul>"
            f"<p>pyotp made a {secret_length}-character secret; pyqrcode drew it as a QR code "
            f"and pypng saved that as a {png_size}-byte PNG.</p>"
            "</body></html>"
        )

    return app


if __name__ == "__main__":
    create_app().run(port=int(os.environ.get("FLASK_RUN_PORT", 5000)))
