"""Accounts: creating one, finding one, passwords, and the TOTP secret with its replay check.

The module the guide imports as ``dbHandler``. Passwords are hashed with Argon2id
(argon2-cffi), OWASP's first choice; an older hash (werkzeug's scrypt, from an earlier
stage 7) is checked as it is and replaced at the next right login. The TOTP secret is
stored encrypted (secrets_at_rest.py).
"""
import functools
import sqlite3

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

import devices
import recovery_codes
import secrets_at_rest
import sessions
from db import get_db, transaction

# OWASP Password Storage Cheat Sheet, Argon2id's first line: 19 MiB of memory, 2 passes, 1 lane.
# Every guess at a stolen hash costs an attacker the same memory and time.
ARGON2 = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password, method=None):
    """Argon2id unless PASSWORD_HASH_METHOD names one of werkzeug's (the tests pick a fast one)."""
    method = method or current_app.config["PASSWORD_HASH_METHOD"]
    if method == "argon2id":
        return ARGON2.hash(password)
    return generate_password_hash(password, method=method)


def _matches(password_hash, password):
    if password_hash.startswith("$argon2"):
        try:
            return ARGON2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
    return check_password_hash(password_hash, password)


def _outdated(password_hash):
    """True if the hash was made another way than the one configured now, or with weaker settings."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method == "argon2id":
        return not password_hash.startswith("$argon2id$") or ARGON2.check_needs_rehash(password_hash)
    # werkzeug writes the method with its settings ("scrypt:32768:8:1$..."); "scrypt" names them all.
    stored = password_hash.split("$", 1)[0]
    return stored != method and stored.split(":")[0] != method


@functools.cache
def _no_such_user_hash(method):
    return hash_password("no such user, no such password", method)


def no_such_user_hash():
    """Checked against when the username does not exist, so that a wrong name
    takes as long as a wrong password and timing reveals nothing."""
    return _no_such_user_hash(current_app.config["PASSWORD_HASH_METHOD"])


def find_user(db, username):
    """The user with this name, whatever its case (alice, Alice, ALICE: the column is COLLATE NOCASE), or None."""
    return db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()


def account_named(username):
    """The account the login form names (find_user on this request's connection)."""
    return find_user(get_db(), username)


def get_user(user_id):
    return get_db().execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()


def check_password(user, password):
    """The user row if the password is right, else None (``user`` may be None: same time taken).

    A right password whose hash is outdated (scrypt from before, weaker settings) is hashed
    anew now, the only moment the server has the password itself.
    """
    password_hash = user["password_hash"] if user else no_such_user_hash()
    if not _matches(password_hash, password) or user is None:
        return None
    if _outdated(password_hash):
        get_db().execute("UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?",
                         (hash_password(password), user["id"], password_hash))
    return user


def password_is_right(user, password):
    return check_password(user, password) is not None


def totp_secret(user):
    """The user's TOTP secret, decrypted; None if they have none, or no key opens it."""
    return secrets_at_rest.decrypt(user["totp_secret"])


def create_user(session_token, secret, timecode, codes, now):
    """The registering session's code was right: its reserved name becomes an account.

    In one transaction: the reservation goes, the user row comes with the confirmed
    secret (encrypted; ``timecode`` counts as used) and the recovery codes, and the
    session row belongs to the new user. None if another request got there first.
    """
    db = get_db()
    with transaction(db):
        row = db.execute(
            "SELECT reserved_name, password_hash FROM sessions WHERE id_hash = ? AND reserved_name IS NOT NULL",
            (sessions.session_key(session_token),),
        ).fetchone()
        if row is None:
            return None
        db.execute("UPDATE sessions SET reserved_name = NULL, password_hash = NULL WHERE id_hash = ?",
                   (sessions.session_key(session_token),))
        try:
            user_id = db.execute(
                "INSERT INTO users (username, password_hash, totp_secret, secret_version, last_timecode)"
                " VALUES (?, ?, ?, 1, ?)",
                (row["reserved_name"], row["password_hash"], secrets_at_rest.encrypt(secret), timecode),
            ).lastrowid
        except sqlite3.IntegrityError:  # an account of an older stage 7 has the name
            return None
        db.execute("UPDATE sessions SET user_id = ? WHERE id_hash = ?", (user_id, sessions.session_key(session_token)))
        recovery_codes.store(db, user_id, codes, now)
    return user_id


def replace_secret(user_id, secret, timecode, expected_version, codes, now, session_token, device):
    """The new phone's code was right: swap the secret, if the phone proved at the start is still the one.

    One UPDATE checks ``secret_version`` and writes: if another session replaced the phone
    in between, nothing changes (False). New recovery codes; every other session and every
    device cookie of the user ends (but this browser's: it just proved every factor).
    """
    db = get_db()
    with transaction(db):
        swapped = db.execute(
            "UPDATE users SET totp_secret = ?, secret_version = secret_version + 1, last_timecode = ?"
            " WHERE id = ? AND secret_version = ?",
            (secrets_at_rest.encrypt(secret), timecode, user_id, expected_version),
        ).rowcount == 1
        if swapped:
            recovery_codes.store(db, user_id, codes, now)
            sessions.end_all_sessions(user_id, db, but=session_token)
            devices.forget_all(user_id, db, but=device)
    return swapped


def change_password(user_id, password, session_token, device):
    """A new password hash; every other session and device cookie of the user ends."""
    new_hash = hash_password(password)
    db = get_db()
    with transaction(db):
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (new_hash, user_id))
        sessions.end_all_sessions(user_id, db, but=session_token)
        devices.forget_all(user_id, db, but=device)


def signed_in(user_id, now):
    """A full login: the time it returns is the one before (None the first time)."""
    db = get_db()
    with transaction(db):
        before = db.execute("SELECT last_login FROM users WHERE id = ?", (user_id,)).fetchone()[0]
        db.execute("UPDATE users SET last_login = ? WHERE id = ?", (now, user_id))
    return before


# ANCHOR: replay_check
def use_timecode(user_id, timecode):
    """Mark the step ``timecode`` as used; False if it, or a later one, was used already.

    One UPDATE both checks and writes, so when two workers race with the same
    code, SQLite runs one UPDATE after the other and the second changes no row.
    The step is stored, not the code: the same six digits can come round again
    in a later step, and then they are a new code.
    """
    changed = get_db().execute(
        "UPDATE users SET last_timecode = ?"
        " WHERE id = ? AND (last_timecode IS NULL OR last_timecode < ?)",
        (timecode, user_id, timecode),
    ).rowcount
    return changed == 1
# ANCHOR_END: replay_check
