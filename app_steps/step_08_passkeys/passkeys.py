"""Stage 8: passkeys (WebAuthn), the login a phishing relay cannot pass on.

Everything passkey lives in this file: its tables, its routes and its checks, with
py_webauthn (``webauthn``) doing the cryptography. The browser's half is
``static/passkeys.js``, which calls ``navigator.credentials``.

Why a relay fails: the browser writes the page's real origin into ``clientDataJSON``, and
the authenticator signs it together with the hash of the RP ID. A look-alike site on another
host name gets either no passkey at all (the browser offers a passkey only to its own site)
or a signature over the wrong origin, which ``verify_authentication_response`` refuses.

The routes (JSON in and out; every POST carries the page's CSRF token in ``X-CSRFToken``):

    GET  /passkeys                   the user's passkeys, a button to add one, the "passkeys only" setting
    POST /passkeys/register/options  creation options (signed in, full login in the last 5 minutes)
    POST /passkeys/register/verify   {"credential": ..., "nickname": ...}: 201, or 400 with a message
    POST /passkeys/login/options     request options for any passkey of this site (no user name)
    POST /passkeys/login/verify      {"credential": ...}: a full login, or 401 and nothing changes
    POST /passkeys/<id>/delete       removes one (recent full login); ends every other session (a form, or JSON)
    POST /passkeys/only              the "passkeys only" setting (recent full login)
"""
import hashlib
import ipaddress
import json
import secrets
import sqlite3
import time
from urllib.parse import urlsplit

from flask import (Blueprint, current_app, flash, g, jsonify, redirect, render_template, request, session,
                   url_for)
from flask_wtf.csrf import CSRFError
from webauthn import (generate_authentication_options, generate_registration_options, options_to_json,
                      verify_authentication_response, verify_registration_response)
from webauthn.helpers import parse_authentication_credential_json, parse_registration_credential_json
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.structs import (AttestationConveyancePreference, AuthenticatorSelectionCriteria,
                                      PublicKeyCredentialDescriptor, ResidentKeyRequirement,
                                      UserVerificationRequirement)
from werkzeug.exceptions import HTTPException

# ---- The stage 7 this file sits on: everything it uses of it, in this block only --------------
import events
import sessions
import two_factor
import user_management
from auth import clock, login_required, start_server_session
from db import close_db, get_db, transaction
from passkey_accounts import passkeys_only


def get_user(user_id):
    return user_management.get_user(user_id)


def login_time():
    """When this session's full login happened (the server-side session row's start)."""
    return g.server_session["started"]


def full_login(user):
    """Both factors passed (a passkey that verified its user): the same end as a right code, in a new
    session of this browser (its earlier one ends): the device cookie, and "failed attempts since"."""
    start_server_session(user["id"], logged_in=False)
    two_factor.finish_login(user)


def end_other_sessions(user_id, db):
    """Every session of the user but this one ends (inside the caller's transaction)."""
    sessions.end_all_sessions(user_id, db, but=session["sid"])


def security_event(user_id, kind, detail):
    """Stored for the dashboard's recent activity, and told to the owner (``NOTIFY``), as stage 7's are."""
    events.record(get_user(user_id), kind, clock(), detail)
# ------------------------------------------------------------------------------------------------

bp = Blueprint("passkeys", __name__)

RP_NAME = "Flask 2FA Workbook"
CHALLENGE_SECONDS = 5 * 60       # a ceremony must end within 5 minutes of its options
RECENT_LOGIN_SECONDS = 5 * 60    # adding or removing a passkey needs a full login this recent
MAX_NICKNAME = 60
MAX_CREDENTIAL_ID = 1400         # characters of base64url: 1023 bytes, the most WebAuthn allows
CHALLENGE_KEY = "passkey_ceremony"  # in the cookie: a random id of the ceremony's row, never the challenge

