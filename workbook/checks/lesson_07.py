"""Checks for lesson 07: hardening (replay, throttling, recovery codes)."""
import hashlib
import math
import os
import random
import re
import sqlite3
import tempfile

from . import exercise, hidden_check

TIMECODE = 56_666_666  # the 30-second step at Unix time 1_699_999_980


def _users_db(path=":memory:"):
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    db.executescript("""
        CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, username TEXT, last_timecode INTEGER);
        INSERT OR IGNORE INTO users (id, username) VALUES (1, 'alice'), (2, 'bob');
    """)
    db.commit()
    return db


def _last(db, user_id):
    return db.execute("SELECT last_timecode FROM users WHERE id = ?", (user_id,)).fetchone()[0]


def _statements(db, action):
    """The SQL statements ``action()`` runs on ``db`` (BEGIN/COMMIT left out)."""
    seen = []
    db.set_trace_callback(seen.append)
    try:
        result = action()
    finally:
        db.set_trace_callback(None)
    kept = [s.strip() for s in seen if s.strip().split(" ", 1)[0].upper() in ("SELECT", "UPDATE", "DELETE", "INSERT")]
    return result, kept


# --- 7.1 -----------------------------------------------------------------

class _TwoWorkers:
    """A users table in a file, opened twice: two workers of one app, as under gunicorn -w 4."""

    def __enter__(self):
        self.folder = tempfile.TemporaryDirectory()
        path = os.path.join(self.folder.name, "users.sqlite")
        self.a = _users_db(path)
        self.b = sqlite3.connect(path)
        self.b.row_factory = sqlite3.Row
        return self

    def __exit__(self, *exc):
        self.a.close()
        self.b.close()
        self.folder.cleanup()


CHANGES_QUERY = re.compile(r"SELECT\s+(total_)?changes\(\s*\)\s*;?", re.I)


def _one_statement(statements, verb, what):
    # Asking SQLite how many rows the write changed (SELECT changes()) reads no table: still one check.
    statements = [s for s in statements if not CHANGES_QUERY.fullmatch(s)]
    assert len(statements) == 1 and statements[0].upper().startswith(verb), (
        f"do the check and the change in one {verb} ... WHERE ... (no SELECT first): between a SELECT and "
        f"the {verb} another worker can {what}. Your SQL: {statements}"
    )


@exercise("7.1", "Accept each time step once", uses=["accept_once"])
def check_accept_once(accept_once):
    with _TwoWorkers() as workers:
        db = workers.a
        first, statements = _statements(db, lambda: accept_once(db, 1, TIMECODE))
        assert first is True, (
            f"the first use of a step should give True, got {first!r}. Return whether the UPDATE changed "
            "a row (last_timecode starts as NULL: allow that in the WHERE clause)."
        )
        assert _last(db, 1) == TIMECODE, "after accepting, users.last_timecode should hold that step: SET last_timecode = ?."
        _one_statement(statements, "UPDATE", "accept the same code")
        assert re.search(r"where.*last_timecode", statements[0], re.I | re.S), (
            "the UPDATE's WHERE clause should compare last_timecode with the new step, so the check and "
            "the write are one."
        )
        assert _last(workers.b, 1) == TIMECODE, (
            "another connection (another worker) cannot see the new last_timecode: commit it (put the "
            "UPDATE inside `with db:`)."
        )
        again = accept_once(db, 1, TIMECODE)
        assert again is False, (
            f"the same step a second time should give False (a replayed code), got {again!r}: "
            "only change the row when last_timecode < the new step (not <=)."
        )
        older = accept_once(db, 1, TIMECODE - 1)
        assert older is False, "an older step than the last one accepted must give False too."
        assert _last(db, 1) == TIMECODE, "a refused step must not change last_timecode."
        assert accept_once(db, 1, TIMECODE + 1) is True, "a later step (the next code) should give True."
        assert accept_once(db, 2, TIMECODE) is True, (
            "bob's first code was refused: each user has their own last_timecode (WHERE id = ?)."
        )
        assert _last(db, 1) == TIMECODE + 1, "accepting bob's code changed alice's row: put id = ? in the WHERE clause."
        assert accept_once(workers.b, 1, TIMECODE + 1) is False, (
            "a second worker accepted a step the first had already used."
        )


