"""Checks for lesson 07: hardening (replay, throttling, device cookies, sessions, recovery codes, secrets at rest)."""
import base64
import hashlib
import os
import random
import re
import secrets
import sqlite3
import tempfile

from . import RUN_SEED, exercise, hidden_check, question

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


# --- 7.3 and 7.4: a stranger who keeps the owner out, and device cookies ------------------------

DAY = 24 * 3600
OWNER_PASSWORD = "correct horse battery"
OWNER_NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy")
STRANGER_REQUESTS = 600    # a right attack needs about 120
OWNER_TRIES = 8


def _stage7_with_an_owner(folder, per_account_only):
    """Stage 7 (or, ``per_account_only``, stage 7 with one bucket per account) where an owner with a
    name drawn at random enrolled from her browser; she keeps that browser and is logged out."""
    from ..app_loader import make_stage_app
    from ..fixed_clock import FixedClock
    from ..phone import Phone
    from ..stage_variants import without_device_cookies
    from ..visitor import submit_form

    clock = FixedClock(1_700_000_000)
    app = make_stage_app(7, {
        "TESTING": True, "SECRET_KEY": "the lesson 07 check's key, not a real one", "CLOCK": clock,
        "DATABASE": os.path.join(folder, "users.sqlite"), "SESSION_COOKIE_SECURE": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1", "NOTIFY": lambda username, event: None,
    })
    if per_account_only:
        without_device_cookies(app)
    username = f"{random.choice(OWNER_NAMES)}{random.randrange(10, 100)}"
    owner, phone = app.test_client(), Phone(clock=clock)
    submit_form(owner, "/register", username=username, password=OWNER_PASSWORD)
    phone.scan(owner.get("/enable-2fa").data)
    submit_form(owner, "/enable-2fa", otp=phone.code())
    submit_form(owner, "/dashboard")          # the Log out button
    clock.advance(60)
    return app, clock, owner, username


class _StillGoing(Exception):
    """The stranger's attack sent more requests than a right one needs many times over."""


def _run_stranger(keep_out, app, clock, username):
    """The statuses of the requests ``keep_out`` sent from its browser, and whether it had to be stopped."""
    stranger, statuses = app.test_client(), []
    send = stranger.open

    def counted(*args, **kwargs):
        if len(statuses) >= STRANGER_REQUESTS:
            raise _StillGoing()
        response = send(*args, **kwargs)
        statuses.append(response.status_code)
        return response

    stranger.open = counted
    try:
        keep_out(stranger, username, clock)
    except _StillGoing:
        return statuses, True
    return statuses, False


def _password_failures(app, username):
    with sqlite3.connect(app.config["DATABASE"]) as db:
        return db.execute(
            "SELECT COUNT(*) FROM failures JOIN users ON failures.subject = 'user:' || users.id"
            " WHERE users.username = ? AND failures.kind = 'password'", (username,)).fetchone()[0]


def _owner_refused(clock, owner, username):
    """How many of the owner's right passwords, at random times over the next days, got 429."""
    from ..visitor import submit_form

    refused = 0
    for _ in range(OWNER_TRIES):
        clock.advance(random.randrange(3600, 36 * 3600))
        refused += submit_form(owner, "/login", username=username, password=OWNER_PASSWORD).status_code == 429
    return refused


@exercise("7.3", "Keep the owner out", uses=["keep_out"])
def check_keep_out(keep_out):
    with tempfile.TemporaryDirectory() as folder:
        app, clock, owner, username = _stage7_with_an_owner(folder, per_account_only=True)
        statuses, stopped = _run_stranger(keep_out, app, clock, username)
        failed = _password_failures(app, username)
        if failed == 0:
            assert 400 not in statuses, (
                "your requests got 400 and counted for nothing: the login form carries a hidden csrf_token. "
                "Send the form as a browser does (submit() copies the hidden fields)."
            )
            raise AssertionError(
                f"none of your requests counted as a failed password for {username!r}: fail at /login, with "
                "the username you were given (a stranger has no password, so the code step is out of reach)."
            )
        assert not stopped, (
            f"your attack sent {STRANGER_REQUESTS} requests and was still going ({failed} failed passwords "
            "counted): while the app makes you wait, more requests count for nothing. Let the clock run for "
            "the wait each 429 names, and stop once that wait is longer than a day."
        )
        refused = _owner_refused(clock, owner, username)
        assert refused == OWNER_TRIES, (
            f"the owner's right password still got in {OWNER_TRIES - refused} of {OWNER_TRIES} times over the "
            f"following days ({failed} failed passwords counted): your attack stopped too soon. Each 429 says "
            "how long to wait (Retry-After): let the clock run that long and go on, until the wait is longer "
            "than a day."
        )


