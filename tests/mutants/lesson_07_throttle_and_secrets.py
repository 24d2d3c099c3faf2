"""Answers to lesson 07's exercises 7.3 (the stranger's attack), 7.4 (device cookies), 7.5 (the
rolling ceiling) and 7.10 (secrets at rest), right and wrong, the wrong ones written from the
lesson's text: each is a design the lesson warns against."""
from . import LESSON_SETUP, Mutant

SETUP = LESSON_SETUP[7] + """
from cryptography.fernet import Fernet, MultiFernet
from workbook.visitor import submit_form as submit

STRANGERS = "strangers"
DEVICE_LIFETIME = 90 * 24 * 3600

def hash_id(token):
    return hashlib.sha256(token.encode("ascii")).hexdigest()
"""

KEEP_OUT = '''
def keep_out(stranger, username, clock):
    while True:
        response = submit(stranger, "/login", username=username, password="not her password")
        if response.status_code == 429:
            wait = int(response.headers["Retry-After"])
            if wait > 24 * 3600:
                return
            clock.advance(wait)
'''

TRUST = '''
def trust_browser(db, user_id, now):
    cookie = secrets.token_urlsafe(32)
    with db:
        db.execute("INSERT INTO devices (id_hash, user_id, expires) VALUES (?, ?, ?)",
                   (hash_id(cookie), user_id, now + DEVICE_LIFETIME))
    return cookie
'''

BUCKET = '''
def failure_bucket(db, user_id, cookie, now):
    if cookie is None:
        return STRANGERS
    row = db.execute("SELECT 1 FROM devices WHERE id_hash = ? AND user_id = ? AND expires > ?",
                     (hash_id(cookie), user_id, now)).fetchone()
    return hash_id(cookie) if row else STRANGERS
'''

MAY_TRY = '''
DAY = 24 * 3600

def may_try(attempts, now):
    for window, ceiling in ((30 * DAY, 30), (365 * DAY, 100)):
        recent = [at for at, succeeded in attempts if not succeeded and now - at < window]
        if len(recent) >= ceiling:
            return False
    return True
'''

SECRETS = '''
def store_secret(db, user_id, secret, keys):
    token = MultiFernet([Fernet(key) for key in keys]).encrypt(secret.encode())
    with db:
        db.execute("UPDATE users SET totp_secret = ? WHERE id = ?", (token.decode(), user_id))

def load_secret(db, user_id, keys):
    token = db.execute("SELECT totp_secret FROM users WHERE id = ?", (user_id,)).fetchone()[0]
    return MultiFernet([Fernet(key) for key in keys]).decrypt(token.encode()).decode()
'''


def changed(source, old, new):
    assert source.count(old) == 1, old
    return source.replace(old, new)