@hidden_check("7.1")
def check_accept_once_far_steps(accept_once):
    db = _users_db()
    assert accept_once(db, 2, 2 ** 40) is True, "a very large step should work like any other."
    assert accept_once(db, 2, 2 ** 40) is False
    assert accept_once(db, 1, 1) is True, "alice's first step is hers alone."


# --- 7.2 -----------------------------------------------------------------

EXPECTED_DELAYS = {0: 0, 1: 0, 4: 0, 5: 30, 6: 60, 7: 120, 8: 240, 9: 480, 10: 900, 11: 900, 50: 900}


@exercise("7.2", "Wait longer after each failure", uses=["throttle_delay"])
def check_throttle_delay(throttle_delay):
    for failures in range(5):
        got = throttle_delay(failures)
        assert got == 0, f"throttle_delay({failures}) gave {got!r}: the first 5 failures cost nothing (0 seconds)."
    for failures, expected in EXPECTED_DELAYS.items():
        got = throttle_delay(failures)
        assert got == expected, (
            f"throttle_delay({failures}) gave {got!r}, expected {expected}: 30 s after the 5th failure, "
            "doubled after each further one (30 * 2 ** (failures - 5)), never more than 900 s (15 minutes)."
        )


@hidden_check("7.2")
def check_throttle_delay_never_shrinks(throttle_delay):
    delays = [throttle_delay(failures) for failures in range(200)]
    assert delays == sorted(delays), "the delay must never get shorter as failures add up."
    assert throttle_delay(10 ** 6) == 900, "a huge number of failures should still wait 900 s, not more."


# --- 7.5 and 7.6 -----------------------------------------------------------

CODE_FORMAT = re.compile(r"[a-z2-7]{4}(-[a-z2-7]{4}){5}")


def sha256_hex(code):
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def _codes_db(path=":memory:"):
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    db.executescript("""
        CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT);
        INSERT INTO users (id, username) VALUES (1, 'alice'), (2, 'bob');
        CREATE TABLE recovery_codes (user_id INTEGER NOT NULL, code_hash TEXT NOT NULL,
                                     PRIMARY KEY (user_id, code_hash));
    """)
    return db


def _stored(db, user_id):
    return {row[0] for row in db.execute("SELECT code_hash FROM recovery_codes WHERE user_id = ?", (user_id,))}


def _codes_drawn_after_seeding(make_recovery_codes):
    """Two calls, each after random.seed(7): codes from `random` come out the same twice."""
    state = random.getstate()
    try:
        random.seed(7)
        first = make_recovery_codes(_codes_db(), 1)
        random.seed(7)
        second = make_recovery_codes(_codes_db(), 1)
    finally:
        random.setstate(state)
    return first, second


