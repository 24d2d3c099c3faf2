"""Right and plausible wrong answers to lesson 07's exercises 7.6 and 7.9.

Each wrong answer is a mistake the lesson warns against; its check must give ❌
with a hint that names the mistake (``hint`` is a piece of that message).
"""
import dataclasses


@dataclasses.dataclass(frozen=True)
class Mutant:
    exercise: str
    name: str
    source: str     # Python defining the names the exercise uses
    passes: bool    # True: the right answer (passes the visible and the hidden checks)
    hint: str = ""  # for a wrong answer: a piece of the ❌ message it must get


SESSION_USER_RIGHT = '''
def session_user(db, session_id, now, idle_seconds=30 * 60, max_seconds=12 * 3600):
    row = db.execute("SELECT user_id, started, last_seen FROM sessions WHERE id_hash = ?", (session_id,)).fetchone()
    if row is None:
        return None
    if now - row["last_seen"] > idle_seconds or now - row["started"] > max_seconds:
        with db:
            db.execute("DELETE FROM sessions WHERE id_hash = ?", (session_id,))
        return None
    with db:
        db.execute("UPDATE sessions SET last_seen = ? WHERE id_hash = ?", (now, session_id))
    return row["user_id"]
'''
END_ALL_RIGHT = '''
def end_all_sessions(db, user_id):
    with db:
        db.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
'''

COUNT_RIGHT = '''
def count_reauth_try(db, session_id, allowed=3):
    with db:
        return db.execute(
            "UPDATE sessions SET reauth_failures = reauth_failures + 1"
            " WHERE id_hash = ? AND reauth_failures < ?", (session_id, allowed)).rowcount == 1
'''

