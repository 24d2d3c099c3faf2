"""Security events: what happened to an account, for its owner to read, and to be told.

Each event is stored (the dashboard lists the recent ones) and passed to
``app.config["NOTIFY"](username, event)``, where a real app would send an e-mail. The
default writes one log line. An event never holds a password, code, secret or recovery code.
"""
import datetime

from flask import current_app

from db import get_db

# kind: what the owner reads
MESSAGES = {
    "password_failed": "A wrong password for your account, from a browser you have not signed in with.",
    "code_failed": "A wrong code from an authenticator app, after your password was right.",
    "recovery_code_failed": "A wrong recovery code, after your password was right.",
    "reauth_failed": "A wrong password or code when replacing the phone or changing the password.",
    "recovery_code_used": "A recovery code was used to sign in.",
    "phone_replaced": "Your authenticator app was replaced; every other session and browser was signed out.",
    "password_changed": "Your password was changed; every other session and browser was signed out.",
    "new_trusted_browser": "A new browser signed in with your password and a code.",
}
FAILURES = ("password_failed", "code_failed", "recovery_code_failed", "reauth_failed")
RECENT = 10  # events on the dashboard


def log_event(username, event):
    """The default NOTIFY: one log line (what a real app would e-mail to the owner)."""
    current_app.logger.warning("security event for %s: %s (%s)", username, event["kind"], event["detail"])


def record(user, kind, now, detail=None):
    """Store the event for ``user`` (a users row) and notify: NOTIFY(username, {"kind", "detail", "time"})."""
    detail = detail or MESSAGES[kind]
    get_db().execute("INSERT INTO events (user_id, at, kind, detail) VALUES (?, ?, ?, ?)",
                     (user["id"], now, kind, detail))
    event = {"kind": kind, "detail": detail, "time": now}
    try:
        current_app.config["NOTIFY"](user["username"], event)
    except Exception:  # a failing mail server must not fail the login
        current_app.logger.exception("NOTIFY failed for a %s event", kind)


def recent(user_id):
    """The latest events, newest first, each with its time as text (UTC)."""
    rows = get_db().execute("SELECT at, kind, detail FROM events WHERE user_id = ? ORDER BY at DESC, id DESC LIMIT ?",
                            (user_id, RECENT)).fetchall()
    return [{"when": datetime.datetime.fromtimestamp(row["at"], datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
             "kind": row["kind"], "detail": row["detail"]} for row in rows]


def failures_since(user_id, since):
    """How many failed attempts on the account were stored after ``since`` (all of them if None)."""
    placeholders = ", ".join("?" for _ in FAILURES)
    return get_db().execute(
        f"SELECT COUNT(*) FROM events WHERE user_id = ? AND at > ? AND kind IN ({placeholders})",
        (user_id, since if since is not None else float("-inf"), *FAILURES)).fetchone()[0]


def purge(now, db=None):
    """Events are kept a year."""
    (db or get_db()).execute("DELETE FROM events WHERE at < ?", (now - 365 * 24 * 3600,))