@exercise("7.5", "Make ten recovery codes", uses=["make_recovery_codes"])
def check_make_recovery_codes(make_recovery_codes):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "codes.sqlite")
        db, other_worker = _codes_db(path), sqlite3.connect(path)
        try:
            bob = make_recovery_codes(db, 2)
            codes = make_recovery_codes(db, 1)
            assert isinstance(codes, list) and len(codes) == 10, f"return a list of 10 codes, not {codes!r}."
            for code in codes:
                assert isinstance(code, str) and CODE_FORMAT.fullmatch(code), (
                    f"{code!r} is not like abcd-efgh-ijkm-nopq-rstu-vwxy: 24 characters from RECOVERY_ALPHABET "
                    "in groups of 4 joined by '-'."
                )
            assert len(set(codes)) == 10, "two of the codes are the same: draw each one afresh with secrets.choice."
            stored = _stored(db, 1)
            assert stored, "nothing was stored in recovery_codes for user 1: INSERT (user_id, hash_code(code)) for each code."
            for code in codes:
                assert code not in stored, "a code is stored as it is: store hash_code(code), never the code itself."
            assert stored == {sha256_hex(code) for code in codes}, (
                "the stored hashes do not match the codes returned: store hash_code(code) for exactly the 10 "
                "codes you return."
            )
            assert _stored(other_worker, 1) == stored, (
                "another connection (another worker) cannot see the new codes: commit them (do the writes "
                "inside `with db:`)."
            )
            assert _stored(db, 2) == {sha256_hex(code) for code in bob}, (
                "making alice's codes changed bob's: only delete the rows WHERE user_id = ?."
            )
            fresh = make_recovery_codes(db, 1)
            assert set(fresh).isdisjoint(codes), "a second call gave some of the same codes: they must be random each time."
            assert _stored(db, 1) == {sha256_hex(code) for code in fresh}, (
                "after a second call the user should have only the 10 new codes: DELETE the old ones first."
            )
        finally:
            db.close()
            other_worker.close()
    first, second = _codes_drawn_after_seeding(make_recovery_codes)
    assert set(first).isdisjoint(second), (
        "after random.seed(7), your codes came out the same twice: they come from the `random` module, "
        "whose next numbers anyone can work out from a few outputs. Draw them with secrets.choice()."
    )


@hidden_check("7.5")
def check_make_recovery_codes_use_the_whole_alphabet(make_recovery_codes):
    letters = set("".join(make_recovery_codes(_codes_db(), 1) + make_recovery_codes(_codes_db(), 1)).replace("-", ""))
    assert len(letters) >= 24, "draw every character from the whole RECOVERY_ALPHABET (32 characters)."


ALICE_CODES = ["abcd-efgh-ijkm-nopq-rstu-vwxy", "qrst-uvwx-yz23-4567-abcd-efgh", "aaaa-bbbb-cccc-dddd-eeee-ffff"]
BOB_CODE = "zzzz-yyyy-xxxx-wwww-vvvv-uuuu"


def _filled_codes_db(path=":memory:"):
    db = _codes_db(path)
    rows = [(1, sha256_hex(code)) for code in ALICE_CODES] + [(2, sha256_hex(BOB_CODE))]
    db.executemany("INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)", rows)
    db.commit()
    return db


@exercise("7.6", "Use a recovery code once", uses=["use_recovery_code"])
def check_use_recovery_code(use_recovery_code):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "codes.sqlite")
        db, other_worker = _filled_codes_db(path), sqlite3.connect(path)
        try:
            first, statements = _statements(db, lambda: use_recovery_code(db, 1, ALICE_CODES[0]))
            assert first is True, (
                f"alice's first recovery code should give True, got {first!r}: DELETE the row with her user_id "
                "and the code's hash (the table holds hashes, never codes), then return whether a row went."
            )
            assert sha256_hex(ALICE_CODES[0]) not in _stored(db, 1), "a used code must be gone from the table."
            _one_statement(statements, "DELETE", "use the same code")
            assert sha256_hex(ALICE_CODES[0]) not in _stored(other_worker, 1), (
                "another connection (another worker) still sees the used code: commit the DELETE (inside `with db:`)."
            )
            again = use_recovery_code(db, 1, ALICE_CODES[0])
            assert again is False, f"the same code a second time should give False, got {again!r}: each code works once."
            assert use_recovery_code(db, 1, "abcd-efgh-ijkm-nopq-rstu-vwxz") is False, (
                "a code that was never issued should give False: return whether the DELETE removed a row "
                "(rowcount == 1)."
            )
            assert use_recovery_code(db, 1, BOB_CODE) is False, (
                "bob's code let alice in: match user_id = ? as well as the hash."
            )
            assert _stored(db, 2) == {sha256_hex(BOB_CODE)}, "trying bob's code on alice's account must not use it up."
            assert len(_stored(db, 1)) == 2, "alice's other two codes should still be there."
            assert use_recovery_code(db, 2, BOB_CODE) is True, "bob's own code should work for bob."
        finally:
            db.close()
            other_worker.close()


