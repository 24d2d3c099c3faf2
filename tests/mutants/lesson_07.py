"""Answers to lesson 07's exercises 7.1, 7.2, 7.7 and 7.8."""
from . import Mutant


def recovery_codes(draw="secrets.choice(RECOVERY_ALPHABET)", stored="hash_code(code)",
                   delete="DELETE FROM recovery_codes WHERE user_id = ?", commit=True):
    """A make_recovery_codes answer, with one part changed."""
    writes = f"""db.execute("{delete}", (user_id,)) if "?" in "{delete}" else db.execute("{delete}")
    db.executemany("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)",
                   [(user_id, {stored}) for code in codes])"""
    if commit:
        writes = "with db:\n        " + writes.replace("\n    ", "\n        ")
    return f"""
def make_recovery_codes(db, user_id):
    codes = []
    for _ in range(10):
        raw = "".join({draw} for _ in range(24))
        codes.append("-".join(raw[i:i + 4] for i in range(0, 24, 4)))
    {writes}
    return codes
"""


MUTANTS = [
    Mutant("7.1", "one UPDATE whose WHERE does the check, committed", """
def accept_once(db, user_id, timecode):
    with db:
        changed = db.execute(
            "UPDATE users SET last_timecode = ?"
            " WHERE id = ? AND (last_timecode IS NULL OR last_timecode < ?)",
            (timecode, user_id, timecode),
        ).rowcount
    return changed == 1
""", True),
    Mutant("7.1", "one UPDATE, then SELECT changes() (race-free too)", """
def accept_once(db, user_id, timecode):
    with db:
        db.execute(
            "UPDATE users SET last_timecode = ?"
            " WHERE id = ? AND (last_timecode IS NULL OR last_timecode < ?)",
            (timecode, user_id, timecode),
        )
        changed = db.execute("SELECT changes()").fetchone()[0]
    return changed == 1
""", True),
    Mutant("7.1", "read, compare, then write", """
def accept_once(db, user_id, timecode):
    last = db.execute("SELECT last_timecode FROM users WHERE id = ?", (user_id,)).fetchone()[0]
    if last is not None and last >= timecode:
        return False
    with db:
        db.execute("UPDATE users SET last_timecode = ? WHERE id = ?", (timecode, user_id))
    return True
""", False, "no SELECT first"),
    Mutant("7.1", "never committed", """
def accept_once(db, user_id, timecode):
    changed = db.execute(
        "UPDATE users SET last_timecode = ?"
        " WHERE id = ? AND (last_timecode IS NULL OR last_timecode < ?)",
        (timecode, user_id, timecode),
    ).rowcount
    return changed == 1
""", False, "commit it"),
    Mutant("7.1", "<= lets the same step in again", """
def accept_once(db, user_id, timecode):
    with db:
        changed = db.execute(
            "UPDATE users SET last_timecode = ?"
            " WHERE id = ? AND (last_timecode IS NULL OR last_timecode <= ?)",
            (timecode, user_id, timecode),
        ).rowcount
    return changed == 1
""", False, "a replayed code"),
    Mutant("7.1", "NULL forgotten", """
def accept_once(db, user_id, timecode):
    with db:
        changed = db.execute(
            "UPDATE users SET last_timecode = ? WHERE id = ? AND last_timecode < ?",
            (timecode, user_id, timecode),
        ).rowcount
    return changed == 1
""", False, "last_timecode starts as NULL"),
    Mutant("7.1", "every user's row", """
def accept_once(db, user_id, timecode):
    with db:
        changed = db.execute(
            "UPDATE users SET last_timecode = ? WHERE last_timecode IS NULL OR last_timecode < ?",
            (timecode, timecode),
        ).rowcount
    return changed >= 1
""", False, "WHERE id = ?"),

    Mutant("7.2", "30 s doubling from the fifth failure, at most 900", """
def throttle_delay(failures):
    if failures < 5:
        return 0
    return min(900, 30 * 2 ** min(failures - 5, 10))
""", True),
    Mutant("7.2", "30 s more after each failure, not twice as long", """
def throttle_delay(failures):
    if failures < 5:
        return 0
    return min(900, 30 * (failures - 4))
""", False, "doubled after each further one"),
    Mutant("7.2", "no cap", """
def throttle_delay(failures):
    if failures < 5:
        return 0
    return 30 * 2 ** (failures - 5)
""", False, "never more than 900 s"),
    Mutant("7.2", "one failure late", """
def throttle_delay(failures):
    if failures <= 5:
        return 0
    return min(900, 30 * 2 ** (failures - 6))
""", False, "30 s after the 5th failure"),
    Mutant("7.2", "doubling from the first failure", """
def throttle_delay(failures):
    return 0 if failures == 0 else min(900, 30 * 2 ** failures)
""", False, "the first 5 failures cost nothing"),
    Mutant("7.2", "minutes instead of seconds", """
def throttle_delay(failures):
    if failures < 5:
        return 0
    return min(15, 0.5 * 2 ** (failures - 5))
""", False, "expected 30"),

    # Issue 22, second catalogue (2026-12-06): written from the lesson text
    Mutant("7.1", "COALESCE for the first code, rowcount read after the with block", """
def accept_once(db, user_id, timecode):
    with db:
        cursor = db.execute("UPDATE users SET last_timecode = ? WHERE id = ? AND COALESCE(last_timecode, -1) < ?",
                            (timecode, user_id, timecode))
    return cursor.rowcount > 0
""", True),
    Mutant("7.1", "the SQL built with an f-string", """
def accept_once(db, user_id, timecode):
    with db:
        changed = db.execute(
            f"UPDATE users SET last_timecode = {timecode}"
            f" WHERE id = {user_id} AND (last_timecode IS NULL OR last_timecode < {timecode})"
        ).rowcount
    return changed == 1
""", False, "placeholders"),
    Mutant("7.1", "used steps kept in a set in Python", """
USED = set()

def accept_once(db, user_id, timecode):
    if (user_id, timecode) in USED:
        return False
    USED.add((user_id, timecode))
    with db:
        db.execute("UPDATE users SET last_timecode = ? WHERE id = ?", (timecode, user_id))
    return True
""", False, "WHERE clause should compare last_timecode"),
    Mutant("7.1", "any other step than the last one (!= for <)", """
def accept_once(db, user_id, timecode):
    with db:
        changed = db.execute(
            "UPDATE users SET last_timecode = ?"
            " WHERE id = ? AND (last_timecode IS NULL OR last_timecode != ?)",
            (timecode, user_id, timecode),
        ).rowcount
    return changed == 1
""", False, "an older step"),
    Mutant("7.1", "always writes the larger step, then reads it back", """
def accept_once(db, user_id, timecode):
    with db:
        db.execute("UPDATE users SET last_timecode = MAX(COALESCE(last_timecode, -1), ?) WHERE id = ?",
                   (timecode, user_id))
    return db.execute("SELECT last_timecode FROM users WHERE id = ?", (user_id,)).fetchone()[0] == timecode
""", False, "no SELECT first"),
    Mutant("7.1", "the SQL built with % formatting", """
def accept_once(db, user_id, timecode):
    with db:
        changed = db.execute(
            "UPDATE users SET last_timecode = %d WHERE id = %d AND (last_timecode IS NULL OR last_timecode < %d)"
            % (timecode, user_id, timecode)).rowcount
    return changed == 1
""", False, "placeholders"),
    Mutant("7.2", "a loop that doubles, stopped at the cap", """
def throttle_delay(failures):
    delay = 0
    for count in range(5, failures + 1):
        delay = 30 if delay == 0 else delay * 2
        if delay >= 900:
            return 900
    return delay
""", True),
    Mutant("7.2", "a table of the lesson's gaps", """
def throttle_delay(failures):
    return {5: 30, 6: 60, 7: 120, 8: 240, 9: 480}.get(failures, 0 if failures < 5 else 900)
""", True),
    Mutant("7.2", "doubles the last delay it returned", """
LAST = [0]

def throttle_delay(failures):
    if failures < 5:
        LAST[0] = 0
    else:
        LAST[0] = 30 if LAST[0] == 0 else min(900, LAST[0] * 2)
    return LAST[0]
""", False, "from failures alone"),
    Mutant("7.2", "the cap by count: 900 only past 10 failures", """
def throttle_delay(failures):
    if failures < 5:
        return 0
    if failures > 10:
        return 900
    return 30 * 2 ** (failures - 5)
""", False, "never more than 900 s"),
    Mutant("7.2", "one formula for all, no free tries", """
def throttle_delay(failures):
    return min(900, int(30 * 2 ** (failures - 5)))
""", False, "the first 5 failures cost nothing"),
    Mutant("7.2", "the exponent one too big", """
def throttle_delay(failures):
    if failures < 5:
        return 0
    return min(900, 30 * 2 ** (failures - 4))
""", False, "30 s after the 5th failure"),
    Mutant("7.2", "max where min belongs", """
def throttle_delay(failures):
    if failures < 5:
        return 0
    return max(900, 30 * 2 ** min(failures - 5, 10))
""", False, "expected 30"),

    Mutant("7.7", "secrets.choice, hashes stored, old codes replaced", recovery_codes(), True),
    Mutant("7.7", "drawn with random", recovery_codes(draw="random.choice(RECOVERY_ALPHABET)"),
           False, "the module made for secrets"),
    Mutant("7.7", "codes stored as they are", recovery_codes(stored="code"), False, "never the code itself"),
    Mutant("7.7", "old codes kept", recovery_codes(delete="SELECT 1 FROM recovery_codes WHERE user_id = ?"),
           False, "remove them first"),
    Mutant("7.7", "every user's codes deleted", recovery_codes(delete="DELETE FROM recovery_codes"),
           False, "remove only this user's rows"),
    Mutant("7.7", "never committed", recovery_codes(commit=False), False, "commit them"),

    # Passed on the walk of 2026-12-05: low-entropy codes in the right format.
    Mutant("7.7", "24 random bits, the rest of the code a repeated 2", """
def make_recovery_codes(db, user_id):
    codes = []
    for _ in range(10):
        bits = secrets.randbits(24)
        raw = "".join(RECOVERY_ALPHABET[(bits >> (5 * i)) & 31] for i in range(5)).ljust(24, "2")
        codes.append("-".join(raw[i:i + 4] for i in range(0, 24, 4)))
    with db:
        db.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
        db.executemany("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)",
                       [(user_id, hash_code(code)) for code in codes])
    return codes
""", False, "far from random"),
    Mutant("7.7", "one character drawn per group, repeated four times", recovery_codes(
        draw="secrets.choice(RECOVERY_ALPHABET) * 4").replace("for _ in range(24)", "for _ in range(6)"),
           False, "far from random"),
    Mutant("7.7", "20 characters drawn, the same 4 at the end", recovery_codes(
        draw="secrets.choice(RECOVERY_ALPHABET)").replace(
        '"".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(24))',
        '"".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(20)) + "wxyz"'),
           False, "far from random"),

    Mutant("7.8", "one DELETE of this user's hash, committed", """
def use_recovery_code(db, user_id, code):
    with db:
        deleted = db.execute(
            "DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ?",
            (user_id, hash_code(code)),
        ).rowcount
    return deleted == 1
""", True),
    Mutant("7.8", "select, then delete", """
def use_recovery_code(db, user_id, code):
    row = db.execute("SELECT 1 FROM recovery_codes WHERE user_id = ? AND code_hash = ?",
                     (user_id, hash_code(code))).fetchone()
    if row is None:
        return False
    with db:
        db.execute("DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ?", (user_id, hash_code(code)))
    return True
""", False, "no SELECT first"),
    Mutant("7.8", "never committed", """
def use_recovery_code(db, user_id, code):
    deleted = db.execute("DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ?",
                         (user_id, hash_code(code))).rowcount
    return deleted == 1
""", False, "commit the DELETE"),
    Mutant("7.8", "any user's code", """
def use_recovery_code(db, user_id, code):
    with db:
        deleted = db.execute("DELETE FROM recovery_codes WHERE code_hash = ?", (hash_code(code),)).rowcount
    return deleted == 1
""", False, "match user_id = ? as well as the hash"),
    Mutant("7.8", "the code looked up as it is, not its hash", """
def use_recovery_code(db, user_id, code):
    with db:
        deleted = db.execute("DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ?",
                             (user_id, code)).rowcount
    return deleted == 1
""", False, "the table holds hashes, never codes"),
    Mutant("7.8", "True whatever the DELETE did", """
def use_recovery_code(db, user_id, code):
    with db:
        db.execute("DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ?", (user_id, hash_code(code)))
    return True
""", False, "each code works once"),
]

