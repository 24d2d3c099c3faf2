"""Answers to lesson 06's exercises."""
from . import Mutant


def guard(check, on_failure='return redirect(url_for("login"))', call="return view(*args, **kwargs)",
          wraps="@functools.wraps(view)"):
    """A login_required answer, with one part changed."""
    return f"""
def login_required(view):
    {wraps}
    def wrapped(*args, **kwargs):
        if {check}:
            {on_failure}
        {call}
    return wrapped
"""


def attack(body):
    """A steal_second_factor answer."""
    return "def steal_second_factor(client, username, password):\n" + "\n".join(
        "    " + line for line in body.strip().splitlines()) + "\n"


MUTANTS = [
    Mutant("6.1", "log in, follow the redirect, scan what the page shows", attack("""
page = client.post("/login", data={"username": username, "password": password}, follow_redirects=True)
try:
    return Phone().scan(page.data).secret
except PhoneError:
    return None
"""), True),
    # Passed on the walk of 2026-12-05, though hint 1 says the address is not known: the app's 2FA page is drawn
    # per run now.
    Mutant("6.1", "log in, then ask for the 2FA page at a hard-coded /2fa", attack("""
client.post("/login", data={"username": username, "password": password})
page = client.get("/2fa", follow_redirects=True)
try:
    return Phone().scan(page.data).secret
except PhoneError:
    return None
"""), False, "follow where the login sends you"),
    Mutant("6.1", "log in, then go where the Location header says", attack("""
reply = client.post("/login", data={"username": username, "password": password})
page = client.get(reply.headers["Location"])
try:
    return Phone().scan(page.data).secret
except PhoneError:
    return None
"""), True),
    Mutant("6.1", "the 2FA page without logging in", attack("""
page = client.get("/2fa", follow_redirects=True)
try:
    return Phone().scan(page.data).secret
except PhoneError:
    return None
"""), False, "log in as the user first"),
    Mutant("6.1", "the code instead of the secret", attack("""
page = client.post("/login", data={"username": username, "password": password}, follow_redirects=True)
try:
    phone = Phone()
    phone.scan(page.data)
    return phone.code()
except PhoneError:
    return None
"""), False, "Return the secret that the phone read"),
    Mutant("6.1", "a page without a QR code not handled", attack("""
page = client.post("/login", data={"username": username, "password": password}, follow_redirects=True)
return Phone().scan(page.data).secret
"""), False, "return None"),
    Mutant("6.1", "gives up at once", attack("""
return None
"""), False, "came back with nothing"),
    Mutant("6.1", "a secret of its own", attack("""
client.post("/login", data={"username": username, "password": password}, follow_redirects=True)
return pyotp.random_base32()
"""), False, "not the secret in the QR code"),

    Mutant("6.2", "generate_password_hash, check_password_hash", """
def hash_and_check(password, attempt):
    stored = generate_password_hash(password)
    return stored, check_password_hash(stored, attempt)
""", True),
    Mutant("6.2", "attempt compared with the password", """
def hash_and_check(password, attempt):
    stored = generate_password_hash(password)
    return stored, password == attempt
""", False, "does not come from the stored hash"),
    Mutant("6.2", "matches is always True", """
def hash_and_check(password, attempt):
    return generate_password_hash(password), True
""", False, "a different attempt (one capital letter) should give matches == False"),
    Mutant("6.2", "attempt compared in constant time, still not hashed", """
def hash_and_check(password, attempt):
    stored = generate_password_hash(password)
    return stored, hmac.compare_digest(password, attempt)
""", False, "against `stored` with check_password_hash"),
    Mutant("6.2", "an unsalted SHA-256", """
def hash_and_check(password, attempt):
    stored = hashlib.sha256(password.encode()).hexdigest()
    return stored, hashlib.sha256(attempt.encode()).hexdigest() == stored
""", False, "not a plain digest such as hashlib.sha256"),
    Mutant("6.2", "the password stored as it is", """
def hash_and_check(password, attempt):
    return password, password == attempt
""", False, "the stored value still contains the password"),
    Mutant("6.2", "a fast pbkdf2", """
def hash_and_check(password, attempt):
    stored = generate_password_hash(password, method="pbkdf2:sha256:1000")
    return stored, check_password_hash(stored, attempt)
""", False, "is fast to guess"),
    Mutant("6.2", "the attempt hashed and compared with the stored hash", """
def hash_and_check(password, attempt):
    stored = generate_password_hash(password)
    return stored, generate_password_hash(attempt) == stored
""", False, "against `stored` with check_password_hash"),

    Mutant("6.3", "= ? with a one-item tuple", """
def find_user(db, username):
    return db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
""", True),
    Mutant("6.3", "LIKE ?", """
def find_user(db, username):
    return db.execute("SELECT * FROM users WHERE username LIKE ?", (username,)).fetchone()
""", False, "not LIKE"),
    Mutant("6.3", "COLLATE NOCASE", """
def find_user(db, username):
    return db.execute("SELECT * FROM users WHERE username = ? COLLATE NOCASE", (username,)).fetchone()
""", False, "names must match exactly"),
    Mutant("6.3", "an f-string", """
def find_user(db, username):
    return db.execute(f"SELECT * FROM users WHERE username = '{username}'").fetchone()
""", False, "Pass the name as a parameter"),
    Mutant("6.3", "the parameter without its tuple", """
def find_user(db, username):
    return db.execute("SELECT * FROM users WHERE username = ?", (username)).fetchone()
""", False, "the parameters must be a tuple"),
    Mutant("6.3", "fetchall", """
def find_user(db, username):
    return db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchall()
""", False, "not a list from .fetchall()"),

    Mutant("6.3", "the user's id instead of the row", """
def find_user(db, username):
    row = db.execute("SELECT id FROM users WHERE username = ?", (username,)).fetchone()
    return None if row is None else row["id"]
""", False, "not the user's row"),
    # Issue 22: returning the id once got "not a list from .fetchall()".
    Mutant("6.3", "the first column of the row", """
def find_user(db, username):
    row = db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    return row[0] if row else None
""", False, "not the user's row"),
    Mutant("6.3", "a row of the id column only", """
def find_user(db, username):
    return db.execute("SELECT id FROM users WHERE username = ?", (username,)).fetchone()
""", False, "select every column of the user"),

    Mutant("6.4", "by totp_secret", """
def next_page_after_password(user_row):
    if user_row["totp_secret"] is None:
        return "/enable-2fa"
    return "/verify-2fa"
""", True),
    Mutant("6.4", "by the truth of totp_secret", """
def next_page_after_password(user_row):
    return "/verify-2fa" if user_row["totp_secret"] else "/enable-2fa"
""", True),
    Mutant("6.4", "by pending_secret", """
def next_page_after_password(user_row):
    if user_row["pending_secret"] is None and user_row["totp_secret"] is None:
        return "/enable-2fa"
    return "/verify-2fa"
""", False, "Look at totp_secret, not pending_secret"),
    Mutant("6.4", "the pages swapped", """
def next_page_after_password(user_row):
    if user_row["totp_secret"] is None:
        return "/verify-2fa"
    return "/enable-2fa"
""", False, "should go to '/enable-2fa'"),
    Mutant("6.4", "dict .get on a sqlite3.Row", """
def next_page_after_password(user_row):
    return "/verify-2fa" if user_row.get("totp_secret") else "/enable-2fa"
""", False, "a sqlite3.Row has no .get()"),
    Mutant("6.4", "a column that is not there", """
def next_page_after_password(user_row):
    return "/verify-2fa" if user_row["two_factor_enabled"] else "/enable-2fa"
""", False, "the columns are id, username"),

    Mutant("6.5", "user_id or the login page, with wraps", guard('session.get("user_id") is None'), True),
    Mutant("6.5", "a password alone is let in",
           guard('session.get("user_id") is None and session.get("pending_user_id") is None'),
           False, "only user_id means both factors passed"),
    Mutant("6.5", "no functools.wraps", guard('session.get("user_id") is None', wraps=""),
           False, "Each guarded view must keep its own name"),
    Mutant("6.5", "the view's arguments dropped", guard('session.get("user_id") is None', call="return view()"),
           False, "pass on every argument, positional and keyword"),
    Mutant("6.5", "session['user_id'] on an empty session", guard('not session["user_id"]'),
           False, "gives None for a missing key"),
    Mutant("6.5", "401 instead of the login page", guard('session.get("user_id") is None', on_failure="abort(401)"),
           False, "send the visitor on to the login page"),

    Mutant("6.Q1", 'the right option, b)', 'answer_6_q1 = "b)"\n', True),
    Mutant("6.Q1", "(a) SameSite means other addresses", 'answer_6_q1 = "a"\n', False,
           "SameSite is about sites, not addresses"),
    Mutant("6.Q1", "(c) SameSite the wrong way round", 'answer_6_q1 = "c"\n', False,
           "that is the wrong way round"),
    Mutant("6.Q1", "(d) SameSite only concerns links", 'answer_6_q1 = "d"\n', False,
           "a cross-site form POST is exactly what Lax holds the cookie back from"),

    # Wrong answers written from the lesson text alone, independently of the checks.
    Mutant("6.3", "the name written into the SQL, its quotes doubled", """
def find_user(db, username):
    quoted = username.replace("'", "''")
    return db.execute("SELECT * FROM users WHERE username = '%s'" % quoted).fetchone()
""", False, "that is SQL built from the input"),
    Mutant("6.3", "rows kept between calls", """
_rows = {}

def find_user(db, username):
    if username not in _rows:
        _rows[username] = db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    return _rows[username]
""", False, "not in rows kept from an earlier call"),
    Mutant("6.3", "the name squeezed to ASCII", """
def find_user(db, username):
    name = username.encode("ascii", "ignore").decode("ascii")
    return db.execute("SELECT * FROM users WHERE username = ?", (name,)).fetchone()
""", False, "letters outside ASCII"),
    Mutant("6.4", "by whether any secret is stored", """
def next_page_after_password(user_row):
    return "/verify-2fa" if (user_row["totp_secret"] or user_row["pending_secret"]) else "/enable-2fa"
""", False, "Look at totp_secret, not pending_secret"),

    # Tuned to the check's own inputs (issue 20): users, passwords, secrets and ids drawn per run find them out.
    Mutant("6.1", "logs in as alice with the lesson's password", attack("""
page = client.post("/login", data={"username": "alice", "password": "correct horse battery"}, follow_redirects=True)
try:
    return Phone().scan(page.data).secret
except PhoneError:
    return None
"""), False, "log in as the user first"),
    Mutant("6.2", "the attempt checked against the lesson's password", """
def hash_and_check(password, attempt):
    stored = generate_password_hash(password)
    return stored, check_password_hash(generate_password_hash("correct horse battery"), attempt)
""", False, "so `matches` should be True"),
    Mutant("6.4", "a table of the check's secrets", """
def next_page_after_password(user_row):
    return {"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP": "/verify-2fa"}.get(user_row["totp_secret"], "/enable-2fa")
""", False, "should go to '/verify-2fa'"),
    Mutant("6.5", "a table of the check's pages", guard(
        'session.get("user_id") is None',
        call='return {"dashboard": "dashboard of user 7", "note": "note 3"}[view.__name__]'), False,
        "return exactly what the guarded view returns"),
]

