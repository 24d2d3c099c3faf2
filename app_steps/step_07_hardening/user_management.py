"""Users, their TOTP secrets, recovery codes and failed attempts in SQLite.

The module the guide imports as ``dbHandler``. Every query passes its values as
parameters (the ``?`` marks), never by building SQL from strings, so a username
like ``x' OR '1'='1`` is just a name.

Stage 7 runs under several worker processes (gunicorn -w 4), so anything one
worker must know about another's work lives here, in the database, and every
check that must not race is one UPDATE or DELETE whose row count says who won.
"""
import contextlib
import functools
import hashlib
import math
import os
import sqlite3

from flask import current_app, g
from werkzeug.security import check_password_hash, generate_password_hash

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    pending_secret  TEXT,     -- shown as a QR code until a first code confirms it
    totp_secret     TEXT,     -- set once 2FA is on; never shown again
    last_timecode   INTEGER,  -- the last 30-second step whose code was accepted
    failed_attempts INTEGER NOT NULL DEFAULT 0,  -- code attempts since the last success
    locked_until    REAL NOT NULL DEFAULT 0      -- no attempts before this Unix time
);
CREATE TABLE IF NOT EXISTS recovery_codes (
    user_id   INTEGER NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,  -- sha256 of the code: the code itself is never kept
    PRIMARY KEY (user_id, code_hash)
);
CREATE TABLE IF NOT EXISTS recovery_codes_to_show (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    codes   TEXT NOT NULL  -- the new codes in plain text, deleted as soon as they are shown
);
"""


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
        # timeout: wait up to 10 s for another worker's write instead of failing.
        # isolation_level=None: each statement commits on its own, except inside
        # ``with transaction(db):``.
        g.db = sqlite3.connect(current_app.config["DATABASE"], timeout=10, isolation_level=None)
        g.db.row_factory = sqlite3.Row
        # Deleted rows (recovery codes already shown) are overwritten with zeros,
        # not just marked free, so they cannot be read back from the file.
        g.db.execute("PRAGMA secure_delete = ON")
    return g.db


@contextlib.contextmanager
def transaction(db):
    """Several statements as one: other workers see all of them or none.

    BEGIN IMMEDIATE takes the write lock at once, so two workers never both
    read the same row and then both write it.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
# ANCHOR_END: connection