SCHEMA = """
CREATE TABLE IF NOT EXISTS passkeys (
    id            INTEGER PRIMARY KEY,
    credential_id BLOB NOT NULL UNIQUE,  -- chosen by the authenticator; the browser sends it back at login
    user_id       INTEGER NOT NULL REFERENCES users (id),
    public_key    BLOB NOT NULL,         -- COSE_Key: a public key, nothing secret
    sign_count    INTEGER NOT NULL,      -- the authenticator's signature counter, last seen
    transports    TEXT NOT NULL,         -- JSON list: "internal", "usb", "hybrid"...
    backed_up     INTEGER NOT NULL,      -- synced to a cloud account (the BS flag)
    created       REAL NOT NULL,
    last_used     REAL,
    nickname      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passkeys_user ON passkeys (user_id);
-- Per account: the random user handle its passkeys carry (never the name or the row id), and the setting.
CREATE TABLE IF NOT EXISTS passkey_accounts (
    user_id       INTEGER PRIMARY KEY REFERENCES users (id),
    user_handle   BLOB NOT NULL UNIQUE,
    passkeys_only INTEGER NOT NULL DEFAULT 0
);
-- One ceremony under way per browser session. A passkey login starts before there is any
-- session row (no password yet), so the challenge has a row of its own, found through a random
-- id in the session cookie, and is deleted when it is used, whatever the outcome.
CREATE TABLE IF NOT EXISTS passkey_challenges (
    id_hash   TEXT PRIMARY KEY,  -- sha256 of the id in the cookie
    purpose   TEXT NOT NULL,     -- 'register' or 'login'
    challenge BLOB NOT NULL,
    user_id   INTEGER,           -- who is registering (NULL for a login)
    created   REAL NOT NULL
);
"""


class PasskeySettingsError(RuntimeError):
    """RP_ID or ORIGIN cannot work in a browser; the message says what to set."""


# ---- set-up ---------------------------------------------------------------------------------------

def init_app(app):
    """Settings, tables and routes. Called by create_app after the database is set up."""
    app.config.setdefault("RP_ID", "localhost")                # FLASK_RP_ID
    app.config.setdefault("ORIGIN", "http://localhost:5008")   # FLASK_ORIGIN
    app.config["ORIGIN"] = check_settings(app.config["RP_ID"], app.config["ORIGIN"])
    with app.app_context():
        get_db().executescript(SCHEMA)
        close_db()
    app.register_blueprint(bp)


def check_settings(rp_id, origin):
    """ORIGIN without a trailing slash, after checking that a browser would accept RP_ID on it."""
    how = ("Set FLASK_ORIGIN to the address in the browser's address bar (http://localhost:5008 on your own "
           "machine, never 127.0.0.1) and FLASK_RP_ID to its host name or a parent domain of it.")
    if not isinstance(rp_id, str) or not isinstance(origin, str):
        raise PasskeySettingsError(f"RP_ID and ORIGIN must be text. {how}")
    origin = origin.rstrip("/")
    parts = urlsplit(origin)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or parts.path or parts.query:
        raise PasskeySettingsError(f"ORIGIN {origin!r} is not an origin like https://example.com. {how}")
    if parts.scheme == "http" and host != "localhost" and not host.endswith(".localhost"):
        raise PasskeySettingsError(f"ORIGIN {origin!r}: browsers allow passkeys over http on localhost only. {how}")
    try:
        ipaddress.ip_address(rp_id.strip("[]"))
    except ValueError:
        pass
    else:
        raise PasskeySettingsError(f"RP_ID {rp_id!r} is an IP address, which browsers refuse. {how}")
    if not (host == rp_id or ("." in rp_id and host.endswith("." + rp_id))):  # a parent has a dot
        raise PasskeySettingsError(f"RP_ID {rp_id!r} is neither the host of ORIGIN ({host}) nor a parent of it. {how}")
    return origin


# ---- answers ----------------------------------------------------------------------------------------

def problem(status, message):
    """A JSON error for the script to show: {"error": message}."""
    return jsonify(error=message), status


JSON_ENDPOINTS = {"passkeys.register_options", "passkeys.register_verify", "passkeys.login_options",
                  "passkeys.login_verify"}


def wants_json():
    """The script's ceremony routes always answer JSON; the form routes do when sent JSON."""
    return request.endpoint in JSON_ENDPOINTS or request.is_json


@bp.errorhandler(CSRFError)
def csrf_error(error):
    if wants_json():
        return problem(400, "This page is out of date (its CSRF token is missing or old): reload it and try again.")
    message = ("This form is out of date or did not come from this site, so nothing was changed. "
               "Go back, reload the page and send the form again.")
    return render_template("error.html", title="Form out of date", message=message), 400


@bp.errorhandler(413)  # by its code too: the app's own 413 page would be found first
@bp.errorhandler(HTTPException)
def http_error(error):
    """413 (too large) and the rest, as JSON on the script's routes; never a stack trace."""
    if wants_json():
        message = ("That was more than a passkey sends." if error.code == 413 else error.description)
        return problem(error.code, message)
    return render_template("error.html", title=f"{error.code} {error.name}", message=error.description), error.code


