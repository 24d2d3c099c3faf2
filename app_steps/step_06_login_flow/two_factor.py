"""The code step: enrol once (QR code, first code), verify every later time, then the dashboard."""
import base64
import io
import re

import pyotp
import pyqrcode
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for

import user_management
from auth import login_required, password_checked_user

bp = Blueprint("two_factor", __name__)

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


def normalise_code(raw):
    """The six digits typed (spaces allowed, ASCII 0-9 only), or None."""
    if raw is None or len(raw) > 20:
        return None
    code = raw.replace(" ", "")
    return code if re.fullmatch("[0-9]{6}", code) else None


def code_is_right(secret, code):
    # One step either side: phone clocks drift and people type slowly.
    return pyotp.TOTP(secret).verify(code, for_time=current_app.config["CLOCK"](), valid_window=1)


def finish_login(user_id, message=None):
    # A fresh session at each step up, so nothing from before carries over.
    session.clear()
    session["user_id"] = user_id
    if message:
        flash(message)
    return redirect(url_for("two_factor.dashboard"))


# ANCHOR: enable_2fa
@bp.route("/enable-2fa", methods=["GET", "POST"])
def enable_2fa():
    user = password_checked_user()
    if user is None:
        flash("Log in first.")
        return redirect(url_for("auth.login"))
    if user["totp_secret"] is not None:
        # Enrolled already: the QR code (the secret) is never shown again.
        return redirect(url_for("two_factor.verify_2fa"))
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
@bp.route("/verify-2fa", methods=["GET", "POST"])
def verify_2fa():
    user = password_checked_user()
    if user is None:
        flash("Log in first.")
        return redirect(url_for("auth.login"))
    if user["totp_secret"] is None:
        return redirect(url_for("two_factor.enable_2fa"))
    if request.method == "GET":
        return render_template("verify_2fa.html")
    code = normalise_code(request.form.get("otp"))
    if code is None:
        return render_template("verify_2fa.html", error="Type the 6 digits your app shows, like 123 456."), 400
    if not code_is_right(user["totp_secret"], code):
        return render_template("verify_2fa.html", error="That code is not right. Try the one your app shows now."), 401
    return finish_login(user["id"])
# ANCHOR_END: verify_2fa


@bp.get("/dashboard")
@login_required
def dashboard():
    return render_template("dashboard.html", username=g.user["username"])