STRANGERS = "strangers"
DEVICE_LIFETIME = 90 * DAY


def _devices_db(path=":memory:"):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE devices (id_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL, expires REAL NOT NULL)")
    db.commit()
    return db


def _cookies_drawn_after_seeding(trust_browser):
    state = random.getstate()
    try:
        random.seed(7)
        first = trust_browser(_devices_db(), 1, 0)
        random.seed(7)
        second = trust_browser(_devices_db(), 1, 0)
    finally:
        random.setstate(state)
    return first, second


@exercise("7.4", "Count a trusted browser's failures apart", uses=["trust_browser", "failure_bucket"])
def check_device_buckets(trust_browser, failure_bucket):
    now = 1_700_000_000 + random.randrange(10 ** 6)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "devices.sqlite")
        db, other_worker = _devices_db(path), sqlite3.connect(path)
        try:
            cookie = trust_browser(db, 1, now)
            assert isinstance(cookie, str) and len(cookie) >= 22, (
                f"trust_browser should return the new cookie's value, a random id as text of 128 bits or more, "
                f"not {cookie!r}."
            )
            rows = db.execute("SELECT id_hash, user_id, expires FROM devices").fetchall()
            assert not any(cookie in str(value) for row in rows for value in row), (
                "the table holds the cookie's id as it is: a thief of the database file could copy it into his "
                "own browser and pass for Alice's. Store its hash (hash_id)."
            )
            assert rows == [(sha256_hex(cookie), 1, now + DEVICE_LIFETIME)], (
                f"devices should hold one row, (hash_id(cookie), 1, now + DEVICE_LIFETIME), not {rows}."
            )
            assert other_worker.execute("SELECT COUNT(*) FROM devices").fetchone()[0] == 1, (
                "another connection (another worker) cannot see the trusted browser: commit it (inside `with db:`)."
            )
            own = failure_bucket(db, 1, cookie, now + DAY)
            assert own != cookie, (
                "the bucket is the cookie's raw id: buckets are stored with every failure, so a thief of the "
                "database file would read the id there. Name the bucket by the hash."
            )
            assert own == sha256_hex(cookie), (
                f"Alice's own browser, trusted a day ago, got the bucket {own!r}: with one shared bucket, a "
                "stranger's wrong passwords close her own browser too. A trusted browser's bucket is its "
                "cookie's hash."
            )
            made_up = secrets.token_urlsafe(32)
            assert failure_bucket(db, 1, made_up, now) == STRANGERS, (
                "a cookie the app never issued got a bucket of its own: a stranger would make up a new cookie "
                "for every few guesses and never be paused. Trust a cookie only when its hash is in devices."
            )
            assert failure_bucket(db, 1, None, now) == STRANGERS, "a browser with no device cookie is a stranger."
            bob_cookie = trust_browser(db, 2, now)
            assert failure_bucket(db, 1, bob_cookie, now) == STRANGERS, (
                "a browser that bob's account trusts got a bucket of its own on alice's account: a browser is "
                "trusted for one account, so match the user_id too."
            )
            assert failure_bucket(db, 2, bob_cookie, now) == sha256_hex(bob_cookie), "bob's own browser was not trusted."
            late = failure_bucket(db, 1, cookie, now + DEVICE_LIFETIME + 1)
            assert late == STRANGERS, (
                "a browser trusted more than 90 days ago still counted apart: the trust ends at `expires`."
            )
            again = trust_browser(db, 1, now)
            assert again != cookie, "two browsers got the same cookie: draw a new random id each time."
        finally:
            db.close()
            other_worker.close()
    first, second = _cookies_drawn_after_seeding(trust_browser)
    assert first != second, (
        "after random.seed(7), your cookie came out the same twice: it comes from the `random` module, whose "
        "next numbers anyone can work out. Use the `secrets` module."
    )


# --- 7.5: a ceiling that counts failures, not streaks ----------------------------------------

CEILINGS = ((30 * DAY, 30), (365 * DAY, 100))


