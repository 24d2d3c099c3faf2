"""The database: one SQLite connection per request, the tables, and what an older file lacks.

Like flaskr's ``db.py``. Stage 7 runs under several worker processes (gunicorn -w 4),
so anything one worker must know about another's work lives here, in the database,
and every check that must not race is one statement, or one ``transaction()``,
whose row count says who won. Every query passes its values as parameters
(the ``?`` marks), never by building SQL from strings.
"""
import contextlib
import os
import re
import sqlite3

from flask import current_app, g

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE COLLATE NOCASE,  -- "WHERE username = ?" finds alice as ALICE
    password_hash  TEXT NOT NULL,
    totp_secret    TEXT,     -- encrypted (secrets_at_rest.py), never the secret itself
    secret_version INTEGER NOT NULL DEFAULT 0,  -- one more at each new phone
    last_timecode  INTEGER,  -- the last 30-second step whose code was accepted
    last_login     REAL      -- the previous full login: "N failed attempts since your last sign-in"
);
-- alice and ALICE are one name: a second account that looks the same is a phishing tool.
CREATE UNIQUE INDEX IF NOT EXISTS users_username_nocase ON users (username COLLATE NOCASE);
-- One row per session: the cookie holds a random id, the server decides whether it still counts.
-- Deleting a user's rows ends every session of theirs, stolen cookie copies included.
CREATE TABLE IF NOT EXISTS sessions (
    id_hash          TEXT PRIMARY KEY,  -- sha256 of the id in the cookie, so the file holds no live id
    user_id          INTEGER REFERENCES users (id),  -- NULL while registering: no account yet
    logged_in        INTEGER NOT NULL,  -- 0: password only (or registering); 1: both factors
    started          REAL NOT NULL,
    last_seen        REAL NOT NULL,
    reauth_failures  INTEGER NOT NULL DEFAULT 0,  -- wrong tries at /replace-phone, /change-password
    enrol_secret     TEXT,  -- encrypted: the secret this session's QR code shows, until confirmed
    reserved_name    TEXT,  -- registering: the name chosen, nobody else's while this row lives
    password_hash    TEXT,  -- registering: the password chosen, hashed
    replacing_since  REAL,  -- /replace-phone: every factor proved at this time ...
    replacing_version INTEGER  -- ... for the phone of this users.secret_version
);
CREATE UNIQUE INDEX IF NOT EXISTS sessions_reserved_name ON sessions (reserved_name COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);
-- Device cookies: a browser that completed a full login for an account (throttle.py, devices.py).
CREATE TABLE IF NOT EXISTS devices (
    id_hash TEXT NOT NULL,  -- sha256 of the random id in the cookie
    user_id INTEGER NOT NULL REFERENCES users (id),
    expires REAL NOT NULL,
    PRIMARY KEY (id_hash, user_id)
);
-- Every failed attempt, kept a year: the ceilings count them in rolling windows.
CREATE TABLE IF NOT EXISTS failures (
    id      INTEGER PRIMARY KEY,
    subject TEXT NOT NULL,  -- 'user:<id>', or 'address:<client address>'
    kind    TEXT NOT NULL,  -- 'password', 'code', 'recovery', 'register', 'unknown_name'
    bucket  TEXT NOT NULL,  -- 'strangers', or the id hash of a browser the account trusts
    at      REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS failures_count ON failures (subject, kind, bucket, at);
-- Every right attempt, kept as long: no ceiling counts them (a success gives a guesser no more
-- tries), but a ceiling written as may_try(attempts, now) is shown the whole history (lesson 07).
CREATE TABLE IF NOT EXISTS successes (
    subject TEXT NOT NULL,
    kind    TEXT NOT NULL,
    bucket  TEXT NOT NULL,
    at      REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS successes_count ON successes (subject, kind, bucket, at);
-- The pause: failures since the last success, and no attempt before locked_until.
CREATE TABLE IF NOT EXISTS pauses (
    subject      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    bucket       TEXT NOT NULL,
    streak       INTEGER NOT NULL DEFAULT 0,
    locked_until REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (subject, kind, bucket)
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
-- Security events, for the owner to read on the dashboard (events.py).
CREATE TABLE IF NOT EXISTS events (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    at      REAL NOT NULL,
    kind    TEXT NOT NULL,
    detail  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_user ON events (user_id, at);
"""


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


def _columns(db, table):
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _names_whatever_their_case(db):
    """Whether users.username compares names whatever their case: an earlier stage 7 declared it without NOCASE."""
    table = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'").fetchone()[0]
    return re.search(r"\busername\b[^,]*COLLATE\s+NOCASE", table, re.IGNORECASE) is not None


def _rebuild_users(db):
    """SQLite cannot change a column's collation: a new users table, every row copied over, in one transaction
    (another worker starting at the same moment finds it done)."""
    with transaction(db):
        if _names_whatever_their_case(db):
            return
        create = re.search(r"CREATE TABLE IF NOT EXISTS users \(.*?\n\);", SCHEMA, re.DOTALL).group(0)
        db.execute(create.replace("IF NOT EXISTS users (", "users_nocase ("))
        columns = ", ".join(sorted(_columns(db, "users") & _columns(db, "users_nocase")))
        db.execute(f"INSERT INTO users_nocase ({columns}) SELECT {columns} FROM users")
        db.execute("DROP TABLE users")  # and its index: SCHEMA makes it again
        db.execute("ALTER TABLE users_nocase RENAME TO users")


def migrate(db):
    """A database made by an earlier version of stage 7: add what it lacks.

    Sessions are dropped and made anew (everyone logs in again once): the old table
    cannot hold a registration, whose row has no user yet. The old counts of failures
    in a row go too: the ceilings now count each failure, in rolling windows.
    """
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "sessions" in tables and "reserved_name" not in _columns(db, "sessions"):
        db.execute("DROP TABLE sessions")
    db.execute("DROP TABLE IF EXISTS throttles")
    if "users" in tables:
        users = _columns(db, "users")
        for column, declaration in (("secret_version", "INTEGER NOT NULL DEFAULT 0"), ("last_login", "REAL")):
            if column not in users:
                db.execute(f"ALTER TABLE users ADD COLUMN {column} {declaration}")
        if not _names_whatever_their_case(db):
            _rebuild_users(db)
    if "recovery_codes_to_show" in tables and "created" not in _columns(db, "recovery_codes_to_show"):
        db.execute("ALTER TABLE recovery_codes_to_show ADD COLUMN created REAL NOT NULL DEFAULT 0")


def init_app(app):
    """Create the database file and its tables on first run; close connections after each request."""
    path = os.path.abspath(app.config["DATABASE"])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # Readable by its owner only: it holds password hashes and (encrypted) TOTP secrets.
    # SQLite gives the -wal and -shm files the same mode as the database file.
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)
    with app.app_context():
        db = get_db()
        # WAL: readers never wait for the writer, and several workers share one file.
        db.execute("PRAGMA journal_mode = WAL")
        migrate(db)
        db.executescript(SCHEMA)
        close_db()
    app.teardown_appcontext(close_db)