MUTANTS = [
    # 7.3: as a stranger who knows only the username, keep the owner out of a per-account throttle
    Mutant("7.3", "fails, waits Retry-After, fails again until the wait is over a day", KEEP_OUT, True),
    Mutant("7.3", "a stranger with a clock of her own: waits 15 minutes at a time", '''
def keep_out(stranger, username, clock):
    for _ in range(200):
        response = submit(stranger, "/login", username=username, password="not her password")
        if response.status_code == 429 and int(response.headers["Retry-After"]) > 24 * 3600:
            return
        clock.advance(15 * 60)
''', True),
    Mutant("7.3", "stops at the first 429", '''
def keep_out(stranger, username, clock):
    while submit(stranger, "/login", username=username, password="wrong").status_code != 429:
        pass
''', False, "your attack stopped too soon"),
    Mutant("7.3", "never lets the clock run", changed(KEEP_OUT, "            clock.advance(wait)\n", "            pass\n"),
           False, "Let the clock run"),
    Mutant("7.3", "posts without the form's CSRF token", '''
def keep_out(stranger, username, clock):
    for _ in range(100):
        stranger.post("/login", data={"username": username, "password": "wrong"})
''', False, "csrf_token"),
    Mutant("7.3", "always attacks alice", changed(KEEP_OUT, "username=username", 'username="alice"'),
           False, "the username you were given"),
    Mutant("7.3", "registers the name again instead of logging in", '''
def keep_out(stranger, username, clock):
    for _ in range(40):
        submit(stranger, "/register", username=username, password="not her password")
''', False, "fail at /login"),
    Mutant("7.3", "five wrong passwords, then gives up", '''
def keep_out(stranger, username, clock):
    for _ in range(5):
        submit(stranger, "/login", username=username, password="wrong")
''', False, "your attack stopped too soon"),

    # 7.4: a trusted browser's failures count in a bucket of their own
    Mutant("7.4", "hash stored, looked up with the user and the expiry", TRUST + BUCKET, True),
    Mutant("7.4", "one shared bucket per account", TRUST + '''
def failure_bucket(db, user_id, cookie, now):
    return STRANGERS
''', False, "one shared bucket"),
    Mutant("7.4", "trusts any cookie it is shown", TRUST + '''
def failure_bucket(db, user_id, cookie, now):
    return hash_id(cookie) if cookie else STRANGERS
''', False, "a cookie the app never issued"),
    Mutant("7.4", "stores the raw id", changed(TRUST, "(hash_id(cookie), user_id", "(cookie, user_id")
           + changed(BUCKET, "(hash_id(cookie), user_id, now)", "(cookie, user_id, now)"),
           False, "holds the cookie's id as it is"),
    Mutant("7.4", "the raw id as the bucket's name", TRUST + changed(BUCKET, "return hash_id(cookie) if row", "return cookie if row"),
           False, "the bucket is the cookie's raw id"),
    Mutant("7.4", "any account's browser", TRUST + changed(BUCKET, " AND user_id = ?", "").replace(
        "(hash_id(cookie), user_id, now)", "(hash_id(cookie), now)"), False, "match the user_id"),
    Mutant("7.4", "trusted for ever", TRUST + changed(BUCKET, " AND expires > ?", "").replace(
        "(hash_id(cookie), user_id, now)", "(hash_id(cookie), user_id)"), False, "the trust ends"),
    Mutant("7.4", "ids from random", changed(TRUST, "secrets.token_urlsafe(32)",
                                             '"".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(32))')
           + BUCKET, False, "`random` module"),
    Mutant("7.4", "never committed", changed(TRUST, "    with db:\n        db.execute(", "    if True:\n        db.execute(")
           + BUCKET, False, "commit it"),

    # 7.5: at most 30 failures in any 30 days and 100 in any 365, whatever successes come between
    Mutant("7.5", "counts every failure in each window", MAY_TRY, True),
    Mutant("7.5", "the window's edge written the other way round", changed(
        MAY_TRY, "now - at < window", "at > now - window"), True),
    Mutant("7.5", "a success starts the count again", '''
DAY = 24 * 3600

def may_try(attempts, now):
    since = [at for at, succeeded in attempts if not succeeded]
    for at, succeeded in attempts:
        if succeeded:
            since = [t for t in since if t > at]
    return sum(1 for at in since if now - at < 30 * DAY) < 30 and sum(1 for at in since if now - at < 365 * DAY) < 100
''', False, "a success must not wipe the failures"),
    Mutant("7.5", "counts failures in a row", '''
def may_try(attempts, now):
    streak = 0
    for at, succeeded in reversed(attempts):
        if succeeded:
            break
        streak += 1
    return streak < 30
''', False, "need not come in a row"),
    Mutant("7.5", "a failure 30 days old still counts", changed(MAY_TRY, "now - at < window", "now - at <= window"),
           False, "exactly 30 days old"),
    Mutant("7.5", "31 failures before the ceiling", changed(MAY_TRY, "len(recent) >= ceiling", "len(recent) > ceiling"),
           False, "at most 30 in any 30 days"),
    Mutant("7.5", "no year's ceiling", changed(MAY_TRY, "(365 * DAY, 100)", "(365 * DAY, 10 ** 9)"), False, "the year's ceiling is 100"),
    Mutant("7.5", "successes counted as failures", changed(MAY_TRY, "if not succeeded and now", "if now"),
           False, "only failures count"),
    Mutant("7.5", "no window: every failure ever", changed(MAY_TRY, " and now - at < window", ""),
           False, "counts the last 30 days only"),

    # Issue 22, second catalogue (2026-12-06): written from the lesson text
    Mutant("7.3", "a new browser for each wrong password, Retry-After read as a float", """
def keep_out(stranger, username, clock):
    for _ in range(500):
        response = submit(stranger.application.test_client(), "/login", username=username, password="guess")
        if response.status_code == 429:
            wait = float(response.headers["Retry-After"])
            if wait > 86400:
                break
            clock.advance(wait)
""", True),
    Mutant("7.3", "a day taken as 24 (hours, not seconds)", changed(KEEP_OUT, "if wait > 24 * 3600:", "if wait > 24:"),
           False, "your attack stopped too soon"),
    Mutant("7.3", "wrong codes at /verify-2fa instead of passwords", """
def keep_out(stranger, username, clock):
    for _ in range(200):
        response = submit(stranger, "/verify-2fa", otp="000000")
        if response.status_code == 429:
            wait = int(response.headers["Retry-After"])
            if wait > 24 * 3600:
                return
            clock.advance(wait)
""", False, "fail at /login"),
    Mutant("7.3", "waits a second less than Retry-After", changed(KEEP_OUT, "clock.advance(wait)", "clock.advance(wait - 1)"),
           False, "Let the clock run"),
    Mutant("7.3", "thirty wrong passwords in a row, no waiting", """
def keep_out(stranger, username, clock):
    for _ in range(30):
        submit(stranger, "/login", username=username, password="wrong")
""", False, "your attack stopped too soon"),
    Mutant("7.3", "twenty rounds of fail and wait", """
def keep_out(stranger, username, clock):
    for _ in range(20):
        response = submit(stranger, "/login", username=username, password="wrong")
        if response.status_code == 429:
            clock.advance(int(response.headers["Retry-After"]))
""", False, "your attack stopped too soon"),
    Mutant("7.3", "the username's case changed", changed(KEEP_OUT, "username=username", "username=username.title()"),
           True),
    Mutant("7.4", "token_hex(16), the row's hash returned", changed(TRUST, "secrets.token_urlsafe(32)", "secrets.token_hex(16)")
           + """
def failure_bucket(db, user_id, cookie, now):
    if not cookie:
        return STRANGERS
    row = db.execute("SELECT id_hash FROM devices WHERE user_id = ? AND id_hash = ? AND ? < expires",
                     (user_id, hash_id(cookie), now)).fetchone()
    return STRANGERS if row is None else row[0]
""", True),
    Mutant("7.4", "ids with a fixed prefix, the rest from secrets", changed(
        TRUST, "secrets.token_urlsafe(32)", '"trusted-device-" + secrets.token_urlsafe(32)') + BUCKET, True),
    Mutant("7.4", "ids from uuid4 (122 random bits, from os.urandom)", "import uuid\n" + changed(
        TRUST, "secrets.token_urlsafe(32)", "str(uuid.uuid4())") + BUCKET, True),
    Mutant("7.4", "still trusted at the moment it expires", TRUST + changed(BUCKET, "expires > ?", "expires >= ?"),
           False, "expires > now, not >="),
    Mutant("7.4", "ids from uuid1 (the clock and the machine)", "import uuid\n" + changed(
        TRUST, "secrets.token_urlsafe(32)", "uuid.uuid1().hex") + BUCKET, False, "anybody can predict"),
    Mutant("7.4", "64-bit ids, token_hex(8)", changed(TRUST, "secrets.token_urlsafe(32)", "secrets.token_hex(8)") + BUCKET,
           False, "128 bits"),
    Mutant("7.4", "the id as bytes, token_bytes(16)", changed(TRUST, "cookie = secrets.token_urlsafe(32)",
                                                               "cookie = secrets.token_bytes(16)").replace(
        "hash_id(cookie)", "hashlib.sha256(cookie).hexdigest()") + BUCKET, False, "text"),
    Mutant("7.4", "the cookie is the hash, not the id", changed(TRUST, "    return cookie\n", "    return hash_id(cookie)\n")
           + BUCKET, False, "hash"),
    Mutant("7.4", "expires is the lifetime, not now plus it", changed(TRUST, "now + DEVICE_LIFETIME", "DEVICE_LIFETIME") + BUCKET,
           False, "now + DEVICE_LIFETIME"),
    Mutant("7.4", "the SQL built with an f-string", TRUST + """
def failure_bucket(db, user_id, cookie, now):
    if cookie is None:
        return STRANGERS
    row = db.execute(f"SELECT 1 FROM devices WHERE id_hash = '{hash_id(cookie)}' AND user_id = {user_id}"
                     f" AND expires > {now}").fetchone()
    return hash_id(cookie) if row else STRANGERS
""", False, "placeholders"),
    Mutant("7.4", "trusted browsers remembered in a dict", """
TRUSTED = {}

def trust_browser(db, user_id, now):
    cookie = secrets.token_urlsafe(32)
    TRUSTED[hash_id(cookie)] = (user_id, now + DEVICE_LIFETIME)
    with db:
        db.execute("INSERT INTO devices (id_hash, user_id, expires) VALUES (?, ?, ?)",
                   (hash_id(cookie), user_id, now + DEVICE_LIFETIME))
    return cookie

def failure_bucket(db, user_id, cookie, now):
    if cookie is None or hash_id(cookie) not in TRUSTED:
        return STRANGERS
    owner, expires = TRUSTED[hash_id(cookie)]
    return hash_id(cookie) if owner == user_id and expires > now else STRANGERS
""", False, "ask the table each time"),
    Mutant("7.5", "two counts by hand, the edge as at > now - window", """
def may_try(attempts, now):
    month = year = 0
    for at, succeeded in attempts:
        if succeeded:
            continue
        if at > now - 365 * 86400:
            year += 1
        if at > now - 30 * 86400:
            month += 1
    return month < 30 and year < 100
""", True),
    Mutant("7.5", "the month window in minutes (30 * 24 * 60)", changed(MAY_TRY, "(30 * DAY, 30)", "(30 * 24 * 60, 30)"),
           False, "30 failures in the last 30 days"),
    Mutant("7.5", "a year of 360 days", changed(MAY_TRY, "(365 * DAY, 100)", "(360 * DAY, 100)"), False, "365 days"),
    Mutant("7.5", "the clock read, not now", "import time\n" + changed(MAY_TRY, "now - at < window", "time.time() - at < window"),
           False, "your function reads the clock"),
    Mutant("7.5", "stops at the first failure out of the window, oldest first", """
DAY = 24 * 3600

def may_try(attempts, now):
    for window, ceiling in ((30 * DAY, 30), (365 * DAY, 100)):
        count = 0
        for at, succeeded in attempts:
            if now - at >= window:
                break
            if not succeeded:
                count += 1
        if count >= ceiling:
            return False
    return True
""", False, "oldest first"),
    Mutant("7.5", "only the last 30 attempts looked at", """
def may_try(attempts, now):
    recent = [at for at, succeeded in attempts[-30:] if not succeeded and now - at < 30 * 24 * 3600]
    return len(recent) < 30
""", False, "need not come in a row"),
    Mutant("7.Q1", "the right letter in capitals", 'answer_7_q1 = "B"\n', True),
    Mutant("7.Q1", "two options at once", 'answer_7_q1 = "b, d"\n', False, "answer with the letter of one option"),
    Mutant("7.Q1", "(d), in quotes and brackets", 'answer_7_q1 = "(d)"\n', False, "made-up cookie is not found"),
    Mutant("7.Q1", "the option's number", 'answer_7_q1 = 2\n', False, "answer with the letter of one option"),
    Mutant("7.Q1", "left empty", 'answer_7_q1 = ""\n', False, "answer with the letter of one option"),
    Mutant("7.Q1", "(c) written out", 'answer_7_q1 = "c) HttpOnly"\n', False, "HttpOnly"),

    # 7.10: TOTP secrets encrypted with Fernet, the keys outside the database, rotation
    Mutant("7.10", "MultiFernet over every key, the first encrypts", SECRETS, True),
    Mutant("7.10", "stored as it is", '''
def store_secret(db, user_id, secret, keys):
    with db:
        db.execute("UPDATE users SET totp_secret = ? WHERE id = ?", (secret, user_id))

def load_secret(db, user_id, keys):
    return db.execute("SELECT totp_secret FROM users WHERE id = ?", (user_id,)).fetchone()[0]
''', False, "as it is"),
    Mutant("7.10", "base64 for encryption", '''
import base64

def store_secret(db, user_id, secret, keys):
    with db:
        db.execute("UPDATE users SET totp_secret = ? WHERE id = ?", (base64.b64encode(secret.encode()).decode(), user_id))

def load_secret(db, user_id, keys):
    stored = db.execute("SELECT totp_secret FROM users WHERE id = ?", (user_id,)).fetchone()[0]
    return base64.b64decode(stored).decode()
''', False, "only encoded"),
    Mutant("7.10", "the key kept beside the secret", '''
def store_secret(db, user_id, secret, keys):
    token = Fernet(keys[0]).encrypt(secret.encode())
    with db:
        db.execute("UPDATE users SET totp_secret = ? WHERE id = ?", (keys[0].decode() + "$" + token.decode(), user_id))

def load_secret(db, user_id, keys):
    key, token = db.execute("SELECT totp_secret FROM users WHERE id = ?", (user_id,)).fetchone()[0].split("$")
    return Fernet(key.encode()).decrypt(token.encode()).decode()
''', False, "the key is stored in the same database"),
    Mutant("7.10", "one Fernet: the first key only", SECRETS.replace("MultiFernet([Fernet(key) for key in keys])", "Fernet(keys[0])"),
           False, "every key in the list must be able to decrypt"),
    Mutant("7.10", "encrypts with the oldest key", changed(
        SECRETS, "token = MultiFernet([Fernet(key) for key in keys])", "token = MultiFernet([Fernet(key) for key in reversed(keys)])"),
           False, "first (newest) key"),
    Mutant("7.10", "a key of its own, made at import", '''
OWN_KEY = Fernet.generate_key()

def store_secret(db, user_id, secret, keys):
    with db:
        db.execute("UPDATE users SET totp_secret = ? WHERE id = ?", (Fernet(OWN_KEY).encrypt(secret.encode()).decode(), user_id))

def load_secret(db, user_id, keys):
    token = db.execute("SELECT totp_secret FROM users WHERE id = ?", (user_id,)).fetchone()[0]
    return Fernet(OWN_KEY).decrypt(token.encode()).decode()
''', False, "the key you were given"),
    Mutant("7.10", "never committed",
           changed(SECRETS, "    with db:\n        db.execute(\"UPDATE", "    if True:\n        db.execute(\"UPDATE"),
           False, "commit"),
]