def _allowed(attempts, now):
    """Fewer than 30 failures in the last 30 days and fewer than 100 in the last 365 (a failure
    ``window`` seconds old has left the window)."""
    return all(sum(1 for at, succeeded in attempts if not succeeded and now - at < window) < ceiling
               for window, ceiling in CEILINGS)


def _guesser_against_an_owner(may_try, start, days=90):
    """Failures a guesser gets, trying every hour when allowed, while the owner signs in every 6 hours."""
    attempts, failures = [], []
    for hour in range(days * 24):
        now = start + hour * 3600
        if hour % 6 == 0:
            attempts.append((now, True))
        if may_try(list(attempts), now + 60):
            attempts.append((now + 60, False))
            failures.append(now + 60)
    return max(sum(1 for t in failures if end - 30 * DAY < t <= end) for end in failures) if failures else 0


@exercise("7.5", "A ceiling that counts failures, not streaks", uses=["may_try"])
def check_may_try(may_try):
    seed = RUN_SEED
    rng = random.Random(seed)
    now = 1_700_000_000 + rng.randrange(10 ** 7)

    def failures(count, oldest, newest=1):
        """``count`` failures between ``oldest`` and ``newest`` seconds ago, oldest first."""
        return [(now - rng.randrange(newest, oldest), False) for _ in range(count)]

    def ask(attempts):
        return may_try(sorted(attempts), now)

    seen = f"(inputs from seed {seed})"
    assert ask([]) is True, "an account with no attempts at all was refused."
    assert ask(failures(29, 30 * DAY)) is True, (
        f"29 failures in the last 30 days were refused: the 30th may still be tried {seen}."
    )
    thirty = failures(30, 30 * DAY)
    assert ask(thirty) is False, (
        f"30 failures in the last 30 days, and your function allowed another: at most 30 in any 30 days {seen}."
    )
    owner_between = thirty + [(now - rng.randrange(1, 30 * DAY), True) for _ in range(5)] + [(now - 1, True)]
    assert ask(owner_between) is False, (
        f"30 failures in 30 days with the owner's successes between them, and your function allowed another: "
        f"a success must not wipe the failures before it, and they need not come in a row. Count every "
        f"failure in the window {seen}."
    )
    owner = [(now - hours * 3600, True) for hours in range(6, 6 * 300, 6)]
    assert ask(owner) is True, "300 successes and no failure were refused: only failures count."
    assert ask(failures(60, 300 * DAY, 31 * DAY)) is True, (
        f"60 failures, all more than 30 days old (fewer than 100 in the year), were refused: the 30-day "
        f"ceiling counts the last 30 days only {seen}."
    )
    edge = [(now - 30 * DAY, False)] + failures(29, 30 * DAY)
    assert ask(edge) is True, (
        f"the oldest of 30 failures was exactly 30 days old, so it has left the window (a failure counts "
        f"while now - its time < 30 days): one more try is allowed {seen}."
    )
    assert ask([(now - 30 * DAY + 1, False)] + failures(29, 30 * DAY)) is False, (
        f"30 failures, the oldest one second less than 30 days old, and another try was allowed {seen}."
    )
    year = [(now - DAY - day * 3 * DAY - rng.randrange(DAY), False) for day in range(100)]
    assert ask(year) is False, (
        f"100 failures in the last year (never 30 in 30 days), and another try was allowed: the year's "
        f"ceiling is 100 {seen}."
    )
    assert ask(year[:99]) is True, f"99 failures in the year, 10 in any 30 days, were refused {seen}."
    assert ask(year + [(now - 366 * DAY, False)] * 5) is False and ask(year[:99] + [(now - 365 * DAY, False)]) is True, (
        f"a failure 365 days old has left the year's window {seen}."
    )
    worst = _guesser_against_an_owner(may_try, now)
    assert worst <= 30, (
        f"a guesser who tries every hour while the owner signs in every 6 hours got {worst} failures in 30 days: "
        f"the owner's successes must not give the guesser new tries {seen}."
    )
    for _ in range(40):
        attempts = [(now - rng.randrange(1, 400 * DAY), rng.random() < 0.2) for _ in range(rng.randrange(0, 140))]
        attempts += [(now - rng.choice((30 * DAY, 365 * DAY)), False) for _ in range(rng.randrange(3))]
        got, expected = ask(attempts), _allowed(attempts, now)
        assert got is expected, (
            f"for {len(attempts)} attempts ({sum(not ok for _, ok in attempts)} failures) your function said "
            f"{got!r}, not {expected!r}: at most 30 failures in any 30 days and 100 in any 365 {seen}."
        )