def json_body():
    """The request's JSON object, or None (not JSON, or not an object)."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def json_options(options):
    """Options as py_webauthn's options_to_json writes them (bytes in base64url), bare, as JSON."""
    return current_app.response_class(options_to_json(options), mimetype="application/json")


# ---- the setting, and recent logins --------------------------------------------------------------

def recent_login_problem(json_answer=True):
    """None when this session's full login is less than 5 minutes old; else the 401 or 403 to send."""
    if g.user is None:
        message = "Log in first."
        return problem(401, message) if json_answer else (render_template(
            "error.html", title="Log in first", message=message), 401)
    if not 0 <= clock() - login_time() <= RECENT_LOGIN_SECONDS:
        message = ("Sign in again: adding or removing a passkey, or changing how you log in, needs a login "
                   "from the last 5 minutes. Log out, log in, and come back.")
        return problem(403, message) if json_answer else (render_template(
            "error.html", title="Sign in again", message=message), 403)
    return None


# ---- the database ---------------------------------------------------------------------------------

def _hash(token):
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def user_handle(user_id):
    """The account's user handle: 32 random bytes, made the first time."""
    db = get_db()
    db.execute("INSERT OR IGNORE INTO passkey_accounts (user_id, user_handle) VALUES (?, ?)",
               (user_id, secrets.token_bytes(32)))
    return db.execute("SELECT user_handle FROM passkey_accounts WHERE user_id = ?", (user_id,)).fetchone()[0]


def passkeys_of(user_id):
    return get_db().execute("SELECT * FROM passkeys WHERE user_id = ? ORDER BY created", (user_id,)).fetchall()


def start_ceremony(purpose, challenge, user_id=None):
    """Keep the challenge on the server; the cookie gets a random id of its row. An earlier one ends."""
    db, now = get_db(), clock()
    token = secrets.token_urlsafe(32)
    earlier = session.get(CHALLENGE_KEY)
    with transaction(db):
        # Expired ceremonies go, everyone's: the table holds the last 5 minutes' ceremonies only (a stranger
        # who asks for options without end still adds a row per request meanwhile: no limit per address here).
        db.execute("DELETE FROM passkey_challenges WHERE created < ?", (now - CHALLENGE_SECONDS,))
        if isinstance(earlier, str):
            db.execute("DELETE FROM passkey_challenges WHERE id_hash = ?", (_hash(earlier),))
        db.execute("INSERT INTO passkey_challenges (id_hash, purpose, challenge, user_id, created)"
                   " VALUES (?, ?, ?, ?, ?)", (_hash(token), purpose, challenge, user_id, now))
    session[CHALLENGE_KEY] = token


def take_challenge(purpose):
    """This session's challenge for ``purpose``, removed from the server (used once, pass or fail); None
    if there is none, it is for something else, or it is more than 5 minutes old."""
    token = session.pop(CHALLENGE_KEY, None)
    if not isinstance(token, str) or len(token) > 100:
        return None
    db = get_db()
    with transaction(db):
        row = db.execute("SELECT * FROM passkey_challenges WHERE id_hash = ?", (_hash(token),)).fetchone()
        deleted = db.execute("DELETE FROM passkey_challenges WHERE id_hash = ?", (_hash(token),)).rowcount
    if row is None or deleted != 1 or row["purpose"] != purpose:
        return None
    if not 0 <= clock() - row["created"] <= CHALLENGE_SECONDS:
        return None
    return row


# ---- the credential as the browser sent it -------------------------------------------------------------

def credential_from(body, parse):
    """The ``credential`` member parsed by py_webauthn, or (None, what is wrong with it)."""
    raw = body.get("credential")
    if not isinstance(raw, dict):
        return None, 'Send {"credential": ...}: the object PublicKeyCredential.toJSON() gives.'
    for name in ("id", "rawId"):
        if isinstance(raw.get(name), str) and len(raw[name]) > MAX_CREDENTIAL_ID:
            return None, f"The credential's {name} is longer than any passkey's."
    try:
        return parse(raw), None
    except Exception as error:  # py_webauthn raises its own errors, and binascii/ValueError on bad base64url
        return None, f"That is not a passkey response: {error}"