MUTANTS += [
    Mutant("7.Q1", "the right option, (b)", 'answer_7_q1 = "b"\n', True),
    Mutant("7.Q1", "(a) a device cookie is a second factor", 'answer_7_q1 = "a"\n', False, "a device cookie is not a factor"),
    Mutant("7.Q1", "(c) HttpOnly stops injected scripts", 'answer_7_q1 = "(c)"\n', False, "HttpOnly hides the cookie itself"),
    Mutant("7.Q1", "(d) any cookie gets a bucket", 'answer_7_q1 = "D"\n', False, "made-up cookie is not found"),
    Mutant("7.Q2", "the right option, (b)", 'answer_7_q2 = "b"\n', True),
    Mutant("7.Q2", "(a) the QR code after a password login", 'answer_7_q2 = "a"\n', False, "binding a phone needs every factor"),
    Mutant("7.Q2", "(c) turn 2FA off with the password", 'answer_7_q2 = "c"\n', False, "turning 2FA off with the password"),
    Mutant("7.Q2", "two options at once", 'answer_7_q2 = "b and c"\n', False, "answer with the letter of one option"),
    Mutant("7.Q3", "the right option, (b)", 'answer_7_q3 = "b"\n', True),
    Mutant("7.Q3", "(a) hash the TOTP secrets", 'answer_7_q3 = "a"\n', False, "a hash cannot be turned back"),
    Mutant("7.Q3", "(c) the key in the same database", 'answer_7_q3 = "c"\n', False, "copies the key along with the data"),
    Mutant("7.Q3", "(d) base64", 'answer_7_q3 = "d"\n', False, "base64 is an encoding"),
    Mutant("7.Q3", "not a letter", 'answer_7_q3 = 2\n', False, "answer with the letter of one option"),
]