# --- 7.6 and 7.9: sessions, wrong tries at /replace-phone ------------------------------------

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


@exercise("7.6", "End sessions on the server", uses=["session_user", "end_all_sessions"])
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


def _failures(db, session_id):
    return db.execute("SELECT disable_failures FROM sessions WHERE id = ?", (session_id,)).fetchone()[0]


@exercise("7.9", "Count wrong tries against the session", uses=["count_disable_failure"])
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
    strict = [count_disable_failure(db, "bob-laptop", allowed=1) for _ in range(2)]
    assert strict == [True, False], (
        f"with allowed=1, bob's session gave {strict}, not [True, False]: use the `allowed` you are given, "
        "not a number of your own."
    )


@hidden_check("7.9")
def check_count_disable_failure_is_one_update(count_disable_failure):
    db = _sessions_db()
    result, statements = _statements(db, lambda: count_disable_failure(db, "alice-laptop"))
    assert result is True
    assert len(statements) == 1 and statements[0].upper().startswith("UPDATE"), (
        "count and check in one UPDATE ... WHERE disable_failures < ?: with a SELECT first, a burst of "
        f"requests sent at once all see the old count. Your SQL: {statements}"
    )


# --- 7.7 and 7.8: recovery codes ------------------------------------------

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


@exercise("7.7", "Make ten recovery codes", uses=["make_recovery_codes"])
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


@hidden_check("7.7")
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


@exercise("7.8", "Use a recovery code once", uses=["use_recovery_code"])
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


@hidden_check("7.8")
def check_use_recovery_code_strange_input(use_recovery_code):
    db = _filled_codes_db()
    assert use_recovery_code(db, 1, "x' OR '1'='1") is False
    assert len(_stored(db, 1)) == 3, "a strange input deleted codes: pass values as ? parameters."
    assert use_recovery_code(db, 1, ALICE_CODES[2]) is True


# --- 7.10: TOTP secrets at rest -----------------------------------------------------------------