@hidden_check("7.6")
def check_use_recovery_code_strange_input(use_recovery_code):
    db = _filled_codes_db()
    assert use_recovery_code(db, 1, "x' OR '1'='1") is False
    assert len(_stored(db, 1)) == 3, "a strange input deleted codes: pass values as ? parameters."
    assert use_recovery_code(db, 1, ALICE_CODES[2]) is True


# --- 7.3, 7.4 and 7.7: the guessing ceiling, sessions, wrong tries at /replace-phone ----

IDLE_SECONDS, MAX_SECONDS = 30 * 60, 12 * 3600
LOGIN_TIME = 1_700_000_000


def _sessions_db():
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    db.executescript("""
        CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id INTEGER NOT NULL, started REAL NOT NULL,
                               last_seen REAL NOT NULL, disable_failures INTEGER NOT NULL DEFAULT 0);
    """)
    for session_id, user_id in (("alice-laptop", 1), ("alice-phone", 1), ("bob-laptop", 2)):
        db.execute("INSERT INTO sessions (id, user_id, started, last_seen) VALUES (?, ?, ?, ?)",
                   (session_id, user_id, LOGIN_TIME, LOGIN_TIME))
    db.commit()
    return db


@exercise("7.4", "End sessions on the server", uses=["session_user", "end_all_sessions"])
def check_session_user(session_user, end_all_sessions):
    db = _sessions_db()
    got = session_user(db, "alice-laptop", LOGIN_TIME + 60)
    assert got == 1, f"a session used a minute ago should give its user_id 1, got {got!r}."
    assert session_user(db, "no-such-session", LOGIN_TIME) is None, (
        "a session id that is not in the table (a forged or ended one) must give None."
    )
    # A busy user: a request every 20 minutes for nearly 12 hours.
    for now in [*range(LOGIN_TIME + 20 * 60, LOGIN_TIME + MAX_SECONDS, 20 * 60), LOGIN_TIME + MAX_SECONDS - 60]:
        got = session_user(db, "alice-laptop", now)
        assert got == 1, (
            f"alice, busy all along (a request every 20 minutes), was logged out {int((now - LOGIN_TIME) / 60)} "
            "minutes after her login: set last_seen = now each time the session is used, so the 30 idle "
            "minutes count from her last request, not from the login."
        )
    idle = session_user(db, "bob-laptop", LOGIN_TIME + IDLE_SECONDS + 1)
    assert idle is None, (
        "bob's session, unused for 30 minutes and 1 second, still gave his user_id: end a session when "
        "now - last_seen > 30 * 60 (the idle limit)."
    )
    assert session_user(db, "bob-laptop", LOGIN_TIME + 60) is None, (
        "an idle session came back to life: delete its row when it times out."
    )
    late = session_user(db, "alice-laptop", LOGIN_TIME + MAX_SECONDS + 1)
    assert late is None, (
        "alice's session, busy all along, still worked 12 hours after her login: end a session when "
        "now - started > 12 * 3600, however recent the last request (the absolute limit)."
    )
    db = _sessions_db()
    end_all_sessions(db, 1)
    left = {row["id"] for row in db.execute("SELECT id FROM sessions")}
    assert left == {"bob-laptop"}, (
        f"after end_all_sessions(db, 1) these sessions are left: {sorted(left)}. Delete every session of "
        "that user (a stolen copy of any cookie must open nothing), and no one else's."
    )
    assert session_user(db, "alice-phone", LOGIN_TIME + 60) is None, "an ended session still gave its user."


