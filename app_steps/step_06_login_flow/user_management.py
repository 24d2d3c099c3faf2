"""Users and their TOTP secrets in SQLite (the module the guide imports as ``dbHandler``).

Every query passes its values as parameters (the ``?`` marks), never by
building SQL from strings, so a username like ``x' OR '1'='1`` is just a name.
"""
import functools
import os
import sqlite3

from flask import current_app, g
from werkzeug.security import check_password_hash, generate_password_hash

# ANCHOR: schema
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    pending_secret TEXT,  -- shown as a QR code until a first code confirms it
    totp_secret    TEXT   -- set once 2FA is on; never shown again
);
"""
# ANCHOR_END: schema


def hash_password(password):
    """A salted, slow hash: scrypt unless PASSWORD_HASH_METHOD says otherwise (tests pick a fast one)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


@functools.cache
def _no_such_user_hash(method):
    return generate_password_hash("no such user, no such password", method=method)


def no_such_user_hash():
    """Checked against when the username does not exist, so that a wrong name
    takes as long as a wrong password and timing reveals nothing."""
    return _no_such_user_hash(current_app.config["PASSWORD_HASH_METHOD"])


# ANCHOR: connection
def get_db():
    """The request's database connection, opened on first use."""
    if "db" not in g:
        g.db = sqlite3.connect(current_app.config["DATABASE"])
        g.db.row_factory = sqlite3.Row
    return g.db


def close_db(_error=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_app(app):
    """Create the database file and its table on first run; close connections after each request."""
    folder = os.path.dirname(os.path.abspath(app.config["DATABASE"]))
    os.makedirs(folder, exist_ok=True)
    with app.app_context():
        get_db().executescript(SCHEMA)
        close_db()
    app.teardown_appcontext(close_db)
# ANCHOR_END: connection


def create_user(username, password):
    """Add a user with a hashed password; False if the name is taken."""
    db = get_db()
    try:
        with db:  # commits, or rolls back on error
            db.execute(
                "INSERT INTO users (username, password_hash) VALUES (?, ?)",
                (username, hash_password(password)),
            )
    except sqlite3.IntegrityError:
        return False
    return True


def find_user(db, username):
    """The row of the user with exactly this name, or None."""
    return db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()


def check_password(username, password):
    """The user row if the password is right, else None."""
    user = find_user(get_db(), username)
    password_hash = user["password_hash"] if user else no_such_user_hash()
    if check_password_hash(password_hash, password) and user is not None:
        return user
    return None


def get_user(user_id):
    return get_db().execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()


# ANCHOR: pending_secret
def pending_secret(user_id, new_secret):
    """The secret this user is enrolling with: ``new_secret`` the first time, the same one after."""
    db = get_db()
    with db:
        db.execute(
            "UPDATE users SET pending_secret = ? WHERE id = ? AND pending_secret IS NULL",
            (new_secret, user_id),
        )
    return get_user(user_id)["pending_secret"]


def turn_on_2fa(user_id, secret):
    """Make the confirmed secret the user's own; the QR code is never shown again."""
    db = get_db()
    with db:
        db.execute(
            "UPDATE users SET totp_secret = ?, pending_secret = NULL WHERE id = ? AND totp_secret IS NULL",
            (secret, user_id),
        )
# ANCHOR_END: pending_secret