def _secrets_db(path=":memory:"):
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT NOT NULL, totp_secret TEXT);
        INSERT INTO users (id, username) VALUES (1, 'alice'), (2, 'bob');
    """)
    return db


def _stored_secret(db, user_id):
    value = db.execute("SELECT totp_secret FROM users WHERE id = ?", (user_id,)).fetchone()[0]
    return value.decode("ascii", "replace") if isinstance(value, bytes) else value


def _decrypts_with(key, token, secret):
    from cryptography.fernet import Fernet, InvalidToken
    try:
        return Fernet(key).decrypt(token.encode("ascii")).decode() == secret
    except (InvalidToken, ValueError, TypeError, AttributeError, UnicodeError):
        return False


@exercise("7.10", "Keep the TOTP secrets encrypted", uses=["store_secret", "load_secret"])
def check_secrets_at_rest(store_secret, load_secret):
    import pyotp
    from cryptography.fernet import Fernet

    old_key = Fernet.generate_key()
    alice_secret, bob_secret = pyotp.random_base32(), pyotp.random_base32()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "users.sqlite")
        db, thief = _secrets_db(path), sqlite3.connect(path)
        try:
            store_secret(db, 1, alice_secret, [old_key])
            stolen = "\n".join(thief.iterdump())
            assert _stored_secret(thief, 1), (
                "another connection (another worker, or a thief of the file) sees no secret for alice: store it "
                "in users.totp_secret and commit (inside `with db:`)."
            )
            assert alice_secret not in stolen, (
                "the secret is in the database file as it is: whoever copies the file can make alice's codes."
            )
            encodings = {base64.b64encode(alice_secret.encode()).decode().rstrip("="),
                         base64.urlsafe_b64encode(alice_secret.encode()).decode().rstrip("="),
                         base64.b32decode(alice_secret).hex()}
            assert not any(encoded in stolen for encoded in encodings), (
                "the secret is only encoded (base64 or hex), not encrypted: anyone can decode it without a key. "
                "Encrypt it with Fernet."
            )
            assert old_key.decode() not in stolen and old_key.decode().rstrip("=") not in stolen, (
                "the key is stored in the same database as the secrets: a thief of the file has both. The key "
                "stays outside the database (FLASK_TOTP_ENCRYPTION_KEYS)."
            )
            assert _decrypts_with(old_key, _stored_secret(db, 1), alice_secret), (
                "what is stored is not a Fernet token of the secret made with the key you were given: encrypt "
                "with Fernet and that key (never a key of your own, nor a home-made cipher), and store the "
                "token as text."
            )
            loaded = load_secret(db, 1, [old_key])
            assert loaded == alice_secret, f"load_secret gave {loaded!r}, not alice's secret (as text)."
            new_key = Fernet.generate_key()
            keys = [new_key, old_key]      # rotation: the new key first, the old one still there
            try:
                after = load_secret(db, 1, keys)
            except Exception as error:  # noqa: BLE001 - the hint names the usual cause
                after = f"{type(error).__name__}"
            assert after == alice_secret, (
                f"after a new key was put first, alice's secret, stored under the old key, gave {after!r}: every "
                "key in the list must be able to decrypt (MultiFernet), not only the first."
            )
            store_secret(db, 2, bob_secret, keys)
            assert _decrypts_with(new_key, _stored_secret(db, 2), bob_secret), (
                "a secret stored after the rotation was not encrypted with the first (newest) key: once the old "
                "key is dropped, it could not be read."
            )
            assert load_secret(db, 2, [new_key]) == bob_secret, "bob's secret could not be read with the new key alone."
            assert load_secret(db, 1, keys) == alice_secret and _stored_secret(db, 1) != _stored_secret(db, 2)
        finally:
            db.close()
            thief.close()


# --- 7.11: the owner hears of it, without a secret ------------------------------------------------

EVENT_MESSAGES = {
    "password_failed": "A wrong password for your account, from a browser you have not signed in with.",
    "code_failed": "A wrong code from an authenticator app, after your password was right.",
    "recovery_code_failed": "A wrong recovery code, after your password was right.",
}


def _typed_form(kind):
    """What a browser sent with the failed attempt: a password, a code or a recovery code, and the form's token."""
    letters = "abcdefghijkmnpqrstuvwxyz23456789"
    form = {"username": "alice", "csrf_token": secrets.token_urlsafe(24)}
    if kind == "password_failed":
        form["password"] = "".join(secrets.choice(letters) for _ in range(14))
    elif kind == "code_failed":
        form["otp"] = f"{secrets.randbelow(10 ** 6):06d}"
    else:
        form["recovery_code"] = "-".join("".join(secrets.choice(letters) for _ in range(4)) for _ in range(6))
    return form


def _another(name, value):
    """Another value for the same field (for a password, also of another length)."""
    letters = "abcdefghijkmnpqrstuvwxyz23456789"
    if name == "otp":
        return "".join(str((int(digit) + 1 + secrets.randbelow(9)) % 10) for digit in value)
    if name == "password":
        return "".join(secrets.choice(letters.upper()) for _ in range(len(value) + 1 + secrets.randbelow(6)))
    return "".join(secrets.choice(letters.upper()) if c != "-" else c for c in value)


def _pieces(value, length):
    plain = value.replace("-", "")
    return {plain[i:i + length] for i in range(len(plain) - length + 1)}


@exercise("7.11", "Tell the owner, never the secret", uses=["security_event"])
def check_security_event(security_event):
    now = 1_700_000_000 + random.randrange(10 ** 6)
    for kind, message in EVENT_MESSAGES.items():
        form = _typed_form(kind)
        event = security_event(kind, dict(form), now)
        assert isinstance(event, dict), f"security_event should return a dict, not {event!r}."
        assert set(event) == {"kind", "detail", "time"}, (
            f"the event has the keys {sorted(event)}: give NOTIFY exactly kind, detail and time. Whatever else "
            "you hand it ends up in an e-mail or a log, which more people read, for longer, than the database."
        )
        assert event["kind"] == kind and event["time"] == now, "kind and time should be the ones you were given."
        detail = str(event["detail"])
        typed = {name: value for name, value in form.items() if name in ("password", "otp", "recovery_code", "csrf_token")}
        for name, value in typed.items():
            assert value not in detail, (
                f"the detail repeats the {name} that was typed: a wrong password is often a near miss of the right "
                "one (or her password elsewhere), a wrong recovery code a typo of a good one. An event says what "
                "happened, never what was typed."
            )
            shortest = 3 if name == "otp" else 4
            # pieces that the owner's message or the username hold by chance are not a leak
            leaked = sorted(piece for piece in _pieces(value, shortest) if piece in detail.replace("-", "")
                            and piece not in message and piece not in form["username"])
            assert not leaked, (
                f"the detail shows part of the {name} that was typed ({leaked[0]!r}): a masked secret still gives "
                "away the characters it shows. Leave out every character of it."
            )
        for name in typed:
            other = dict(form, **{name: _another(name, form[name])})
            again = security_event(kind, other, now)
            assert str(again.get("detail")) == detail, (
                f"the detail changed when only the {name} typed changed: it shows something of it (a few "
                "characters, its length). A masked secret still gives away what it shows. Leave it out whole."
            )
        assert message in detail, (
            f"the owner reads the detail: start from EVENT_MESSAGES[kind], which says what happened in her words, "
            f"not {detail!r}."
        )


