"""The code step: enrol (QR code, first code), verify every later time, recovery codes,
the dashboard, replacing the phone and changing the password."""
import base64
import io
import re
import secrets

import pyotp
import pyqrcode
from flask import Blueprint, flash, g, make_response, redirect, render_template, request, session, url_for
from pyotp.exceptions import OTPVerificationError

import devices
import events
import passkey_accounts  # stage 8
import recovery_codes as stored_codes
import secrets_at_rest
import sessions
import throttle
import user_management
from auth import (MAX_PASSWORD, PENDING_LOGIN_SECONDS, clock, login_required, password_problem,
                  password_step_required, registration_required, renew_session, too_many_attempts)

bp = Blueprint("two_factor", __name__)

ISSUER = "Flask 2FA Workbook"
RECOVERY_CODE_COUNT = 10
REAUTH_TRIES = 3  # wrong tries at /replace-phone or /change-password before the session ends


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
    if secret is None:  # no key given opens the stored secret
        return None
    try:
        # One step either side: phone clocks drift and people type slowly.
        return pyotp.TOTP(secret).verify_and_get_timecode(code, for_time=clock(), valid_window=1)
    except OTPVerificationError:
        return None


def new_recovery_codes():
    return [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]


def finish_login(user, first=False):
    """Both factors passed: a fresh cookie, the server's row of this session under a new id,
    this browser trusted for the account, and a word on what happened since the last sign-in."""
    now = clock()
    token = sessions.promote_session(session["sid"], now, user["id"])
    renew_session()
    session["sid"] = token
    session["user_id"] = user["id"]
    if devices.trust(user["id"], now) and not first:
        events.record(user, "new_trusted_browser", now)
    before = user_management.signed_in(user["id"], now)
    if not first:
        failed = events.failures_since(user["id"], before)
        flash(f"{failed} failed attempt{'' if failed == 1 else 's'} since your last sign-in."
              + (" See the recent activity below." if failed else ""))


def enrolment_page(template, secret, username, error=None, status=200, **context):
    html = render_template(
        template,
        username=username,
        qr_code=qr_data_uri(provisioning_uri(secret, username)),
        manual_key=grouped(secret),
        error=error,
        **context,
    )
    return html, status


@bp.route("/enable-2fa", methods=["GET", "POST"])
@registration_required
def enable_2fa(row):
    """The registering session's QR code; its right code makes the account."""
    username = row["reserved_name"]
    secret = secrets_at_rest.decrypt(row["enrol_secret"])
    if secret is None:  # (the key that encrypted it is gone)
        secret = pyotp.random_base32()
        stored = sessions.enrol_secret(session["sid"], secrets_at_rest.encrypt(secret))
        secret = secrets_at_rest.decrypt(stored) if stored else secret
    if request.method != "POST":
        return enrolment_page("enable_2fa.html", secret, username)
    code = normalise_code(request.form.get("otp"))
    if code is None:
        return enrolment_page("enable_2fa.html", secret, username, "Type the 6 digits your app shows, like 123 456.", 400)
    timecode = matching_timecode(secret, code)
    if timecode is None:
        return enrolment_page("enable_2fa.html", secret, username,
                              "That code is not right. Check the app and try again.", 401)
    user_id = user_management.create_user(session["sid"], secret, timecode, new_recovery_codes(), clock())
    if user_id is None:
        # Another request of this session (a double click, another tab) made the account
        # first, or the session ended meanwhile (a logout in another tab).
        flash("This registration is over. If you confirmed it a moment ago, log in; if not, register again.")
        return redirect(url_for("auth.login"))
    finish_login(user_management.get_user(user_id), first=True)
    flash("Your account is ready, with two-factor authentication on.")
    return redirect(url_for("two_factor.recovery_codes"))


@bp.route("/recovery-codes", methods=["GET", "POST"])
@login_required
def recovery_codes():
    if request.method == "POST":  # "I have saved them": only now does the plain copy go
        stored_codes.saved(g.user["id"])
        return redirect(url_for("two_factor.dashboard"))
    # Reading changes nothing: a reload, a prefetch or a HEAD uses nothing up.
    codes = stored_codes.to_show(g.user["id"], clock())
    return render_template("recovery_codes.html", codes=codes)


