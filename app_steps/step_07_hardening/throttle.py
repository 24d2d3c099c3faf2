"""Counting failed attempts: a pause after a few, and ceilings that count every failure.

Each count belongs to a subject (an account, or a client address for names that are not
accounts), a kind (password, code, recovery code, ...) and a bucket: a browser the account
trusts (devices.py) counts alone, every other browser shares the account's "strangers"
bucket. So a stranger who fails on purpose closes only the strangers' way in, never the
owner's trusted browser.

Two limits. The pause: 5 failures in a row are free, then 30 s, doubled after each further
one, up to 15 minutes; a success ends it. The ceilings: at most 30 failures in any 30 days
and 100 in any year, counted one by one in a rolling window, whatever successes come
between (a right code from the owner does not give a guesser 30 more).
"""
import math
from dataclasses import dataclass

from db import get_db, transaction

DAY = 24 * 3600
STRANGERS = "strangers"  # the bucket of every browser the account does not trust

# ANCHOR: throttle
FREE_ATTEMPTS = 5       # failures in a row allowed before any waiting
FIRST_DELAY = 30        # seconds to wait after the 5th failure in a row ...
MAX_DELAY = 15 * 60     # ... doubled after each further one, up to 15 minutes
CEILINGS = ((30 * DAY, 30), (365 * DAY, 100))  # at most 30 failures in 30 days, 100 in a year
NO_PAUSE = 2 ** 62

# What each kind of attempt may do. Per client address: registrations (each one is a slow
# password hash) and logins to names that are not accounts.
LIMITS = {
    "password": {"free": FREE_ATTEMPTS, "ceilings": CEILINGS},
    "code": {"free": FREE_ATTEMPTS, "ceilings": CEILINGS},
    "recovery": {"free": FREE_ATTEMPTS, "ceilings": CEILINGS},
    "unknown_name": {"free": FREE_ATTEMPTS, "ceilings": ((DAY, 100),)},
    "register": {"free": NO_PAUSE, "ceilings": ((3600, 30), (DAY, 100))},
}


@dataclass(frozen=True)
class Attempt:
    key: tuple          # (subject, kind, bucket)
    failure_id: int     # the row that counts it as failed until it succeeds
    wait: float = None  # seconds before another attempt may be made; None: go ahead


def start_attempt(subject, kind, bucket, now):
    """Count one attempt as failed before checking it; ``.wait`` says if it may not be made.

    Counted up front, in one transaction with the checks, so that a burst of requests
    sent at once cannot slip in more guesses than the limits. ``attempt_succeeded``
    takes a right one off the count.
    """
    limits, key = LIMITS[kind], (subject, kind, bucket)
    db = get_db()
    with transaction(db):
        db.execute("INSERT OR IGNORE INTO pauses (subject, kind, bucket) VALUES (?, ?, ?)", key)
        streak, locked_until = db.execute(
            "SELECT streak, locked_until FROM pauses WHERE subject = ? AND kind = ? AND bucket = ?", key).fetchone()
        if locked_until > now:
            return Attempt(key, None, locked_until - now)
        for window, ceiling in limits["ceilings"]:
            # The ceiling'th most recent failure in the window: once it is older than the
            # window, there is room for one more.
            oldest = db.execute(
                "SELECT at FROM failures WHERE subject = ? AND kind = ? AND bucket = ? AND at > ?"
                " ORDER BY at DESC LIMIT 1 OFFSET ?", (*key, now - window, ceiling - 1)).fetchone()
            if oldest is not None:
                return Attempt(key, None, oldest[0] + window - now)
        failure_id = db.execute(
            "INSERT INTO failures (subject, kind, bucket, at) VALUES (?, ?, ?, ?)", (*key, now)).lastrowid
        streak += 1
        if streak >= limits["free"]:
            locked_until = now + min(MAX_DELAY, FIRST_DELAY << min(streak - limits["free"], 30))
        db.execute("UPDATE pauses SET streak = ?, locked_until = ? WHERE subject = ? AND kind = ? AND bucket = ?",
                   (streak, locked_until, *key))
    return Attempt(key, failure_id)


def attempt_succeeded(attempt):
    """The attempt was right: it is not a failure (its row moves to ``successes``), and the pause ends.
    The failures before stay counted."""
    db = get_db()
    with transaction(db):
        db.execute("INSERT INTO successes (subject, kind, bucket, at)"
                   " SELECT subject, kind, bucket, at FROM failures WHERE id = ?", (attempt.failure_id,))
        db.execute("DELETE FROM failures WHERE id = ?", (attempt.failure_id,))
        end_pause(*attempt.key, db=db)


def end_pause(subject, kind, bucket, db=None):
    (db or get_db()).execute(
        "UPDATE pauses SET streak = 0, locked_until = 0 WHERE subject = ? AND kind = ? AND bucket = ?",
        (subject, kind, bucket))
# ANCHOR_END: throttle


def retry_after(wait):
    """Whole seconds, rounded up, for the Retry-After header."""
    return max(1, math.ceil(wait))


def purge(now, db=None):
    """Attempts older than the longest window count for nothing: they go."""
    longest = max(window for limits in LIMITS.values() for window, _ceiling in limits["ceilings"])
    db = db or get_db()
    db.execute("DELETE FROM failures WHERE at < ?", (now - longest,))
    db.execute("DELETE FROM successes WHERE at < ?", (now - longest,))