# --- questions ----------------------------------------------------------------------------------

question(
    "7.Q1", "What a device cookie does",
    prompt="Alice's own browser holds stage 7's device cookie for her account. What does that cookie do?",
    options={
        "a": "It is a second factor: from that browser, her password alone lets her in.",
        "b": "Her browser's failed attempts count apart, so a stranger's wrong passwords cannot make it wait.",
        "c": "Because it is `HttpOnly`, a script injected into one of the app's pages can do her no harm.",
        "d": "Every browser can have a bucket of its own: a stranger who sends a cookie he made up is "
             "throttled apart from the others.",
    },
    answer="b",
    why_not={
        "a": "a device cookie is not a factor: stage 7 still asks that browser for the password and the code, "
             "and whoever copies the cookie holds it too. It only chooses which failure count applies.",
        "c": "HttpOnly hides the cookie itself from scripts, nothing more. A script injected into the page runs "
             "as the page: it can send the app's forms with her cookies attached and read what the pages show. "
             "Escaping output and a Content-Security-Policy keep scripts out.",
        "d": "the server trusts only a cookie whose hash it stored for that account. A made-up cookie is not "
             "found, so its browser counts with the strangers, who share one bucket; otherwise a stranger "
             "would make up a new cookie every few guesses and never wait.",
    },
)

question(
    "7.Q2", "When a phone may be bound",
    prompt="Alice has just chosen a username and a password. Which way of binding her phone keeps the account "
           "from someone who knows only her password?",
    options={
        "a": "Create the account at `/register`; then each login with the password shows the QR code until a "
             "phone has been confirmed.",
        "b": "Keep the name, the password hash and a new secret in the registering session's row, and create "
             "the account only when that session's code is right.",
        "c": "Create the account with its phone as in (b), and let a user who lost the phone turn 2FA off with "
             "the password, so that the next login enrols the new phone.",
    },
    answer="b",
    why_not={
        "a": "until Alice confirms her phone, anyone with the password logs in, is shown a QR code and binds "
             "his own phone: binding a phone needs every factor, in the session that proved them.",
        "c": "turning 2FA off with the password alone brings back the password-only enrolment of (a): whoever "
             "knows the password turns it off, or waits until Alice does, and binds his phone. Replacing a phone "
             "needs the password and a code or a recovery code, in the session that then binds the new one.",
    },
)

question(
    "7.Q3", "What keeps the TOTP secrets from a thief of the database file",
    prompt="A thief copies stage 7's database file. Which way of storing the TOTP secrets keeps them from him, "
           "while the app can still check codes?",
    options={
        "a": "Hash each secret with Argon2id, as the passwords are.",
        "b": "Encrypt each secret with Fernet, with a key that comes from `FLASK_TOTP_ENCRYPTION_KEYS` and is "
             "not in the file.",
        "c": "Encrypt each secret with Fernet, with the key kept in a settings table of the same database.",
        "d": "Store each secret base64-encoded, so that it no longer looks like a secret.",
    },
    answer="b",
    why_not={
        "a": "the app needs the secret itself to work out the code of the moment, and a hash cannot be turned "
             "back into it: the app could no longer check codes. What the server must read back is encrypted; "
             "what it only compares (a password) is hashed.",
        "c": "the thief copies the key along with the data it protects: a key must live apart from the data "
             "(an environment variable, a secrets manager).",
        "d": "base64 is an encoding anyone can undo without a key: the thief decodes every secret.",
    },
)