@bp.app_template_filter("passkey_time")
def passkey_time(seconds):
    """A stored Unix time as the passkeys page shows it."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))


# ---- registration -------------------------------------------------------------------------------------

@bp.get("/passkeys")
@login_required
def list_passkeys():
    rows = passkeys_of(g.user["id"])
    return render_template(
        "passkeys.html",
        passkeys=rows,
        passkeys_only=passkeys_only(g.user["id"]),
        recent=0 <= clock() - login_time() <= RECENT_LOGIN_SECONDS,
    )


@bp.post("/passkeys/register/options")
def register_options():
    refused = recent_login_problem()
    if refused:
        return refused
    user = g.user
    options = generate_registration_options(
        rp_id=current_app.config["RP_ID"],
        rp_name=RP_NAME,
        user_id=user_handle(user["id"]),
        user_name=user["username"],
        timeout=CHALLENGE_SECONDS * 1000,
        attestation=AttestationConveyancePreference.NONE,  # no need to know the authenticator's model
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,       # a passkey: login without a user name
            user_verification=UserVerificationRequirement.REQUIRED,  # PIN or biometrics: two factors in one
        ),
        # The user's passkeys: the authenticator that holds one says so instead of making another.
        exclude_credentials=[PublicKeyCredentialDescriptor(id=row["credential_id"]) for row in passkeys_of(user["id"])],
        supported_pub_key_algs=[COSEAlgorithmIdentifier.ECDSA_SHA_256, COSEAlgorithmIdentifier.EDDSA,
                                COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256],
    )
    start_ceremony("register", options.challenge, user["id"])
    return json_options(options)


@bp.post("/passkeys/register/verify")
def register_verify():
    if g.user is None:
        return problem(401, "Log in first.")
    body = json_body()
    challenge = take_challenge("register")  # used up now, whatever happens next
    if body is None:
        return problem(400, 'Send a JSON object: {"credential": ..., "nickname": ...}.')
    nickname = body.get("nickname", "")
    if nickname is None:
        nickname = ""
    if not isinstance(nickname, str) or len(nickname) > MAX_NICKNAME or not nickname.isprintable():
        return problem(400, f"Name the passkey with up to {MAX_NICKNAME} letters, digits or spaces.")
    credential, error = credential_from(body, parse_registration_credential_json)
    if credential is None:
        return problem(400, error)
    if challenge is None or challenge["user_id"] != g.user["id"]:
        return problem(400, "This passkey was not asked for in this session, or more than 5 minutes ago: try again.")
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge["challenge"],
            expected_rp_id=current_app.config["RP_ID"],
            expected_origin=current_app.config["ORIGIN"],
            require_user_verification=True,
        )
    except Exception as error:  # InvalidRegistrationResponse, or any error on a crafted attestation
        return problem(400, f"That passkey could not be checked: {error}")
    # As py_webauthn parsed them: only the transports it knows (the raw list may hold anything).
    transports = [t.value for t in credential.response.transports or []]
    rows = passkeys_of(g.user["id"])
    nickname = " ".join(nickname.split()) or f"Passkey {len(rows) + 1}"
    try:
        cursor = get_db().execute(
            "INSERT INTO passkeys (credential_id, user_id, public_key, sign_count, transports, backed_up,"
            " created, last_used, nickname) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            (verified.credential_id, g.user["id"], verified.credential_public_key, verified.sign_count,
             json.dumps(transports[:10]), int(verified.credential_backed_up), clock(), nickname),
        )
    except sqlite3.IntegrityError:
        return problem(400, "That passkey is registered already.")
    security_event(g.user["id"], "passkey_added", f"passkey added: {nickname}")
    return jsonify(id=cursor.lastrowid, nickname=nickname), 201


# ---- login --------------------------------------------------------------------------------------------

@bp.post("/passkeys/login/options")
def login_options():
    options = generate_authentication_options(
        rp_id=current_app.config["RP_ID"],
        timeout=CHALLENGE_SECONDS * 1000,
        allow_credentials=[],  # any passkey of this site: the user picks one, no user name typed
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    start_ceremony("login", options.challenge)
    return json_options(options)


def login_failed(message):
    return problem(401, message)


# ANCHOR: login_verify
@bp.post("/passkeys/login/verify")
def login_verify():
    body = json_body()
    challenge = take_challenge("login")  # used up now, whatever happens next
    if body is None:
        return problem(400, 'Send a JSON object: {"credential": ...}.')
    credential, error = credential_from(body, parse_authentication_credential_json)
    if credential is None:
        return problem(400, error)
    if challenge is None:
        return login_failed("This login was not started in this browser, or more than 5 minutes ago: try again.")
    db = get_db()
    passkey = db.execute("SELECT * FROM passkeys WHERE credential_id = ?", (credential.raw_id,)).fetchone()
    if passkey is None:
        return login_failed("That passkey is not registered here.")
    account = db.execute("SELECT * FROM passkey_accounts WHERE user_id = ?", (passkey["user_id"],)).fetchone()
    # The user handle the authenticator keeps with the passkey must be its owner's (WebAuthn §7.2 step 6).
    handle = credential.response.user_handle
    if account is None or handle is None or not secrets.compare_digest(handle, account["user_handle"]):
        return login_failed("That passkey does not belong to the account it claims.")
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge["challenge"],
            expected_rp_id=current_app.config["RP_ID"],
            expected_origin=current_app.config["ORIGIN"],
            credential_public_key=passkey["public_key"],
            credential_current_sign_count=passkey["sign_count"],  # not growing: a cloned authenticator?
            require_user_verification=True,
        )
    except Exception as error:  # InvalidAuthenticationResponse, or any error on a crafted response
        return login_failed(f"That passkey login did not check out: {error}")
    # The counter moves only if nobody else used this passkey since we read it.
    moved = db.execute(
        "UPDATE passkeys SET sign_count = ?, last_used = ?, backed_up = ? WHERE id = ? AND sign_count = ?",
        (verified.new_sign_count, clock(), int(verified.credential_backed_up), passkey["id"], passkey["sign_count"]),
    ).rowcount
    user = get_user(passkey["user_id"])
    if moved != 1 or user is None or user["totp_secret"] is None:
        return login_failed("That passkey login did not check out: try again.")
    # A passkey that verified its user is two factors (something you have, and your PIN or
    # fingerprint): a full login, in a new session.
    full_login(user)
    return jsonify(redirect=url_for("two_factor.dashboard"))
# ANCHOR_END: login_verify


# ---- removing one, and the setting ---------------------------------------------------------------------

@bp.post("/passkeys/<int:passkey_id>/delete")
def delete_passkey(passkey_id):
    """The Remove button's form; or JSON ({} in, {"deleted": id} out) from a script."""
    as_json = wants_json()
    refused = recent_login_problem(json_answer=as_json)
    if refused:
        return refused
    user_id = g.user["id"]
    rows = passkeys_of(user_id)
    row = next((r for r in rows if r["id"] == passkey_id), None)
    if row is None:
        message = "That passkey is not one of yours, or is gone already."
        return problem(404, message) if as_json else (
            render_template("error.html", title="No such passkey", message=message), 404)
    if len(rows) == 1 and passkeys_only(user_id):
        message = "That is your last passkey, and you log in with passkeys only: turn that off first."
        return problem(400, message) if as_json else (
            render_template("passkeys.html", passkeys=rows, passkeys_only=True, recent=True, error=message), 400)
    db = get_db()
    with transaction(db):
        db.execute("DELETE FROM passkeys WHERE id = ? AND user_id = ?", (passkey_id, user_id))
        # Whoever logged in with it elsewhere is out.
        end_other_sessions(user_id, db)
    security_event(user_id, "passkey_removed", f"passkey removed: {row['nickname']}")
    if as_json:
        return jsonify(deleted=passkey_id)
    flash(f"Passkey \"{row['nickname']}\" removed; every other session of yours has ended.")
    return redirect(url_for("passkeys.list_passkeys"))


@bp.post("/passkeys/only")
def passkeys_only_setting():
    refused = recent_login_problem(json_answer=False)
    if refused:
        return refused
    user_id = g.user["id"]
    wanted = request.form.get("passkeys_only")
    if wanted not in ("on", "off"):
        return render_template("error.html", title="Bad request",
                               message="Use the button on the passkeys page."), 400
    if wanted == "on" and not passkeys_of(user_id):
        return render_template("passkeys.html", passkeys=[], passkeys_only=False, recent=True,
                               error="Add a passkey first."), 400
    user_handle(user_id)
    db = get_db()
    with transaction(db):
        db.execute("UPDATE passkey_accounts SET passkeys_only = ? WHERE user_id = ?", (int(wanted == "on"), user_id))
        if wanted == "on":
            # Sessions that a password and a code opened (a relay's among them) end now.
            end_other_sessions(user_id, db)
    security_event(user_id, "passkeys_only", f"passkeys only turned {wanted}")
    flash("From now on, only a passkey logs you in (or a recovery code); every other session has ended."
          if wanted == "on" else "A password and a code log you in again too.")
    return redirect(url_for("passkeys.list_passkeys"))