def close_db(_error=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_app(app):
    """Create the database file and its tables on first run; close connections after each request."""
    folder = os.path.dirname(os.path.abspath(app.config["DATABASE"]))
    os.makedirs(folder, exist_ok=True)
    with app.app_context():
        db = get_db()
        # WAL: readers never wait for the writer, and several workers share one file.
        db.execute("PRAGMA journal_mode = WAL")
        db.executescript(SCHEMA)
        close_db()
    app.teardown_appcontext(close_db)


def create_user(username, password):
    """Add a user with a hashed password; False if the name is taken."""
    try:
        get_db().execute(
            "INSERT INTO users (username, password_hash) VALUES (?, ?)",
            (username, hash_password(password)),
        )
    except sqlite3.IntegrityError:
        return False
    return True


def check_password(username, password):
    """The user row if the password is right, else None."""
    user = get_db().execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    password_hash = user["password_hash"] if user else no_such_user_hash()
    if check_password_hash(password_hash, password) and user is not None:
        return user
    return None


def password_is_right(user, password):
    return check_password_hash(user["password_hash"], password)


def get_user(user_id):
    return get_db().execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()


def pending_secret(user_id, new_secret):
    """The secret this user is enrolling with: ``new_secret`` the first time, the same one after."""
    db = get_db()
    db.execute(
        "UPDATE users SET pending_secret = ? WHERE id = ? AND pending_secret IS NULL",
        (new_secret, user_id),
    )
    return get_user(user_id)["pending_secret"]


# ANCHOR: turn_on_2fa
def turn_on_2fa(user_id, secret, timecode, recovery_codes):
    """Make the confirmed secret the user's own, with a fresh set of recovery codes.

    ``timecode`` is the step of the code that confirmed it: it counts as used.
    False if another request got there first (2FA is on already).
    """
    db = get_db()
    with transaction(db):
        confirmed = db.execute(
            "UPDATE users SET totp_secret = pending_secret, pending_secret = NULL,"
            " last_timecode = ?, failed_attempts = 0, locked_until = 0"
            " WHERE id = ? AND totp_secret IS NULL AND pending_secret = ?",
            (timecode, user_id, secret),
        ).rowcount == 1
        if confirmed:
            _store_recovery_codes(db, user_id, recovery_codes)
    return confirmed
# ANCHOR_END: turn_on_2fa


def turn_off_2fa(user_id):
    """Forget the secret, the recovery codes and the last step: the next login enrols anew."""
    db = get_db()
    with transaction(db):
        db.execute(
            "UPDATE users SET totp_secret = NULL, pending_secret = NULL, last_timecode = NULL"
            " WHERE id = ?",
            (user_id,),
        )
        db.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
        db.execute("DELETE FROM recovery_codes_to_show WHERE user_id = ?", (user_id,))


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


# ANCHOR: throttle
FREE_ATTEMPTS = 5       # failures allowed before any waiting
FIRST_DELAY = 30        # seconds to wait after the 5th failure in a row ...
MAX_DELAY = 15 * 60     # ... doubled after each further one, up to 15 minutes


def start_attempt(user_id, now):
    """Count one attempt at a code before checking it; the seconds to wait if it may not be made.

    The attempt is counted as failed up front, in the same UPDATE that checks
    the lock, so a burst of requests in parallel cannot slip in more guesses
    than the limit. ``attempt_succeeded`` sets the count back to 0.
    Returns None when the attempt may go ahead.
    """
    db = get_db()
    allowed = db.execute(
        """
        UPDATE users
        SET failed_attempts = failed_attempts + 1,
            locked_until = CASE
                WHEN failed_attempts + 1 >= :free
                THEN :now + MIN(:max_delay, :first_delay << MIN(failed_attempts + 1 - :free, 30))
                ELSE locked_until
            END
        WHERE id = :id AND locked_until <= :now
        """,
        {"free": FREE_ATTEMPTS, "now": now, "first_delay": FIRST_DELAY,
         "max_delay": MAX_DELAY, "id": user_id},
    ).rowcount == 1
    if allowed:
        return None
    locked_until = get_user(user_id)["locked_until"]
    return max(1, math.ceil(locked_until - now))  # whole seconds, rounded up


def attempt_succeeded(user_id):
    get_db().execute(
        "UPDATE users SET failed_attempts = 0, locked_until = 0 WHERE id = ?", (user_id,)
    )
# ANCHOR_END: throttle


# ANCHOR: recovery_codes
def hash_recovery_code(code):
    """sha256, not the slow salted hash used for passwords.

    A password is guessable, so each guess must cost a lot. A recovery code holds
    120 random bits: far too many to try, even at billions of fast hashes a second
    (NIST SP 800-63B asks for a slow salted hash only below 112 bits).
    """
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def _store_recovery_codes(db, user_id, codes):
    db.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
    db.executemany(
        "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)",
        [(user_id, hash_recovery_code(code)) for code in codes],
    )
    # Kept in plain text only until the user has seen them once, and in the
    # database, not in the session or in memory, so any worker can show them.
    db.execute(
        "INSERT OR REPLACE INTO recovery_codes_to_show (user_id, codes) VALUES (?, ?)",
        (user_id, " ".join(codes)),
    )


def take_recovery_codes_to_show(user_id):
    """The new codes waiting to be shown, deleted in the same statement; [] if shown already."""
    rows = get_db().execute(
        "DELETE FROM recovery_codes_to_show WHERE user_id = ? RETURNING codes", (user_id,)
    ).fetchall()  # fetch every row: the DELETE commits once the statement is done
    return rows[0]["codes"].split() if rows else []


def has_recovery_codes_to_show(user_id):
    return get_db().execute(
        "SELECT 1 FROM recovery_codes_to_show WHERE user_id = ?", (user_id,)
    ).fetchone() is not None


def use_recovery_code(user_id, code):
    """Delete the code if it is one of the user's; True only for the request that deleted it."""
    deleted = get_db().execute(
        "DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ?",
        (user_id, hash_recovery_code(code)),
    ).rowcount
    return deleted == 1


def recovery_codes_left(user_id):
    return get_db().execute(
        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?", (user_id,)
    ).fetchone()[0]
# ANCHOR_END: recovery_codes