EVENT_SETUP = '''
EVENT_MESSAGES = {
    "password_failed": "A wrong password for your account, from a browser you have not signed in with.",
    "code_failed": "A wrong code from an authenticator app, after your password was right.",
    "recovery_code_failed": "A wrong recovery code, after your password was right.",
}
'''
SECRET_FIELDS = '("password", "otp", "recovery_code")'

MUTANTS += [
    Mutant("7.11", "kind, the owner's message, time", EVENT_SETUP + '''
def security_event(kind, form, now):
    return {"kind": kind, "detail": EVENT_MESSAGES[kind], "time": now}
''', True),
    Mutant("7.11", "names the account too", EVENT_SETUP + '''
def security_event(kind, form, now):
    return {"kind": kind, "detail": f"{EVENT_MESSAGES[kind]} (account {form['username']})", "time": now}
''', True),
    Mutant("7.11", "repeats what was typed", EVENT_SETUP + f'''
def security_event(kind, form, now):
    typed = next(form[name] for name in {SECRET_FIELDS} if name in form)
    return {{"kind": kind, "detail": EVENT_MESSAGES[kind] + " Typed: " + typed, "time": now}}
''', False, "repeats the"),
    Mutant("7.11", "the whole form, for the record", EVENT_SETUP + '''
def security_event(kind, form, now):
    return {"kind": kind, "detail": EVENT_MESSAGES[kind], "time": now, "form": form}
''', False, "exactly kind, detail and time"),
    Mutant("7.11", "a masked password: first and last two characters", EVENT_SETUP + f'''
def security_event(kind, form, now):
    typed = next(form[name] for name in {SECRET_FIELDS} if name in form)
    return {{"kind": kind, "detail": EVENT_MESSAGES[kind] + " (" + typed[:2] + "***" + typed[-2:] + ")", "time": now}}
''', False, "changed when only the"),
    Mutant("7.11", "the first group of a wrong recovery code", EVENT_SETUP + '''
def security_event(kind, form, now):
    detail = EVENT_MESSAGES[kind]
    if "recovery_code" in form:
        detail += " It began with " + form["recovery_code"].split("-")[0] + "."
    return {"kind": kind, "detail": detail, "time": now}
''', False, "shows part of the recovery_code"),
    Mutant("7.11", "the last digits of a wrong code", EVENT_SETUP + '''
def security_event(kind, form, now):
    detail = EVENT_MESSAGES[kind]
    if "otp" in form:
        detail += " The code ended in " + form["otp"][-3:] + "."
    return {"kind": kind, "detail": detail, "time": now}
''', False, "shows part of the otp"),
    Mutant("7.11", "the form's token, to trace the request", EVENT_SETUP + '''
def security_event(kind, form, now):
    return {"kind": kind, "detail": EVENT_MESSAGES[kind] + " Request " + form["csrf_token"], "time": now}
''', False, "repeats the csrf_token"),
    Mutant("7.11", "the length of the wrong password", EVENT_SETUP + '''
def security_event(kind, form, now):
    detail = EVENT_MESSAGES[kind]
    if "password" in form:
        detail += f" ({len(form['password'])} characters)"
    return {"kind": kind, "detail": detail, "time": now}
''', False, "changed when only the password"),
    Mutant("7.11", "a detail of its own making", EVENT_SETUP + '''
def security_event(kind, form, now):
    return {"kind": kind, "detail": kind.replace("_", " "), "time": now}
''', False, "start from EVENT_MESSAGES[kind]"),
]