MUTANTS = [
    # 7.6: sessions that end on the server
    Mutant("7.6", "right answer", SESSION_USER_RIGHT + END_ALL_RIGHT, passes=True),
    Mutant("7.6", "idle time counted from the login", SESSION_USER_RIGHT.replace(
        'now - row["last_seen"] > idle_seconds', 'now - row["started"] > idle_seconds') + END_ALL_RIGHT,
           passes=False, hint="30 idle minutes count from her last request"),
    Mutant("7.6", "no idle limit", SESSION_USER_RIGHT.replace('now - row["last_seen"] > idle_seconds or ', "")
           + END_ALL_RIGHT, passes=False, hint="unused for 30 minutes"),
    Mutant("7.6", "no absolute limit", SESSION_USER_RIGHT.replace(' or now - row["started"] > max_seconds', "")
           + END_ALL_RIGHT, passes=False, hint="12 hours after her login"),
    Mutant("7.6", "last_seen never moves", SESSION_USER_RIGHT.replace(
        '    with db:\n        db.execute("UPDATE sessions SET last_seen = ? WHERE id_hash = ?", (now, session_id))\n', "")
           + END_ALL_RIGHT, passes=False, hint="set last_seen = now"),
    Mutant("7.6", "logout ends only one session", SESSION_USER_RIGHT + END_ALL_RIGHT.replace(
        '"DELETE FROM sessions WHERE user_id = ?", (user_id,)',
        '"DELETE FROM sessions WHERE id_hash = (SELECT id_hash FROM sessions WHERE user_id = ? LIMIT 1)", (user_id,)'),
           passes=False, hint="Delete every session of that user"),
    # Passed on the walk of 2026-12-05: nothing committed, so another worker of the app never sees the change.
    Mutant("7.6", "no with db: at all (nothing committed)", '''
def session_user(db, session_id, now, idle_seconds=30 * 60, max_seconds=12 * 3600):
    row = db.execute("SELECT user_id, started, last_seen FROM sessions WHERE id_hash = ?", (session_id,)).fetchone()
    if row is None:
        return None
    if now - row["last_seen"] > idle_seconds or now - row["started"] > max_seconds:
        db.execute("DELETE FROM sessions WHERE id_hash = ?", (session_id,))
        return None
    db.execute("UPDATE sessions SET last_seen = ? WHERE id_hash = ?", (now, session_id))
    return row["user_id"]

def end_all_sessions(db, user_id):
    db.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
''', passes=False, hint="not committed"),
    Mutant("7.6", "end_all_sessions not committed", SESSION_USER_RIGHT + '''
def end_all_sessions(db, user_id):
    db.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
''', passes=False, hint="not committed"),
    Mutant("7.6", "the idle session's delete not committed", SESSION_USER_RIGHT.replace(
        '        with db:\n            db.execute("DELETE FROM sessions WHERE id_hash = ?", (session_id,))\n',
        '        db.execute("DELETE FROM sessions WHERE id_hash = ?", (session_id,))\n') + END_ALL_RIGHT,
           passes=False, hint="not committed"),
    # The limits hard-coded where the parameters belong: right with the defaults, wrong with the app's settings.
    Mutant("7.6", "limits hard-coded, parameters ignored", SESSION_USER_RIGHT.replace(
        'now - row["last_seen"] > idle_seconds or now - row["started"] > max_seconds',
        'now - row["last_seen"] > 30 * 60 or now - row["started"] > 12 * 3600') + END_ALL_RIGHT,
           passes=False, hint="30 * 60 is only its default"),
    Mutant("7.6", "the absolute limit hard-coded", SESSION_USER_RIGHT.replace(
        'now - row["started"] > max_seconds', 'now - row["started"] > 12 * 3600') + END_ALL_RIGHT,
           passes=False, hint="12 * 3600"),
    Mutant("7.6", "idle limit never above 30 minutes", SESSION_USER_RIGHT.replace(
        'now - row["last_seen"] > idle_seconds', 'now - row["last_seen"] > min(idle_seconds, 30 * 60)') + END_ALL_RIGHT,
           passes=False, hint="30 * 60 is only its default"),
    Mutant("7.6", "absolute limit never below 12 hours", SESSION_USER_RIGHT.replace(
        'now - row["started"] > max_seconds', 'now - row["started"] > max(max_seconds, 12 * 3600)') + END_ALL_RIGHT,
           passes=False, hint="12 * 3600"),
    Mutant("7.6", "idle limit reached counts as past it (>=)", SESSION_USER_RIGHT.replace(
        'now - row["last_seen"] > idle_seconds', 'now - row["last_seen"] >= idle_seconds') + END_ALL_RIGHT,
           passes=False, hint="exactly the limit"),
    Mutant("7.6", "absolute limit reached counts as past it (>=)", SESSION_USER_RIGHT.replace(
        'now - row["started"] > max_seconds', 'now - row["started"] >= max_seconds') + END_ALL_RIGHT,
           passes=False, hint="exactly the limit"),
    Mutant("7.6", "the id hashed again", SESSION_USER_RIGHT.replace(
        "(session_id,)).fetchone()", "(__import__('hashlib').sha256(session_id.encode()).hexdigest(),)).fetchone()")
           + END_ALL_RIGHT, passes=False, hint="without hashing it again"),
    # Issue 22, second catalogue (2026-12-06): written from the lesson text
    Mutant("7.6", "one UPDATE for the live session, its rowcount decides, then the user read", """
def session_user(db, session_id, now, idle_seconds=30 * 60, max_seconds=12 * 3600):
    with db:
        alive = db.execute(
            "UPDATE sessions SET last_seen = ? WHERE id_hash = ? AND ? - last_seen <= ? AND ? - started <= ?",
            (now, session_id, now, idle_seconds, now, max_seconds)).rowcount
        if not alive:
            db.execute("DELETE FROM sessions WHERE id_hash = ?", (session_id,))
            return None
    return db.execute("SELECT user_id FROM sessions WHERE id_hash = ?", (session_id,)).fetchone()[0]
""" + END_ALL_RIGHT, passes=True),
    Mutant("7.6", "last_seen moved before the idle test", """
def session_user(db, session_id, now, idle_seconds=30 * 60, max_seconds=12 * 3600):
    with db:
        db.execute("UPDATE sessions SET last_seen = ? WHERE id_hash = ?", (now, session_id))
    row = db.execute("SELECT user_id, started, last_seen FROM sessions WHERE id_hash = ?", (session_id,)).fetchone()
    if row is None:
        return None
    if now - row["last_seen"] > idle_seconds or now - row["started"] > max_seconds:
        with db:
            db.execute("DELETE FROM sessions WHERE id_hash = ?", (session_id,))
        return None
    return row["user_id"]
""" + END_ALL_RIGHT, passes=False, hint="unused for 30 minutes"),
    Mutant("7.6", "the timed-out row kept", SESSION_USER_RIGHT.replace(
        '        with db:\n            db.execute("DELETE FROM sessions WHERE id_hash = ?", (session_id,))\n', "")
           + END_ALL_RIGHT, passes=False, hint="delete"),
    Mutant("7.6", "the row returned, not its user_id", SESSION_USER_RIGHT.replace('return row["user_id"]', "return row")
           + END_ALL_RIGHT, passes=False, hint="returned a Row"),
    Mutant("7.6", "the SQL built with f-strings", """
def session_user(db, session_id, now, idle_seconds=30 * 60, max_seconds=12 * 3600):
    row = db.execute(f"SELECT user_id, started, last_seen FROM sessions WHERE id_hash = '{session_id}'").fetchone()
    if row is None:
        return None
    if now - row["last_seen"] > idle_seconds or now - row["started"] > max_seconds:
        with db:
            db.execute(f"DELETE FROM sessions WHERE id_hash = '{session_id}'")
        return None
    with db:
        db.execute(f"UPDATE sessions SET last_seen = {now} WHERE id_hash = '{session_id}'")
    return row["user_id"]
""" + END_ALL_RIGHT, passes=False, hint="placeholders"),
    Mutant("7.6", "logout ends every user's sessions", SESSION_USER_RIGHT + END_ALL_RIGHT.replace(
        '"DELETE FROM sessions WHERE user_id = ?", (user_id,)', '"DELETE FROM sessions"'),
           passes=False, hint="that user"),
    Mutant("7.6", "the 12 hours counted from last_seen", SESSION_USER_RIGHT.replace(
        'now - row["started"] > max_seconds', 'now - row["last_seen"] > max_seconds') + END_ALL_RIGHT,
           passes=False, hint="12 hours after her login"),
    # 7.9: wrong tries at /replace-phone count against the session
    Mutant("7.9", "right answer", COUNT_RIGHT, passes=True),
    Mutant("7.9", "three, whatever allowed says", COUNT_RIGHT.replace("reauth_failures < ?\", (session_id, allowed)",
                                                                      "reauth_failures < 3\", (session_id,)"),
           passes=False, hint="use the `allowed` you are given"),
    Mutant("7.9", "one try short", COUNT_RIGHT.replace("reauth_failures < ?\", (session_id, allowed)",
                                                       "reauth_failures < ?\", (session_id, allowed - 1)"),
           passes=False, hint="the first 3 tries in a session should give True"),
    Mutant("7.9", "counted against the account", '''
def count_reauth_try(db, session_id, allowed=3):
    with db:
        return db.execute(
            "UPDATE sessions SET reauth_failures = reauth_failures + 1"
            " WHERE user_id = (SELECT user_id FROM sessions WHERE id_hash = ?)"
            " AND (SELECT MAX(reauth_failures) FROM sessions s WHERE s.user_id = sessions.user_id) < ?",
            (session_id, allowed)).rowcount >= 1
''', passes=False, hint="not the account"),
    Mutant("7.9", "no limit at all", COUNT_RIGHT.replace(" AND reauth_failures < ?\", (session_id, allowed)",
                                                         "\", (session_id,)"),
           passes=False, hint="after 3 tries the session is spent"),
    Mutant("7.9", "one try too many", COUNT_RIGHT.replace("reauth_failures < ?", "reauth_failures <= ?"),
           passes=False, hint="not <="),
]

