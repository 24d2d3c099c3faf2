"""Server-side sessions: one row per session, the cookie holds only its random id.

A row also carries what belongs to that one session and nobody else's: the secret its
QR code shows, a registration under way (the name reserved, the password hash), a phone
being replaced, and its wrong tries at /replace-phone and /change-password.
"""
import hashlib
import secrets

from db import get_db, transaction

PENDING_SECONDS = 10 * 60  # a password step, or a registration, without its code: this long at most


def session_key(token):
    return hashlib.sha256(token.encode("ascii")).hexdigest()


TOUCH_EVERY = 60  # seconds: last_seen is rewritten at most once a minute, not at every request


def start_session(user_id, now, logged_in):
    """A new server-side session; the random id it returns goes in the cookie."""
    token = secrets.token_urlsafe(32)
    get_db().execute(
        "INSERT INTO sessions (id_hash, user_id, logged_in, started, last_seen) VALUES (?, ?, ?, ?, ?)",
        (session_key(token), user_id, int(logged_in), now, now),
    )
    return token


def find_session(token, now, idle_seconds, max_seconds):
    """The session row, with its last_seen moved to ``now``; None if it ended or timed out."""
    db = get_db()
    row = db.execute("SELECT * FROM sessions WHERE id_hash = ?", (session_key(token),)).fetchone()
    if row is None:
        return None
    if now - row["last_seen"] > idle_seconds or now - row["started"] > max_seconds:
        end_session(token)
        return None
    if now - row["last_seen"] >= TOUCH_EVERY:
        db.execute("UPDATE sessions SET last_seen = ? WHERE id_hash = ?", (now, row["id_hash"]))
    return row


def promote_session(token, now, user_id):
    """Both factors passed: the same row, now logged in, under a new id (the old cookie opens nothing)."""
    new_token = secrets.token_urlsafe(32)
    get_db().execute(
        "UPDATE sessions SET id_hash = ?, user_id = ?, logged_in = 1, started = ?, last_seen = ?,"
        " reauth_failures = 0, enrol_secret = NULL, replacing_since = NULL, replacing_version = NULL WHERE id_hash = ?",
        (session_key(new_token), user_id, now, now, session_key(token)),
    )
    return new_token


def end_session(token):
    get_db().execute("DELETE FROM sessions WHERE id_hash = ?", (session_key(token),))


def end_all_sessions(user_id, db=None, but=None):
    """Log the user out everywhere (``but`` the session with that id): every copy of every
    session cookie of theirs opens nothing."""
    (db or get_db()).execute(
        "DELETE FROM sessions WHERE user_id = ? AND id_hash IS NOT ?",
        (user_id, session_key(but) if but else None),
    )


def start_registration(username, password_hash, secret, now):
    """A new session holding a registration: the name reserved for it, the password hash and the
    (encrypted) secret its QR code will show. None if the name is an account's, or reserved.

    Nothing else exists yet: the account is made when this session's code is right
    (user_management.create_user), so no account is ever without its second factor.
    """
    token = secrets.token_urlsafe(32)
    db = get_db()
    with transaction(db):
        db.execute("DELETE FROM sessions WHERE logged_in = 0 AND started < ?", (now - PENDING_SECONDS,))
        if db.execute("SELECT 1 FROM users WHERE username = ? COLLATE NOCASE", (username,)).fetchone():
            return None
        if db.execute("SELECT 1 FROM sessions WHERE reserved_name = ? COLLATE NOCASE", (username,)).fetchone():
            return None
        db.execute(
            "INSERT INTO sessions (id_hash, user_id, logged_in, started, last_seen, reserved_name,"
            " password_hash, enrol_secret) VALUES (?, NULL, 0, ?, ?, ?, ?, ?)",
            (session_key(token), now, now, username, password_hash, secret),
        )
    return token


def name_taken(username, now):
    """Whether ``username`` is an account's, or reserved by a registration under way."""
    db = get_db()
    return bool(
        db.execute("SELECT 1 FROM users WHERE username = ? COLLATE NOCASE", (username,)).fetchone()
        or db.execute("SELECT 1 FROM sessions WHERE reserved_name = ? COLLATE NOCASE AND started >= ?",
                      (username, now - PENDING_SECONDS)).fetchone())


def enrol_secret(token, new_secret):
    """The (encrypted) secret this session is enrolling with: ``new_secret`` the first time,
    the same one after; None if the session ended meanwhile (a logout in another tab).

    Kept per session, not per user: nobody else sees this QR code, and a code from
    another phone confirms nothing here.
    """
    db = get_db()
    key = session_key(token)
    db.execute(
        "UPDATE sessions SET enrol_secret = ? WHERE id_hash = ? AND enrol_secret IS NULL",
        (new_secret, key),
    )
    row = db.execute("SELECT enrol_secret FROM sessions WHERE id_hash = ?", (key,)).fetchone()
    return row[0] if row else None


def start_replacement(token, secret, now, version):
    """Every factor proved at /replace-phone: this session may now confirm a new phone (``secret``)."""
    get_db().execute(
        "UPDATE sessions SET enrol_secret = ?, replacing_since = ?, replacing_version = ? WHERE id_hash = ?",
        (secret, now, version, session_key(token)),
    )


def count_reauth_failure(token, allowed):
    """Count one wrong try at /replace-phone or /change-password in this session;
    False once ``allowed`` are used up."""
    return get_db().execute(
        "UPDATE sessions SET reauth_failures = reauth_failures + 1"
        " WHERE id_hash = ? AND reauth_failures < ?",
        (session_key(token), allowed),
    ).rowcount == 1


def reauth_succeeded(token):
    """The factors were right: only wrong tries count."""
    get_db().execute("UPDATE sessions SET reauth_failures = 0 WHERE id_hash = ?", (session_key(token),))


def purge(now, idle_seconds, max_seconds, db=None):
    """Delete the sessions that ended by time: idle, too old, or a password step or
    registration left unfinished (its name is free again)."""
    (db or get_db()).execute(
        "DELETE FROM sessions WHERE last_seen < ? OR started < ? OR (logged_in = 0 AND started < ?)",
        (now - idle_seconds, now - max_seconds, now - PENDING_SECONDS),
    )
