"""The code step: enrol once (QR code, first code), verify every later time, recovery codes,
the dashboard, and turning 2FA off."""
import base64
import io
import re
import secrets

import pyotp
import pyqrcode
from flask import Blueprint, flash, g, make_response, redirect, render_template, request, session, url_for
from pyotp.exceptions import OTPVerificationError

import passkeys  # stage 8
import user_management
from auth import (MAX_PASSWORD, clock, login_required, password_step_required, renew_session,
                  too_many_attempts, wait_message)

bp = Blueprint("two_factor", __name__)

ISSUER = "Flask 2FA Workbook"
RECOVERY_CODE_COUNT = 10
DISABLE_TRIES = 3  # wrong tries at /disable-2fa before the session ends


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


def matching_timecode(secret, code):
    """The 30-second step whose code this is, or None if it matches none in the window."""
    try:
        # One step either side: phone clocks drift and people type slowly.
        return pyotp.TOTP(secret).verify_and_get_timecode(code, for_time=clock(), valid_window=1)
    except OTPVerificationError:
        return None


def finish_login(user_id):
    """Both factors passed: a fresh cookie, and the server's row of this session under a new id."""
    token = user_management.promote_session(session["sid"], clock())
    renew_session()
    session["sid"] = token
    session["user_id"] = user_id


@bp.route("/enable-2fa", methods=["GET", "POST"])
@password_step_required
def enable_2fa(user):
    if user["totp_secret"] is not None:
        # Enrolled already: the QR code (the secret) is never shown again.
        return redirect(url_for("two_factor.verify_2fa"))
    # This session's own secret: another login to the same account gets another one.
    secret = user_management.enrol_secret(session["sid"], pyotp.random_base32())

    def page(error=None, status=200, headers=()):
        html = render_template(
            "enable_2fa.html",
            username=user["username"],
            qr_code=qr_data_uri(provisioning_uri(secret, user["username"])),
            manual_key=grouped(secret),
            error=error,
        )
        return html, status, dict(headers)

    if request.method == "GET":
        return page()
    code = normalise_code(request.form.get("otp"))
    if code is None:
        return page("Type the 6 digits your app shows, like 123 456.", 400)
    wait = user_management.start_attempt(user["id"], clock())
    if wait is not None:
        return page(wait_message(wait), 429, {"Retry-After": str(wait)} if wait != float("inf") else {})
    timecode = matching_timecode(secret, code)
    if timecode is None:
        return page("That code is not right. Check the app and try again.", 401)
    recovery_codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    if not user_management.turn_on_2fa(user["id"], secret, timecode, recovery_codes, clock(), session["sid"]):
        # Another request (another tab, another worker) turned 2FA on first.
        return redirect(url_for("two_factor.verify_2fa"))
    # turn_on_2fa set the failed attempts back to 0 and ended every other
    # session of this user, in the same transaction; finish_login gives this one a new id.
    finish_login(user["id"])
    flash("Two-factor authentication is on.")
    return redirect(url_for("two_factor.recovery_codes"))


@bp.route("/recovery-codes", methods=["GET", "POST"])
@login_required
def recovery_codes():
    if request.method == "POST":  # "I have saved them": only now does the plain copy go
        user_management.recovery_codes_saved(g.user["id"])
        return redirect(url_for("two_factor.dashboard"))
    # Reading changes nothing: a reload, a prefetch or a HEAD uses nothing up.
    codes = user_management.recovery_codes_to_show(g.user["id"], clock())
    return render_template("recovery_codes.html", codes=codes)


@bp.get("/recovery-codes.txt")
@login_required
def recovery_codes_file():
    """The same codes as a text file to save, while they are still shown."""
    codes = user_management.recovery_codes_to_show(g.user["id"], clock())
    if not codes:
        return redirect(url_for("two_factor.recovery_codes"))
    text = (f"Recovery codes for {g.user['username']} at {ISSUER}.\n"
            "Each one logs you in once instead of a code from your phone. Keep them away from it.\n\n"
            + "\n".join(codes) + "\n")
    response = make_response(text)
    response.mimetype = "text/plain"
    response.headers["Content-Disposition"] = 'attachment; filename="recovery-codes.txt"'
    return response