@bp.get("/recovery-codes.txt")
@login_required
def recovery_codes_file():
    """The same codes as a text file to save, while they are still shown."""
    codes = stored_codes.to_show(g.user["id"], clock())
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
    # Stage 8: an account set to "passkeys only" takes no code (a relay cannot fall back to
    # asking for one); recovery codes still work, to get back in after losing the passkey.
    if passkey_accounts.passkeys_only(user["id"]) and "recovery_code" not in request.form:
        status = 403 if request.method == "POST" else 200
        return render_template("verify_2fa.html", error=passkey_accounts.PASSKEYS_ONLY_MESSAGE), status
    if request.method != "POST":
        return render_template("verify_2fa.html")
    if "recovery_code" in request.form:  # the second form on the page
        return use_recovery_code(user)

    code = normalise_code(request.form.get("otp"))
    if code is None:
        return render_template("verify_2fa.html", error="Type the 6 digits your app shows, like 123 456."), 400
    now = clock()
    # A browser the account trusts has its own count; strangers share one.
    bucket = devices.trusted(user["id"], now) or throttle.STRANGERS
    attempt = throttle.start_attempt(f"user:{user['id']}", "code", bucket, now)
    if attempt.wait is not None:
        return too_many_attempts("verify_2fa.html", attempt.wait)
    timecode = matching_timecode(user_management.totp_secret(user), code)
    if timecode is None:
        events.record(user, "code_failed", now)
        return render_template("verify_2fa.html", error="That code is not right. Try the one your app shows now."), 401
    if not user_management.use_timecode(user["id"], timecode):
        error = "That code was used already. Wait for your app to show the next one."
        return render_template("verify_2fa.html", error=error), 401
    throttle.attempt_succeeded(attempt)
    finish_login(user)
    return redirect(url_for("two_factor.dashboard"))


def use_recovery_code(user):
    code = normalise_recovery_code(request.form.get("recovery_code"))
    if code is None:
        error = "Type one of your recovery codes, like abcd-efgh-ijkm-nopq-rstu-vwxy."
        return render_template("verify_2fa.html", error=error), 400
    now = clock()
    bucket = devices.trusted(user["id"], now) or throttle.STRANGERS
    # Counts of their own: someone guessing codes cannot close this way in for the owner.
    attempt = throttle.start_attempt(f"user:{user['id']}", "recovery", bucket, now)
    if attempt.wait is not None:
        return too_many_attempts("verify_2fa.html", attempt.wait)
    if not stored_codes.use(user["id"], code):
        events.record(user, "recovery_code_failed", now)
        error = "That recovery code is not right, or was used already."
        return render_template("verify_2fa.html", error=error), 401
    throttle.attempt_succeeded(attempt)
    throttle.end_pause(f"user:{user['id']}", "code", bucket)  # the owner is back: the code pause ends
    left = stored_codes.left(user["id"])
    events.record(user, "recovery_code_used", now, f"A recovery code was used to sign in: {left} left.")
    finish_login(user)
    flash(f"You used a recovery code: {left} left. Each one works only once. "
          "Lost your phone? Replace it below.")
    return redirect(url_for("two_factor.dashboard"))


@bp.get("/dashboard")
@login_required
def dashboard():
    return render_template(
        "dashboard.html",
        username=g.user["username"],
        codes_waiting=bool(stored_codes.to_show(g.user["id"], clock())),
        activity=events.recent(g.user["id"]),
    )


def check_factors(template):
    """The password, and a fresh code or an unused recovery code, of the user signed in here.

    None when right; else the page to answer with. Wrong tries count against this session
    (3, then it ends), not the account: whoever holds a stolen cookie cannot lock the owner out.
    """
    user = g.user
    password = request.form.get("password", "")
    code = normalise_code(request.form.get("otp"))
    recovery_code = normalise_recovery_code(request.form.get("recovery_code"))
    if not password or len(password) > MAX_PASSWORD or (code is None and recovery_code is None):
        error = "Type your password, and the 6 digits your app shows now or one of your recovery codes."
        return render_template(template, error=error), 400
    if not sessions.count_reauth_failure(session["sid"], REAUTH_TRIES):
        sessions.end_session(session["sid"])
        renew_session()
        flash(f"{REAUTH_TRIES} wrong tries: this session has ended. Log in again.")
        return redirect(url_for("auth.login"))
    if not user_management.password_is_right(user, password):
        right = False
    elif code is not None:
        # A fresh code, not the one used to log in: whoever holds only your session
        # (a browser left open) cannot do this.
        timecode = matching_timecode(user_management.totp_secret(user), code)
        right = timecode is not None and user_management.use_timecode(user["id"], timecode)
    else:  # the phone is lost: an unused recovery code instead
        right = stored_codes.use(user["id"], recovery_code)
        if right:
            events.record(user, "recovery_code_used", clock(),
                          f"A recovery code was used: {stored_codes.left(user['id'])} left.")
    if not right:
        events.record(user, "reauth_failed", clock())
        error = "That password or code is not right. Wait for a new code and try again."
        return render_template(template, error=error), 401
    sessions.reauth_succeeded(session["sid"])
    return None