def _run_attacker(lockout_seconds, days):
    """Guesses a script gets in ``days``, guessing whenever lockout_seconds allows, one a second."""
    now, end, failures, guesses = 0, days * 24 * 3600, 0, 0
    while now < end and guesses <= 1000:
        failures += 1
        guesses += 1
        wait = lockout_seconds(failures)
        if wait == math.inf:
            break
        now += max(1, wait)
    return guesses


@exercise("7.3", "A ceiling on guessing", uses=["lockout_seconds"])
def check_lockout_seconds(lockout_seconds):
    for failures in range(5):
        got = lockout_seconds(failures)
        assert got == 0, (
            f"lockout_seconds({failures}) gave {got!r}: the first failures cost nothing (0 seconds); "
            "check the free tries before the multiple-of-30 rule (0 is a multiple of 30 too)."
        )
    for failures, expected in {5: 30, 6: 60, 9: 480, 10: 900, 29: 900, 31: 900, 99: 900}.items():
        got = lockout_seconds(failures)
        assert got == expected, (
            f"lockout_seconds({failures}) gave {got!r}, expected {expected}: between the ceilings the wait is "
            "30 * 2 ** (failures - 5) seconds, at most 900."
        )
    in_a_month = _run_attacker(lockout_seconds, 30)
    assert in_a_month <= 30, (
        f"a script guessing whenever allowed gets {in_a_month} guesses in 30 days: the 15-minute cap alone still "
        "lets it guess around the clock. Add the ceiling: every 30th failure in a row waits 30 days (2_592_000 s)."
    )
    for failures in (30, 60, 90):
        assert lockout_seconds(failures) == 30 * 24 * 3600, f"lockout_seconds({failures}) should be 30 days, 2_592_000 s."
    for failures in (100, 101, 250):
        got = lockout_seconds(failures)
        assert got == math.inf, (
            f"lockout_seconds({failures}) gave {got!r}: from 100 failures in a row on (NIST SP 800-63B's limit), "
            "codes are closed for good: return math.inf (a recovery code opens them again)."
        )
    in_a_year = _run_attacker(lockout_seconds, 400)
    assert in_a_year <= 100, f"{in_a_year} guesses in 400 days: never more than 100 failures in a row."


def _failures(db, session_id):
    return db.execute("SELECT disable_failures FROM sessions WHERE id = ?", (session_id,)).fetchone()[0]


@exercise("7.7", "Count wrong tries against the session", uses=["count_disable_failure"])
def check_count_disable_failure(count_disable_failure):
    db = _sessions_db()
    answers = [count_disable_failure(db, "alice-laptop") for _ in range(5)]
    assert answers[:3] == [True, True, True], (
        f"the first 3 tries in a session should give True, got {answers[:3]}: add one to "
        "disable_failures in an UPDATE whose WHERE clause refuses a 4th try; rowcount says whether it went ahead."
    )
    assert answers[3:] == [False, False], (
        f"tries 4 and 5 gave {answers[3:]}: after 3 tries the session is spent (False), and the app ends it. "
        "Compare with < allowed, not <=."
    )
    assert _failures(db, "alice-laptop") == 3, "the count should stop at 3: a refused try changes nothing."
    other = count_disable_failure(db, "alice-phone")
    assert other is True, (
        "alice's other session was refused after her laptop's session used its tries: count against the "
        "session (WHERE id = ?), not the account. Otherwise a stolen cookie locks the owner out."
    )
    assert _failures(db, "bob-laptop") == 0, "bob's session was counted too: WHERE id = ? on the session."


@hidden_check("7.7")
def check_count_disable_failure_is_one_update(count_disable_failure):
    db = _sessions_db()
    result, statements = _statements(db, lambda: count_disable_failure(db, "alice-laptop"))
    assert result is True
    assert len(statements) == 1 and statements[0].upper().startswith("UPDATE"), (
        "count and check in one UPDATE ... WHERE disable_failures < ?: with a SELECT first, a burst of "
        f"requests sent at once all see the old count. Your SQL: {statements}"
    )