@bp.route("/verify-2fa", methods=["GET", "POST"])
@password_step_required
def verify_2fa(user):
    if user["totp_secret"] is None:
        return redirect(url_for("two_factor.enable_2fa"))
    # Stage 8: an account set to "passkeys only" takes no code (a relay cannot fall back to
    # asking for one); recovery codes still work, to get back in after losing the passkey.
    if passkeys.passkeys_only(user["id"]) and "recovery_code" not in request.form:
        status = 403 if request.method == "POST" else 200
        return render_template("verify_2fa.html", error=passkeys.PASSKEYS_ONLY_MESSAGE), status
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
    return redirect(url_for("two_factor.dashboard"))


def use_recovery_code(user):
    code = normalise_recovery_code(request.form.get("recovery_code"))
    if code is None:
        error = "Type one of your recovery codes, like abcd-efgh-ijkm-nopq-rstu-vwxy."
        return render_template("verify_2fa.html", error=error), 400
    # A limit of their own: someone guessing codes cannot lock the owner out of this way in.
    wait = user_management.start_attempt(user["id"], clock(), "recovery")
    if wait is not None:
        return too_many_attempts("verify_2fa.html", wait)
    if not user_management.use_recovery_code(user["id"], code):
        error = "That recovery code is not right, or was used already."
        return render_template("verify_2fa.html", error=error), 401
    user_management.attempt_succeeded(user["id"], "recovery")
    user_management.attempt_succeeded(user["id"])  # the owner is back: codes open again
    finish_login(user["id"])
    left = user_management.recovery_codes_left(user["id"])
    flash(f"You used a recovery code: {left} left. Each one works only once. "
          "Lost your phone? Turn two-factor authentication off below, then log in again to set up the new one.")
    return redirect(url_for("two_factor.dashboard"))


@bp.get("/dashboard")
@login_required
def dashboard():
    return render_template(
        "dashboard.html",
        username=g.user["username"],
        codes_waiting=bool(user_management.recovery_codes_to_show(g.user["id"], clock())),
    )


@bp.route("/disable-2fa", methods=["GET", "POST"])
@login_required
def disable_2fa():
    user = g.user
    if request.method == "GET":
        return render_template("disable_2fa.html")
    password = request.form.get("password", "")
    code = normalise_code(request.form.get("otp"))
    recovery_code = normalise_recovery_code(request.form.get("recovery_code"))
    if not password or len(password) > MAX_PASSWORD or (code is None and recovery_code is None):
        error = "Type your password, and the 6 digits your app shows now or one of your recovery codes."
        return render_template("disable_2fa.html", error=error), 400
    # Wrong tries count against this session, not the account: whoever holds a
    # stolen cookie ends their own session, and cannot lock the owner out.
    if not user_management.count_disable_failure(session["sid"], DISABLE_TRIES):
        return end_this_session()
    if not user_management.password_is_right(user, password):
        right = False
    elif code is not None:
        # A fresh code, not the one used to log in: whoever holds only your
        # session (a browser left open) cannot turn 2FA off.
        timecode = matching_timecode(user["totp_secret"], code)
        right = timecode is not None and user_management.use_timecode(user["id"], timecode)
    else:  # the phone is lost: an unused recovery code instead
        right = user_management.use_recovery_code(user["id"], recovery_code)
    if not right:
        error = "That password or code is not right. Wait for a new code and try again."
        return render_template("disable_2fa.html", error=error), 401
    user_management.turn_off_2fa(user["id"])  # and ends every session of this user
    renew_session()
    flash("Two-factor authentication is off. Log in again to set it up with a new QR code.")
    return redirect(url_for("auth.login"))


def end_this_session():
    user_management.end_session(session["sid"])
    renew_session()
    flash(f"{DISABLE_TRIES} wrong tries to turn 2FA off: this session has ended. Log in again.")
    return redirect(url_for("auth.login"))