# Issue 22, second catalogue (2026-12-06): written from the lesson text
MUTANTS += [
    Mutant("7.7", "each group drawn on its own, a row inserted per code", """
def make_recovery_codes(db, user_id):
    codes = ["-".join("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(4)) for _ in range(6))
             for _ in range(10)]
    with db:
        db.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
        for code in codes:
            db.execute("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)", (user_id, hash_code(code)))
    return codes
""", True),
    Mutant("7.7", "hex digits from secrets.token_hex, grouped", recovery_codes().replace(
        '"".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(24))', "secrets.token_hex(12)"),
           False, "RECOVERY_ALPHABET"),
    Mutant("7.7", "four groups of six", recovery_codes().replace("raw[i:i + 4] for i in range(0, 24, 4)",
                                                                "raw[i:i + 6] for i in range(0, 24, 6)"),
           False, "in groups of 4 joined by '-'"),
    Mutant("7.7", "one code drawn, ten copies of it", """
def make_recovery_codes(db, user_id):
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(24))
    codes = ["-".join(raw[i:i + 4] for i in range(0, 24, 4))] * 10
    with db:
        db.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
        db.executemany("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)",
                       [(user_id, hash_code(code)) for code in codes])
    return codes
""", False, "two of your 10 codes are the same"),
    Mutant("7.7", "the codes drawn once, when the cell runs", """
CODES = ["-".join("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(4)) for _ in range(6))
         for _ in range(10)]

def make_recovery_codes(db, user_id):
    with db:
        db.execute("DELETE FROM recovery_codes WHERE user_id = ?", (user_id,))
        db.executemany("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)",
                       [(user_id, hash_code(code)) for code in CODES])
    return list(CODES)
""", False, "random each time"),
    Mutant("7.7", "the hash of the code without its dashes", recovery_codes(stored='hash_code(code.replace("-", ""))'),
           False, "hash_code(code)"),
    Mutant("7.7", "upper-case letters", recovery_codes(draw="secrets.choice(RECOVERY_ALPHABET.upper())"),
           False, "RECOVERY_ALPHABET"),
    Mutant("7.7", "url-safe token cut to 24 characters", recovery_codes().replace(
        '"".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(24))', "secrets.token_urlsafe(18)[:24]"),
           False, "RECOVERY_ALPHABET"),
    Mutant("7.7", "the SQL built with an f-string", """
def make_recovery_codes(db, user_id):
    codes = []
    for _ in range(10):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(24))
        codes.append("-".join(raw[i:i + 4] for i in range(0, 24, 4)))
    with db:
        db.execute(f"DELETE FROM recovery_codes WHERE user_id = {user_id}")
        for code in codes:
            db.execute(f"INSERT INTO recovery_codes (user_id, code_hash) VALUES ({user_id}, '{hash_code(code)}')")
    return codes
""", False, "placeholders"),
    Mutant("7.7", "returns the hashes, not the codes", recovery_codes().replace(
        "    return codes\n", "    return [hash_code(code) for code in codes]\n"), False, "the codes themselves"),

    Mutant("7.8", "one DELETE, then SELECT changes()", """
def use_recovery_code(db, user_id, code):
    with db:
        db.execute("DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ?", (user_id, hash_code(code)))
        gone = db.execute("SELECT changes()").fetchone()[0]
    return gone > 0
""", True),
    Mutant("7.8", "looked up, never deleted", """
def use_recovery_code(db, user_id, code):
    row = db.execute("SELECT 1 FROM recovery_codes WHERE user_id = ? AND code_hash = ?",
                     (user_id, hash_code(code))).fetchone()
    return row is not None
""", False, "must be gone from the table"),
    Mutant("7.8", "used codes remembered in a Python set", """
USED = set()

def use_recovery_code(db, user_id, code):
    key = (user_id, hash_code(code))
    row = db.execute("SELECT 1 FROM recovery_codes WHERE user_id = ? AND code_hash = ?", key).fetchone()
    if row is None or key in USED:
        return False
    USED.add(key)
    return True
""", False, "must be gone from the table"),
    Mutant("7.8", "every code of the user deleted when one is right", """
def use_recovery_code(db, user_id, code):
    with db:
        deleted = db.execute(
            "DELETE FROM recovery_codes WHERE user_id = ? AND EXISTS"
            " (SELECT 1 FROM recovery_codes WHERE user_id = ? AND code_hash = ?)",
            (user_id, user_id, hash_code(code))).rowcount
    return deleted >= 1
""", False, "other two codes should still be there"),
    Mutant("7.8", "OR in place of AND", """
def use_recovery_code(db, user_id, code):
    with db:
        deleted = db.execute("DELETE FROM recovery_codes WHERE user_id = ? OR code_hash = ?",
                             (user_id, hash_code(code))).rowcount
    return deleted >= 1
""", False, "user_id = ?"),
    Mutant("7.8", "the hash of the code without its dashes", """
def use_recovery_code(db, user_id, code):
    with db:
        deleted = db.execute("DELETE FROM recovery_codes WHERE user_id = ? AND code_hash = ?",
                             (user_id, hash_code(code.replace("-", "")))).rowcount
    return deleted == 1
""", False, "the code's hash"),
    Mutant("7.8", "the SQL built with an f-string", """
def use_recovery_code(db, user_id, code):
    with db:
        deleted = db.execute(f"DELETE FROM recovery_codes WHERE user_id = {user_id}"
                             f" AND code_hash = '{hash_code(code)}'").rowcount
    return deleted == 1
""", False, "placeholders"),
]