# Issue 22, second catalogue (2026-12-06): written from the lesson text
MUTANTS += [
    Mutant("6.1", "follows each redirect by hand", attack("""
reply = client.post("/login", data={"username": username, "password": password})
for _ in range(5):
    if reply.status_code not in (301, 302, 303, 307, 308):
        break
    reply = client.get(reply.headers["Location"])
try:
    return Phone().scan(reply.data).secret
except PhoneError:
    return None
"""), True),
    Mutant("6.1", "the fields named user and pass", attack("""
page = client.post("/login", data={"user": username, "pass": password}, follow_redirects=True)
try:
    return Phone().scan(page.data).secret
except PhoneError:
    return None
"""), False, "log in as the user first"),
    Mutant("6.1", "the login sent as a GET with the password in the address", attack("""
page = client.get("/login", query_string={"username": username, "password": password}, follow_redirects=True)
try:
    return Phone().scan(page.data).secret
except PhoneError:
    return None
"""), False, "log in as the user first"),
    Mutant("6.1", "scans the login's own answer, the redirect", attack("""
reply = client.post("/login", data={"username": username, "password": password})
try:
    return Phone().scan(reply.data).secret
except PhoneError:
    return None
"""), False, "following the redirect as a browser does"),
    Mutant("6.1", "reads a 32-letter key from the page's text", attack("""
import re
page = client.post("/login", data={"username": username, "password": password}, follow_redirects=True)
found = re.search("[A-Z2-7]{32}", page.get_data(as_text=True))
return found[0] if found else None
"""), False, "scan"),
    Mutant("6.1", "an empty string when there is no QR code", attack("""
page = client.post("/login", data={"username": username, "password": password}, follow_redirects=True)
try:
    return Phone().scan(page.data).secret
except PhoneError:
    return ""
"""), False, "return None"),
    Mutant("6.1", "the login posted as JSON", attack("""
page = client.post("/login", json={"username": username, "password": password}, follow_redirects=True)
try:
    return Phone().scan(page.data).secret
except PhoneError:
    return None
"""), False, "log in as the user first"),

    Mutant("6.2", "scrypt named", """
def hash_and_check(password, attempt):
    stored = generate_password_hash(password, method="scrypt")
    matches = check_password_hash(stored, attempt)
    return stored, matches
""", True),
    Mutant("6.2", "one stored hash per password, kept between calls", """
_stored = {}

def hash_and_check(password, attempt):
    if password not in _stored:
        _stored[password] = generate_password_hash(password)
    return _stored[password], check_password_hash(_stored[password], attempt)
""", False, "salt"),
    Mutant("6.2", "check_password_hash's arguments swapped", """
def hash_and_check(password, attempt):
    stored = generate_password_hash(password)
    return stored, check_password_hash(attempt, stored)
""", False, "check the attempt against `stored` with check_password_hash"),
    Mutant("6.2", "the password checked against its own hash", """
def hash_and_check(password, attempt):
    stored = generate_password_hash(password)
    return stored, check_password_hash(stored, password)
""", False, "a different attempt (one capital letter) should give matches == False"),
    Mutant("6.2", "case folded before hashing", """
def hash_and_check(password, attempt):
    stored = generate_password_hash(password.lower())
    return stored, check_password_hash(stored, attempt.lower())
""", False, "hash the password exactly as it was typed"),
    Mutant("6.2", "a salted MD5", """
import secrets
def hash_and_check(password, attempt):
    salt = secrets.token_hex(8)
    stored = salt + "$" + hashlib.md5((salt + password).encode()).hexdigest()
    salt_again, digest = stored.split("$")
    return stored, hashlib.md5((salt_again + attempt).encode()).hexdigest() == digest
""", False, "not a plain digest"),
    Mutant("6.2", "matches and stored swapped", """
def hash_and_check(password, attempt):
    stored = generate_password_hash(password)
    return check_password_hash(stored, attempt), stored
""", False, "(stored, matches)"),

    Mutant("6.3", "a named parameter", """
def find_user(db, username):
    return db.execute("SELECT * FROM users WHERE username = :name", {"name": username}).fetchone()
""", True),
    Mutant("6.3", "every row read, the name compared in Python", """
def find_user(db, username):
    for row in db.execute("SELECT * FROM users"):
        if row["username"] == username:
            return row
    return None
""", True),
    Mutant("6.3", "lower() on both sides", """
def find_user(db, username):
    return db.execute("SELECT * FROM users WHERE lower(username) = lower(?)", (username,)).fetchone()
""", False, "names must match exactly"),
    Mutant("6.3", "the name stripped first", """
def find_user(db, username):
    return db.execute("SELECT * FROM users WHERE username = ?", (username.strip(),)).fetchone()
""", False, "exactly"),
    Mutant("6.3", "the name cleaned of anything but letters and digits", """
import re
def find_user(db, username):
    cleaned = re.sub(r"[^A-Za-z0-9_]", "", username)
    return db.execute("SELECT * FROM users WHERE username = ?", (cleaned,)).fetchone()
""", False, "look the name up exactly as given"),
    Mutant("6.3", "str.format into the SQL", """
def find_user(db, username):
    return db.execute("SELECT * FROM users WHERE username = '{}'".format(username)).fetchone()
""", False, "the input became part of your SQL"),
    Mutant("6.3", "repr() quotes the name into the SQL", """
def find_user(db, username):
    return db.execute("SELECT * FROM users WHERE username = " + repr(username)).fetchone()
""", False, "that is SQL built from the input"),
    Mutant("6.3", "GLOB ?", """
def find_user(db, username):
    return db.execute("SELECT * FROM users WHERE username GLOB ?", (username,)).fetchone()
""", False, "exactly"),
    Mutant("6.3", "closes the connection it was given", """
def find_user(db, username):
    row = db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    db.close()
    return row
""", False, "leave it open"),

    Mutant("6.4", "a pair indexed by whether 2FA is on", """
def next_page_after_password(user_row):
    return ("/enable-2fa", "/verify-2fa")[user_row["totp_secret"] is not None]
""", True),
    Mutant("6.4", "the fourth column by position", """
def next_page_after_password(user_row):
    return "/verify-2fa" if user_row[3] else "/enable-2fa"
""", False, "Look at totp_secret, not pending_secret"),
    Mutant("6.4", "an empty column taken to be ''", """
def next_page_after_password(user_row):
    return "/enable-2fa" if user_row["totp_secret"] == "" else "/verify-2fa"
""", False, "should go to '/enable-2fa'"),
    Mutant("6.4", "paths without the leading slash", """
def next_page_after_password(user_row):
    return "verify-2fa" if user_row["totp_secret"] is not None else "enable-2fa"
""", False, "'/enable-2fa'"),
    Mutant("6.4", "url_for of the views", """
from flask import url_for
def next_page_after_password(user_row):
    return url_for("two_factor.verify_2fa" if user_row["totp_secret"] else "two_factor.enable_2fa")
""", False, "return the path as a string"),
    Mutant("6.4", "the column's name looked for among the keys", """
def next_page_after_password(user_row):
    return "/verify-2fa" if "totp_secret" in user_row.keys() else "/enable-2fa"
""", False, "should go to '/enable-2fa'"),

    Mutant("6.5", "a missing user_id tested with 'not in', next= kept", guard(
        '"user_id" not in session',
        on_failure='return redirect(url_for("login", next="dashboard"))'), True),
    Mutant("6.5", "pending_user_id checked instead of user_id", guard('session.get("pending_user_id") is None'),
           False, "only user_id means both factors passed"),
    Mutant("6.5", "the view's answer not returned", guard('session.get("user_id") is None',
                                                           call="view(*args, **kwargs)"),
           False, "return what it returns"),
    Mutant("6.5", "the login page's address typed by hand", guard('session.get("user_id") is None',
                                                                  on_failure='return redirect("/login")'),
           False, "let url_for write the address of the view named login"),
    Mutant("6.5", "g.user from the Build, in a plain session app",
           "from flask import g\n" + guard('g.get("user") is None'), False, "user_id"),
    Mutant("6.5", "the session read when the decorator is applied", """
def login_required(view):
    logged_in = session.get("user_id") is not None

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not logged_in:
            return redirect(url_for("login"))
        return view(*args, **kwargs)
    return wrapped
""", False, "inside the function it returns"),
    Mutant("6.5", "a permanent redirect", guard('session.get("user_id") is None',
                                                on_failure='return redirect(url_for("login"), code=301)'),
           False, "permanent"),
    Mutant("6.5", "the first visit's verdict kept per view", """
def login_required(view):
    verdict = {}

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if "allowed" not in verdict:
            verdict["allowed"] = session.get("user_id") is not None
        if not verdict["allowed"]:
            return redirect(url_for("login"))
        return view(*args, **kwargs)
    return wrapped
""", False, "every request"),
]
MUTANTS += [
    # Free input to a question: two letters to be safe, or the letter in a list.
    Mutant("6.Q1", "two letters, to be safe", 'answer_6_q1 = "b or c"\n', False, "the letter of one option"),
    Mutant("6.Q1", "the letter in a list", 'answer_6_q1 = ["b"]\n', False, "the letter of one option"),
]
MUTANTS += [
    # More of the second catalogue: a cheap scrypt, a list of parameters, a name found inside another.
    Mutant("6.2", "a cheap scrypt, to be quick", """
def hash_and_check(password, attempt):
    stored = generate_password_hash(password, method="scrypt:1024:1:1")
    return stored, check_password_hash(stored, attempt)
""", False, "is fast to guess"),
    Mutant("6.3", "the parameters in a list", """
def find_user(db, username):
    return db.execute("SELECT * FROM users WHERE username = ?", [username]).fetchone()
""", True),
    Mutant("6.3", "a name found inside another, with instr", """
def find_user(db, username):
    return db.execute("SELECT * FROM users WHERE instr(username, ?) > 0", (username,)).fetchone()
""", False, "names must match exactly"),
]
