"""Users, their sessions, TOTP secrets, recovery codes and failed attempts in SQLite.

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
import secrets
import sqlite3

from flask import current_app, g
from werkzeug.security import check_password_hash, generate_password_hash

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    totp_secret     TEXT,     -- set once 2FA is on; never shown again
    last_timecode   INTEGER,  -- the last 30-second step whose code was accepted
    failed_attempts INTEGER NOT NULL DEFAULT 0,  -- code attempts since the last success
    locked_until    REAL NOT NULL DEFAULT 0      -- no attempts before this Unix time
);
-- alice and ALICE are one name: a second account that looks the same is a phishing tool.
CREATE UNIQUE INDEX IF NOT EXISTS users_username_nocase ON users (username COLLATE NOCASE);
-- One row per login: the cookie holds a random id, the server decides whether it still counts.
-- Deleting a user's rows ends every session of theirs, stolen cookie copies included.
CREATE TABLE IF NOT EXISTS sessions (
    id_hash          TEXT PRIMARY KEY,  -- sha256 of the id in the cookie, so the file holds no live id
    user_id          INTEGER NOT NULL REFERENCES users (id),
    logged_in        INTEGER NOT NULL,  -- 0: password only, the code is next; 1: both factors
    started          REAL NOT NULL,
    last_seen        REAL NOT NULL,
    disable_failures INTEGER NOT NULL DEFAULT 0,  -- wrong tries at /disable-2fa in this session
    enrol_secret     TEXT               -- the secret this session's QR code shows, until confirmed
);
CREATE TABLE IF NOT EXISTS throttles (
    user_id      INTEGER NOT NULL REFERENCES users (id),
    kind         TEXT NOT NULL,  -- 'recovery' or 'password' (codes use the users columns)
    failures     INTEGER NOT NULL DEFAULT 0,
    locked_until REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, kind)
);
CREATE TABLE IF NOT EXISTS recovery_codes (
    user_id   INTEGER NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,  -- sha256 of the code: the code itself is never kept
    PRIMARY KEY (user_id, code_hash)
);
CREATE TABLE IF NOT EXISTS recovery_codes_to_show (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    codes   TEXT NOT NULL,  -- the new codes in plain text, until the user says they saved them
    created REAL NOT NULL   -- and at most 10 minutes
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


def close_db(_error=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_app(app):
    """Create the database file and its tables on first run; close connections after each request."""
    path = os.path.abspath(app.config["DATABASE"])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # Readable by its owner only: it holds password hashes and TOTP secrets.
    # SQLite gives the -wal and -shm files the same mode as the database file.
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)
    with app.app_context():
        db = get_db()
        # WAL: readers never wait for the writer, and several workers share one file.
        db.execute("PRAGMA journal_mode = WAL")
        db.executescript(SCHEMA)
        # A database made by an earlier version of this stage: add what it lacks.
        columns = {row[1] for row in db.execute("PRAGMA table_info(recovery_codes_to_show)")}
        if "created" not in columns:
            db.execute("ALTER TABLE recovery_codes_to_show ADD COLUMN created REAL NOT NULL DEFAULT 0")
        close_db()
    app.teardown_appcontext(close_db)


def _session_key(token):
    return hashlib.sha256(token.encode("ascii")).hexdigest()


TOUCH_EVERY = 60  # seconds: last_seen is rewritten at most once a minute, not at every request


def start_session(user_id, now, logged_in):
    """A new server-side session; the random id it returns goes in the cookie."""
    token = secrets.token_urlsafe(32)
    get_db().execute(
        "INSERT INTO sessions (id_hash, user_id, logged_in, started, last_seen) VALUES (?, ?, ?, ?, ?)",
        (_session_key(token), user_id, int(logged_in), now, now),
    )
    return token


def find_session(token, now, idle_seconds, max_seconds):
    """The session row, with its last_seen moved to ``now``; None if it ended or timed out."""
    db = get_db()
    row = db.execute("SELECT * FROM sessions WHERE id_hash = ?", (_session_key(token),)).fetchone()
    if row is None:
        return None
    if now - row["last_seen"] > idle_seconds or now - row["started"] > max_seconds:
        end_session(token)
        return None
    if now - row["last_seen"] >= TOUCH_EVERY:
        db.execute("UPDATE sessions SET last_seen = ? WHERE id_hash = ?", (now, row["id_hash"]))
    return row


def promote_session(token, now):
    """Both factors passed: the same row, now logged in, under a new id (the old cookie opens nothing)."""
    new_token = secrets.token_urlsafe(32)
    get_db().execute(
        "UPDATE sessions SET id_hash = ?, logged_in = 1, started = ?, last_seen = ?, enrol_secret = NULL"
        " WHERE id_hash = ?",
        (_session_key(new_token), now, now, _session_key(token)),
    )
    return new_token


def end_session(token):
    get_db().execute("DELETE FROM sessions WHERE id_hash = ?", (_session_key(token),))


def end_all_sessions(user_id, db=None, but=None):
    """Log the user out everywhere (``but`` the session with that id): every copy of every
    session cookie of theirs opens nothing."""
    (db or get_db()).execute(
        "DELETE FROM sessions WHERE user_id = ? AND id_hash IS NOT ?",
        (user_id, _session_key(but) if but else None),
    )


def count_disable_failure(token, allowed):
    """Count one wrong try at /disable-2fa in this session; False once ``allowed`` are used up."""
    return get_db().execute(
        "UPDATE sessions SET disable_failures = disable_failures + 1"
        " WHERE id_hash = ? AND disable_failures < ?",
        (_session_key(token), allowed),
    ).rowcount == 1


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


def find_user(username):
    """The user with this name, whatever its case (alice, Alice, ALICE), or None."""
    return get_db().execute(
        "SELECT * FROM users WHERE username = ? COLLATE NOCASE", (username,)
    ).fetchone()


def check_password(user, password):
    """The user row if the password is right, else None (``user`` may be None: same time taken)."""
    password_hash = user["password_hash"] if user else no_such_user_hash()
    if check_password_hash(password_hash, password) and user is not None:
        return user
    return None


def password_is_right(user, password):
    return check_password_hash(user["password_hash"], password)


def get_user(user_id):
    return get_db().execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()


def enrol_secret(token, new_secret):
    """The secret this session is enrolling with: ``new_secret`` the first time, the same one after.

    Kept per session, not per user: someone else who knows the password sees
    another QR code, and a code from their phone confirms nothing for you.
    """
    db = get_db()
    key = _session_key(token)
    db.execute(
        "UPDATE sessions SET enrol_secret = ? WHERE id_hash = ? AND enrol_secret IS NULL",
        (new_secret, key),
    )
    return db.execute("SELECT enrol_secret FROM sessions WHERE id_hash = ?", (key,)).fetchone()[0]


def turn_on_2fa(user_id, secret, timecode, recovery_codes, now, session_token):
    """Make the confirmed secret the user's own, with a fresh set of recovery codes.

    ``timecode`` is the step of the code that confirmed it: it counts as used.
    Every other session of the user ends (this one, ``session_token``, goes on
    to log in). False if another request got there first (2FA is on already).
    """
    db = get_db()
    with transaction(db):
        confirmed = db.execute(
            "UPDATE users SET totp_secret = ?,"
            " last_timecode = ?, failed_attempts = 0, locked_until = 0"
            " WHERE id = ? AND totp_secret IS NULL",
            (secret, timecode, user_id),
        ).rowcount == 1
        if confirmed:
            _store_recovery_codes(db, user_id, recovery_codes, now)
            end_all_sessions(user_id, db, but=session_token)
    return confirmed


def turn_off_2fa(user_id):
    """Forget the secret, the recovery codes, the last step and every session: the next login enrols anew."""
    db = get_db()
    with transaction(db):
        db.execute(
            "UPDATE users SET totp_secret = NULL, last_timecode = NULL,"
            " failed_attempts = 0, locked_until = 0 WHERE id = ?",
            (user_id,),
        )
        db.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
        db.execute("DELETE FROM recovery_codes_to_show WHERE user_id = ?", (user_id,))
        db.execute("UPDATE throttles SET failures = 0, locked_until = 0 WHERE user_id = ? AND kind = 'recovery'",
                   (user_id,))
        end_all_sessions(user_id, db)


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


FREE_ATTEMPTS = 5       # failures allowed before any waiting
FIRST_DELAY = 30        # seconds to wait after the 5th failure in a row ...
MAX_DELAY = 15 * 60     # ... doubled after each further one, up to 15 minutes
# The ceiling (codes only): a pause alone still lets a script guess around the clock.
CEILING = 30                      # every 30th failure in a row ...
CEILING_WAIT = 30 * 24 * 3600     # ... closes the code step for 30 days: at most 30 guesses a month
MAX_FAILURES = 100                # and after 100 in a row it stays closed (NIST SP 800-63B)
FOREVER = float("inf")            # until a recovery code or a right code at enrolment resets it
NO_LIMIT = 2 ** 62

# Where each count lives. Codes keep the columns of users; recovery codes and
# passwords have their own rows, so running one limit up leaves the others alone.
LIMITS = {
    "code": {"ceiling": CEILING, "max_failures": MAX_FAILURES},
    "recovery": {"ceiling": NO_LIMIT, "max_failures": NO_LIMIT},
    "password": {"ceiling": NO_LIMIT, "max_failures": NO_LIMIT},
}


def start_attempt(user_id, now, kind="code"):
    """Count one attempt before checking it; the seconds to wait if it may not be made.

    The attempt is counted as failed up front, in the same UPDATE that checks
    the lock, so a burst of requests in parallel cannot slip in more guesses
    than the limit. ``attempt_succeeded`` sets the count back to 0.
    Returns None when the attempt may go ahead, ``FOREVER`` when codes are closed for good.
    """
    db = get_db()
    if kind == "code":
        table, key, where = "users", {"id": user_id}, "id = :id"
        failures, locked = "failed_attempts", "locked_until"
    else:
        table, key, where = "throttles", {"id": user_id, "kind": kind}, "user_id = :id AND kind = :kind"
        failures, locked = "failures", "locked_until"
        db.execute("INSERT OR IGNORE INTO throttles (user_id, kind) VALUES (:id, :kind)", key)
    allowed = db.execute(
        f"""
        UPDATE {table}
        SET {failures} = {failures} + 1,
            {locked} = CASE
                WHEN {failures} + 1 >= :max_failures THEN :forever
                WHEN ({failures} + 1) % :ceiling = 0 THEN :now + :ceiling_wait
                WHEN {failures} + 1 >= :free
                THEN :now + MIN(:max_delay, :first_delay << MIN({failures} + 1 - :free, 30))
                ELSE {locked}
            END
        WHERE {where} AND {locked} <= :now
        """,
        {"free": FREE_ATTEMPTS, "now": now, "first_delay": FIRST_DELAY, "max_delay": MAX_DELAY,
         "ceiling_wait": CEILING_WAIT, "forever": FOREVER, **LIMITS[kind], **key},
    ).rowcount == 1
    if allowed:
        return None
    locked_until = db.execute(f"SELECT {locked} FROM {table} WHERE {where}", key).fetchone()[0]
    if locked_until == FOREVER:
        return FOREVER
    return max(1, math.ceil(locked_until - now))  # whole seconds, rounded up


def attempt_succeeded(user_id, kind="code"):
    db = get_db()
    if kind == "code":
        db.execute("UPDATE users SET failed_attempts = 0, locked_until = 0 WHERE id = ?", (user_id,))
    else:
        # Set back to 0, never deleted: another request of this user may be between the INSERT
        # and the UPDATE of start_attempt, and must still find its row.
        db.execute("UPDATE throttles SET failures = 0, locked_until = 0 WHERE user_id = ? AND kind = ?",
                   (user_id, kind))


def hash_recovery_code(code):
    """sha256, not the slow salted hash used for passwords.

    A password is guessable, so each guess must cost a lot. A recovery code holds
    120 random bits: far too many to try, even at billions of fast hashes a second
    (NIST SP 800-63B asks for a slow salted hash only below 112 bits).
    """
    return hashlib.sha256(code.encode("ascii")).hexdigest()


RECOVERY_CODES_SHOWN_FOR = 10 * 60  # seconds the new codes wait to be saved, at most


def _store_recovery_codes(db, user_id, codes, now):
    db.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
    db.executemany(
        "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)",
        [(user_id, hash_recovery_code(code)) for code in codes],
    )
    # Kept in plain text only until the user says they saved them (10 minutes
    # at most), and in the database, not in the session or in memory, so any
    # worker can show them.
    db.execute(
        "INSERT OR REPLACE INTO recovery_codes_to_show (user_id, codes, created) VALUES (?, ?, ?)",
        (user_id, " ".join(codes), now),
    )


def recovery_codes_to_show(user_id, now):
    """The new codes waiting to be saved; [] once saved, or 10 minutes after they were made.

    Only reads: a GET or HEAD (a browser prefetching the link, a reload) uses nothing up.
    """
    db = get_db()
    db.execute(
        "DELETE FROM recovery_codes_to_show WHERE user_id = ? AND created < ?",
        (user_id, now - RECOVERY_CODES_SHOWN_FOR),
    )
    row = db.execute("SELECT codes FROM recovery_codes_to_show WHERE user_id = ?", (user_id,)).fetchone()
    return row["codes"].split() if row else []


def recovery_codes_saved(user_id):
    """The user confirmed (a POST) that they saved the codes: the plain copy goes."""
    get_db().execute("DELETE FROM recovery_codes_to_show WHERE user_id = ?", (user_id,))


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