# Issue 22, second catalogue (2026-12-06): written from the lesson text
MUTANTS += [
    Mutant("7.10", "each key tried in turn, the first encrypts", '''
from cryptography.fernet import InvalidToken

def store_secret(db, user_id, secret, keys):
    token = Fernet(keys[0]).encrypt(secret.encode("utf-8")).decode("ascii")
    with db:
        db.execute("UPDATE users SET totp_secret = ? WHERE id = ?", (token, user_id))

def load_secret(db, user_id, keys):
    (token,) = db.execute("SELECT totp_secret FROM users WHERE id = ?", (user_id,)).fetchone()
    for key in keys:
        try:
            return Fernet(key).decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            pass
    raise InvalidToken
''', True),
    Mutant("7.10", "the token stored as bytes", changed(SECRETS, "(token.decode(), user_id)", "(token, user_id)"),
           False, "as text"),
    Mutant("7.10", "bytes handed back", changed(SECRETS, ".decrypt(token.encode()).decode()", ".decrypt(token.encode())"),
           False, "as text"),
    Mutant("7.10", "every user's secret overwritten", changed(
        SECRETS, 'db.execute("UPDATE users SET totp_secret = ? WHERE id = ?", (token.decode(), user_id))',
        'db.execute("UPDATE users SET totp_secret = ?", (token.decode(),))'), False, "WHERE id = ?"),
    Mutant("7.10", "a token no key opens read as a plain secret", "from cryptography.fernet import InvalidToken\n" + changed(
        SECRETS, "    return MultiFernet([Fernet(key) for key in keys]).decrypt(token.encode()).decode()",
        "    try:\n        return MultiFernet([Fernet(key) for key in keys]).decrypt(token.encode()).decode()\n"
        "    except InvalidToken:\n        return token"), False, "no key opens"),
    Mutant("7.10", "a key made from the user's id", '''
import base64
import hashlib

def _key(user_id):
    return base64.urlsafe_b64encode(hashlib.sha256(str(user_id).encode()).digest())

def store_secret(db, user_id, secret, keys):
    with db:
        db.execute("UPDATE users SET totp_secret = ? WHERE id = ?",
                   (Fernet(_key(user_id)).encrypt(secret.encode()).decode(), user_id))

def load_secret(db, user_id, keys):
    token = db.execute("SELECT totp_secret FROM users WHERE id = ?", (user_id,)).fetchone()[0]
    return Fernet(_key(user_id)).decrypt(token.encode()).decode()
''', False, "the key you were given"),
    Mutant("7.10", "a SHA-256 of the secret, as for passwords", '''
import hashlib

def store_secret(db, user_id, secret, keys):
    with db:
        db.execute("UPDATE users SET totp_secret = ? WHERE id = ?", (hashlib.sha256(secret.encode()).hexdigest(), user_id))

def load_secret(db, user_id, keys):
    return db.execute("SELECT totp_secret FROM users WHERE id = ?", (user_id,)).fetchone()[0]
''', False, "hash"),
    Mutant("7.10", "MultiFernet handed the keys themselves", changed(changed(
        SECRETS, "token = MultiFernet([Fernet(key) for key in keys])", "token = MultiFernet(keys)"),
        "return MultiFernet([Fernet(key) for key in keys])", "return MultiFernet(keys)"),
           False, "Fernet objects"),

    Mutant("7.11", "the message looked up with .get, built with dict()", EVENT_SETUP + '''
def security_event(kind, form, now):
    return dict(kind=kind, detail=EVENT_MESSAGES.get(kind, "Something happened on your account."), time=now)
''', True),
    Mutant("7.11", "the time of the call, not now", EVENT_SETUP + '''
import time

def security_event(kind, form, now):
    return {"kind": kind, "detail": EVENT_MESSAGES[kind], "time": time.time()}
''', False, "kind and time should be the ones you were given"),
    Mutant("7.11", "a SHA-256 of what was typed, to compare later", EVENT_SETUP + f'''
import hashlib

def security_event(kind, form, now):
    typed = next(form[name] for name in {SECRET_FIELDS} if name in form)
    digest = hashlib.sha256(typed.encode()).hexdigest()[:12]
    return {{"kind": kind, "detail": EVENT_MESSAGES[kind] + " (fingerprint " + digest + ")", "time": now}}
''', False, "changed when only the"),
    Mutant("7.11", "the form without its password, in the detail", EVENT_SETUP + '''
def security_event(kind, form, now):
    rest = {name: value for name, value in form.items() if name != "password"}
    return {"kind": kind, "detail": f"{EVENT_MESSAGES[kind]} {rest}", "time": now}
''', False, "repeats the"),
    Mutant("7.11", "one event per kind, made once", EVENT_SETUP + '''
MADE = {}

def security_event(kind, form, now):
    if kind not in MADE:
        MADE[kind] = {"kind": kind, "detail": EVENT_MESSAGES[kind], "time": now}
    return MADE[kind]
''', False, "made afresh from the `now` you are given"),
    Mutant("7.11", "the time rounded to the minute", EVENT_SETUP + '''
def security_event(kind, form, now):
    return {"kind": kind, "detail": EVENT_MESSAGES[kind], "time": now // 60 * 60}
''', False, "kind and time should be the ones you were given"),

    Mutant("7.Q2", "(B), upper case in brackets", 'answer_7_q2 = "(B)"\n', True),
    Mutant("7.Q2", "a or b, undecided", 'answer_7_q2 = "a or b"\n', False, "answer with the letter of one option"),
    Mutant("7.Q2", "(c) written out", 'answer_7_q2 = "c) turn 2FA off"\n', False, "answer with the letter of one option"),
    Mutant("7.Q3", " b with spaces", 'answer_7_q3 = " b "\n', True),
    Mutant("7.Q3", "b and d together", 'answer_7_q3 = "b, d"\n', False, "answer with the letter of one option"),
    Mutant("7.Q3", "(C) in capitals", 'answer_7_q3 = "(C)"\n', False, "copies the key along with the data"),
    Mutant("7.Q3", "the option's words, not its letter", 'answer_7_q3 = "Encrypt each secret with Fernet"\n', False,
           "answer with the letter of one option"),
]