def replacement_under_way():
    row = g.server_session
    return (row is not None and row["replacing_since"] is not None and row["enrol_secret"] is not None
            and 0 <= clock() - row["replacing_since"] <= PENDING_LOGIN_SECONDS)


@bp.route("/replace-phone", methods=["GET", "POST"])
@login_required
def replace_phone():
    """A new phone: prove every factor, then scan a new QR code and confirm it, in this session."""
    user = g.user
    if request.method != "POST":
        if replacement_under_way():
            secret = secrets_at_rest.decrypt(g.server_session["enrol_secret"])
            if secret is not None:
                return enrolment_page("replace_phone_scan.html", secret, user["username"])
        return render_template("replace_phone.html")
    if "password" in request.form:  # step 1: every factor
        problem = check_factors("replace_phone.html")
        if problem is not None:
            return problem
        secret = pyotp.random_base32()
        sessions.start_replacement(session["sid"], secrets_at_rest.encrypt(secret), clock(), user["secret_version"])
        return enrolment_page("replace_phone_scan.html", secret, user["username"])
    # step 2: a code from the new phone
    if not replacement_under_way():
        error = "Prove it is you first: your password, and a code or a recovery code."
        return render_template("replace_phone.html", error=error), 400
    secret = secrets_at_rest.decrypt(g.server_session["enrol_secret"])
    code = normalise_code(request.form.get("otp"))
    if code is None or secret is None:
        return enrolment_page("replace_phone_scan.html", secret or pyotp.random_base32(), user["username"],
                              "Type the 6 digits the new phone shows, like 123 456.", 400)
    timecode = matching_timecode(secret, code)
    if timecode is None:
        if not sessions.count_reauth_failure(session["sid"], REAUTH_TRIES * 2):
            sessions.end_session(session["sid"])
            renew_session()
            flash("Too many wrong codes: this session has ended. Log in again.")
            return redirect(url_for("auth.login"))
        return enrolment_page("replace_phone_scan.html", secret, user["username"],
                              "That code is not right. Check the new phone's app and try again.", 401)
    now = clock()
    swapped = user_management.replace_secret(user["id"], secret, timecode, g.server_session["replacing_version"],
                                             new_recovery_codes(), now, session["sid"], devices.this_browser())
    if not swapped:
        sessions.start_replacement(session["sid"], None, now, None)
        error = "The phone was replaced from another session meanwhile: nothing changed here. Start again."
        return render_template("replace_phone.html", error=error), 409
    events.record(user, "phone_replaced", now)
    finish_login(user_management.get_user(user["id"]), first=True)
    flash("Your new phone is set up. Your old recovery codes no longer work: save the new ones.")
    return redirect(url_for("two_factor.recovery_codes"))


@bp.route("/change-password", methods=["GET", "POST"])
@login_required
def change_password():
    user = g.user
    if request.method != "POST":
        return render_template("change_password.html")
    new_password = request.form.get("new_password", "")
    problem = password_problem(new_password, user["username"])
    if problem is not None:
        return render_template("change_password.html", error=problem), 400
    problem = check_factors("change_password.html")
    if problem is not None:
        return problem
    now = clock()
    user_management.change_password(user["id"], new_password, session["sid"], devices.this_browser())
    events.record(user, "password_changed", now)
    finish_login(user_management.get_user(user["id"]), first=True)
    flash("Your password is changed. Every other session and browser is signed out.")
    return redirect(url_for("two_factor.dashboard"))