# Issue 22, second catalogue (2026-12-06): written from the lesson text
MUTANTS += [
    Mutant("7.9", "UPDATE ... RETURNING the new count", '''
def count_reauth_try(db, session_id, allowed=3):
    with db:
        row = db.execute("UPDATE sessions SET reauth_failures = reauth_failures + 1 WHERE id_hash = ?"
                         " RETURNING reauth_failures", (session_id,)).fetchone()
    return row is not None and row[0] <= allowed
''', passes=True),
    Mutant("7.9", "read, compare, then write", '''
def count_reauth_try(db, session_id, allowed=3):
    row = db.execute("SELECT reauth_failures FROM sessions WHERE id_hash = ?", (session_id,)).fetchone()
    if row is None or row[0] >= allowed:
        return False
    with db:
        db.execute("UPDATE sessions SET reauth_failures = ? WHERE id_hash = ?", (row[0] + 1, session_id))
    return True
''', passes=False, hint="in one UPDATE"),
    Mutant("7.9", "a session that is not there may go ahead", '''
def count_reauth_try(db, session_id, allowed=3):
    with db:
        row = db.execute("UPDATE sessions SET reauth_failures = reauth_failures + 1 WHERE id_hash = ?"
                         " RETURNING reauth_failures", (session_id,)).fetchone()
    return row is None or row[0] <= allowed
''', passes=False, hint="no such session"),
    Mutant("7.9", "counted in a Python dict", '''
TRIES = {}

def count_reauth_try(db, session_id, allowed=3):
    TRIES[session_id] = TRIES.get(session_id, 0) + 1
    return TRIES[session_id] <= allowed
''', passes=False, hint="nothing was counted in the session's row"),
    Mutant("7.9", "every session's count goes up", COUNT_RIGHT.replace(
        '" WHERE id_hash = ? AND reauth_failures < ?", (session_id, allowed)).rowcount == 1',
        '" WHERE reauth_failures < ?", (allowed,)).rowcount >= 1'),
           passes=False, hint="WHERE id_hash = ?"),
    Mutant("7.9", "never committed", COUNT_RIGHT.replace("    with db:\n        return", "    if True:\n        return"),
           passes=False, hint="commit"),
    Mutant("7.9", "the session id put into the SQL text", COUNT_RIGHT.replace(
        "\" WHERE id_hash = ? AND reauth_failures < ?\", (session_id, allowed))",
        "f\" WHERE id_hash = '{session_id}' AND reauth_failures < {allowed}\")"),
           passes=False, hint="placeholders"),
]
