"""Recovery codes: ten random codes, shown once, stored hashed, each usable once.

The codes themselves are made in two_factor.py (``new_recovery_code``); this module keeps them.
"""
import hashlib

from db import get_db

RECOVERY_CODES_SHOWN_FOR = 10 * 60  # seconds the new codes wait to be saved, at most


def hash_recovery_code(code):
    """sha256, not the slow salted hash used for passwords.

    A password is guessable, so each guess must cost a lot. A recovery code holds
    120 random bits: far too many to try, even at billions of fast hashes a second
    (NIST SP 800-63B asks for a slow salted hash only below 112 bits).
    """
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def store(db, user_id, codes, now):
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


def to_show(user_id, now):
    """The new codes waiting to be saved; [] once saved, or 10 minutes after they were made.

    Only reads: a GET or HEAD (a browser prefetching the link, a reload) uses nothing up.
    """
    row = get_db().execute(
        "SELECT codes FROM recovery_codes_to_show WHERE user_id = ? AND created >= ?",
        (user_id, now - RECOVERY_CODES_SHOWN_FOR),
    ).fetchone()
    return row["codes"].split() if row else []


def saved(user_id):
    """The user confirmed (a POST) that they saved the codes: the plain copy goes."""
    get_db().execute("DELETE FROM recovery_codes_to_show WHERE user_id = ?", (user_id,))


def use(user_id, code):
    """Delete the code if it is one of the user's; True only for the request that deleted it."""
    deleted = get_db().execute(
        "DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ?",
        (user_id, hash_recovery_code(code)),
    ).rowcount
    return deleted == 1


def left(user_id):
    return get_db().execute(
        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ?", (user_id,)
    ).fetchone()[0]


def purge(now, db=None):
    """Forget every plain copy older than 10 minutes, whoever it belongs to (even a user who never came back)."""
    (db or get_db()).execute("DELETE FROM recovery_codes_to_show WHERE created < ?",
                             (now - RECOVERY_CODES_SHOWN_FOR,))
