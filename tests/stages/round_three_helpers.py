"""How the round-three tests drive a stage 7 app: people, browsers, attackers and the database file.

Written from the contract alone (``docs/app_contract.md``, stage 7 "Round three"): routes, form
fields, status codes and ``app.config`` names, never the app's own modules, so that they hold for
any app at stage 7 (``--app-dir``). The device cookie is never read or named: a browser is
"trusted" when, with strangers' guesses pausing the account, its right password still gets past
the password step (``is_trusted``).
"""
import base64
import itertools
import random
import re
import sqlite3
from contextlib import closing
from pathlib import Path

from workbook import pages
from workbook.testing.accounts import PASSWORD, USERNAME
from workbook.testing.app_under_test import NotifyRecorder, connect_database, make_app
from workbook.visitor import submit_form

from stage_helpers import (
    Authenticator,
    app_config,
    confirm_saved,
    copy_database,
    is_redirect_to,
    location,
    logged_in,
    show_recovery_codes,
    use_recovery,
    verify,
)

DAY = 24 * 3600

# Fernet keys (32 random bytes, url-safe base64) made once for these tests: A is the app's key,
# B the next one in a rotation, THIEF a key the owner of a stolen database file might try.
KEY_A = "Dqs7SqdJIOed4JFFVzrnkbEEuL-F8t_WcO1bUtAufCc="
KEY_B = "cYHa1UQai-Ur5g4xX2vHm28hRp-XwVqSn8sZ6qjXgss="
KEY_THIEF = "z4BVYtLYox9i5ghv6RzEPrThVEdMHl7mIFq8wxHaCSA="

NEW_PASSWORD = "staple orbit lantern meadow"  # as uncommon as PASSWORD


def config(tmp_path, clock, **extra):
    """stage_helpers.app_config, plus the key that encrypts TOTP secrets (required at round three)."""
    return app_config(tmp_path, clock, **{"TOTP_ENCRYPTION_KEYS": KEY_A, **extra})


def new_app(folder, tmp_path, clock, **extra):
    return make_app(folder, config(tmp_path, clock, **extra))


def cookies(client):
    """The cookies a browser holds (records with werkzeug's ``Cookie`` names: key, value, secure, http_only, ...)."""
    return client.cookies()


_addresses = itertools.count(1)


def browser(app, address=None):
    """A browser of its own (its own cookies) at a client address of its own, unless ``address`` is given.

    Every test client would otherwise come from 127.0.0.1, and the per-address limits on /register
    and unknown names would count the whole test as one person.
    """
    number = next(_addresses)
    return app.test_client(remote_addr=address or f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}")


class Person:
    """Someone with a browser (``client``) and maybe a phone: the owner, or an attacker who knows some of it."""

    def __init__(self, client, phone, username=USERNAME, password=PASSWORD):
        self.client = client
        self.phone = phone
        self.username = username
        self.password = password
        self.recovery_codes = []

    def register(self, username=None, password=None):
        return submit_form(self.client, "/register", {"username": username or self.username,
                                                      "password": password or self.password})

    def login(self, password=None, username=None):
        return submit_form(self.client, "/login", {"username": username or self.username,
                                                   "password": password or self.password})

    def logout(self):
        return submit_form(self.client, "/dashboard", action="/logout")

    def enrol(self):
        """Register, scan the QR code, confirm a code, save the recovery codes: signed in, 2FA on.

        At round three /register leads straight to /enable-2fa in the same session; an app that
        sends the browser to /login instead (round two) is logged in first, so that the other
        round-three tests still reach what they are about (``test_register_goes_straight_to_enrolment``
        is the test of that rule).
        """
        response = self.register()
        if location(response) != "/enable-2fa":
            assert 300 <= response.status_code < 400, f"/register answered {response.status_code}"
            response = self.login()
        assert location(response) == "/enable-2fa", f"registering did not lead to /enable-2fa: {response.status_code}"
        page = self.client.get("/enable-2fa")
        self.phone.scan(page.data)
        response = submit_form(self.client, "/enable-2fa", {"otp": self.phone.code()}, page=page)
        assert location(response) == "/recovery-codes", f"confirming the first code: {response.status_code}"
        codes = show_recovery_codes(self.client)
        assert len(codes) == 10, f"{len(codes)} recovery codes"
        assert is_redirect_to(confirm_saved(self.client), "/dashboard")
        self.recovery_codes = list(codes)
        return self

    def sign_in(self, code=None):
        """Password, then a code (this step's, unless given): True if the dashboard opened."""
        response = self.login()
        if location(response) != "/verify-2fa":
            return False
        return is_redirect_to(verify(self.client, code or self.phone.code()), "/dashboard")

    def sign_in_with_recovery_code(self):
        response = self.login()
        if location(response) != "/verify-2fa":
            return False
        return is_redirect_to(use_recovery(self.client, self.recovery_codes.pop(0)), "/dashboard")

    def in_another_browser(self, app):
        """The same person (same phone, same codes) in a browser of their own, not logged in there yet."""
        other = Person(browser(app), self.phone, self.username, self.password)
        other.recovery_codes = self.recovery_codes  # one sheet of paper
        return other


def start_registration(person):
    """Register and open /enable-2fa (logging in first on a round-two app): the page with the QR code,
    scanned by ``person.phone``."""
    response = person.register()
    if location(response) != "/enable-2fa":
        person.login()
    page = person.client.get("/enable-2fa")
    person.phone.scan(page.data)
    return page


def owner(app, clock):
    """alice, enrolled, then logged out and in once more with password and code: her browser completed a
    full login, so it holds a device cookie for her. Signed in; the clock 30 s after the enrolment."""
    alice = Person(browser(app), Authenticator(clock)).enrol()
    alice.logout()
    clock.advance(30)
    assert alice.sign_in(), "alice could not log in after enrolling"
    return alice


def trusted_second_browser(app, alice, clock):
    """alice signed in in a second browser (a full login there: it is trusted too)."""
    clock.advance(30)
    laptop = alice.in_another_browser(app)
    assert laptop.sign_in(), "alice could not log in in a second browser"
    return laptop


def stranger_fails_password(app, username=USERNAME, attempt=0):
    """Someone who knows only the name tries a password, from a fresh browser at a fresh address."""
    return submit_form(browser(app), "/login", {"username": username, "password": f"a stranger's guess {attempt}"})


def pause_strangers(app, username=USERNAME, tries=30):
    """Strangers fail passwords until the account's shared bucket answers 429: the Retry-After it gave."""
    for attempt in range(tries):
        response = stranger_fails_password(app, username, attempt)
        if response.status_code == 429:
            return response.headers.get("Retry-After")
        assert response.status_code == 401, f"a wrong password from a stranger got {response.status_code}"
    raise AssertionError(f"{tries} wrong passwords from strangers, and no 429: the password step is not throttled")


def is_trusted(app, person):
    """Whether ``person``'s browser is trusted for the account: with strangers' guesses pausing the
    password step, its right password still gets through (True), or gets 429 like a stranger (False).

    The browser's session ends (a new login starts in it): call it last, or sign in again.
    """
    pause_strangers(app, person.username)
    response = person.login()
    if response.status_code == 429:
        return False
    assert location(response) == "/verify-2fa", f"the right password got {response.status_code}"
    return True


def wrong_recovery_code(real):
    """A code that looks like ``real`` (same alphabet, same groups) and is not one: its letters shuffled."""
    letters = [c for c in real if c.isalnum()]
    rng = random.Random(real)
    while True:
        rng.shuffle(letters)
        shuffled = iter(letters)
        candidate = "".join(next(shuffled) if c.isalnum() else c for c in real)
        if candidate != real:
            return candidate


def new_qr(response):
    """The account of the QR code a page shows, or None."""
    images = pages.parse(response.data).data_uri_images()
    if len(images) != 1:
        return None
    phone = Authenticator(None)
    return phone.scan(response.data)


def follow(client, response):
    """A browser following one redirect, if the response is one."""
    if 300 <= response.status_code < 400:
        return client.get(location(response))
    return response


def replace_phone_start(person, **proof):
    """Open /replace-phone and send the form with ``password`` and ``proof`` (otp or recovery_code);
    the page the browser then shows (a redirect followed once)."""
    fields = {"password": person.password, **proof}
    page = person.client.get("/replace-phone")
    if page.status_code != 200 or pages.parse(page.data).post_form(fields) is None:
        return page  # no such form in this browser: nothing to send
    return follow(person.client, submit_form(person.client, "/replace-phone", fields, page=page))


def replace_phone_confirm(person, qr_page, new_phone):
    """Type the new phone's code into the form of the page that showed its QR code."""
    form = pages.parse(qr_page.data).post_form({"otp"})
    assert form is not None, "the page with the new QR code has no form for the new phone's code"
    return person.client.post(form.action or "/replace-phone", data=form.data(otp=new_phone.code()))


def replace_phone(person, clock):
    """alice (signed in) replaces her phone with password and a fresh code: the new phone."""
    clock.advance(30)
    qr_page = replace_phone_start(person, otp=person.phone.code())
    account = new_qr(qr_page)
    assert account is not None, f"no new QR code after password and code ({qr_page.status_code})"
    new_phone = Authenticator(person.phone.clock)
    new_phone.account = account
    response = replace_phone_confirm(person, qr_page, new_phone)
    assert response.status_code < 400, f"the new phone's code got {response.status_code}"
    person.phone = new_phone
    return response


def change_password(person, new_password, **proof):
    fields = {"password": person.password, "new_password": new_password, **proof}
    return submit_form(person.client, "/change-password", fields)


def csrf_token(client, url):
    """The csrf_token of the first form on ``url`` that has one."""
    for form in pages.parse(client.get(url).data).forms:
        if form.fields.get("csrf_token"):
            return form.fields["csrf_token"]
    raise AssertionError(f"{url} has no form with a csrf_token")


# ----------------------------------------------------------------- the database file, as a thief has it

def stolen_copy(app, destination):
    """A copy of the app's database file (SQLite's backup API, write-ahead log included)."""
    destination = Path(destination)
    copy_database(app.config["DATABASE"], destination)
    return destination


def every_value(database):
    """(table, column, value) for every value of every table of a database file."""
    with closing(connect_database(database)) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    yield table, column, value


def table_rows(database, name_contains):
    """How many rows the tables whose name contains ``name_contains`` hold, together."""
    with closing(connect_database(database)) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                  if name_contains in row[0].lower()]
        return sum(db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] for table in tables)


def file_bytes(app):
    """Everything SQLite has written for the app: the database file and its write-ahead log."""
    data = b""
    for suffix in ("", "-wal", "-journal"):
        path = Path(app.config["DATABASE"] + suffix)
        if path.exists():
            data += path.read_bytes()
    return data


def secret_encodings(secret):
    """A base32 TOTP secret as a thief would look for it: text (any case, grouped or not) and raw bytes
    (as they are, in hex, in base64)."""
    raw = base64.b32decode(secret)
    texts = {secret, secret.lower(), " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
             raw.hex(), raw.hex().upper(), base64.b64encode(raw).decode().rstrip("="),
             base64.urlsafe_b64encode(raw).decode().rstrip("=")}
    return texts, raw


def where_secret_is(app, secret, tmp_path):
    """Where a stolen copy of the database file gives the secret away: a list of places (empty: nowhere)."""
    texts, raw = secret_encodings(secret)
    found = []
    data = file_bytes(app)
    if raw in data:
        found.append("the file's raw bytes hold the secret's 20 bytes")
    found += [f"the file's bytes hold {text!r}" for text in texts if text.encode() in data]
    for table, column, value in every_value(stolen_copy(app, tmp_path / "stolen.sqlite")):
        if isinstance(value, bytes):
            if raw in value or any(text.encode() in value for text in texts):
                found.append(f"{table}.{column} (a blob)")
        elif isinstance(value, str) and any(text in value for text in texts):
            found.append(f"{table}.{column}")
    return found


# ----------------------------------------------------------------- what the owner is told

def as_text(value):
    """Whatever the app passes (a string, a dict, a Row, an object), as text to search."""
    parts = [repr(value), str(value)]
    if hasattr(value, "keys"):
        try:
            parts.append(str({key: value[key] for key in value.keys()}))
        except (TypeError, KeyError, IndexError):
            pass
    if hasattr(value, "__dict__"):
        parts.append(str(vars(value)))
    return " ".join(parts)


def user_id_of(app, username=USERNAME):
    """The id the app's users table gives ``username``, if it has one called so (None otherwise)."""
    try:
        with closing(connect_database(app.config["DATABASE"])) as db:
            row = db.execute("SELECT id FROM users WHERE username = ?", (username,)).fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def refers_to(app, user, username=USERNAME):
    """Whether the ``user`` a NOTIFY call got is ``username`` (by name, or by the users table's id)."""
    if username in as_text(user):
        return True
    user_id = user_id_of(app, username)
    return user_id is not None and (user == user_id or str(user) == str(user_id) or f"{user_id}" in as_text(user))


FAILED_COUNT = re.compile(r"\b(\d+)\b[^.!?\d]{0,60}?\bfail|\bfail\w*\b[^.!?\d]{0,60}?\b(\d+)\b", re.IGNORECASE)


def failed_counts(html):
    """The numbers a page puts next to "failed" ("3 failed attempts", "failed sign-in attempts: 3")."""
    text = pages.parse(html).text
    return {int(a or b) for a, b in FAILED_COUNT.findall(text)}


__all__ = ["DAY", "cookies", "KEY_A", "KEY_B", "KEY_THIEF", "NEW_PASSWORD", "PASSWORD", "USERNAME", "Authenticator",
           "NotifyRecorder", "Person", "as_text", "browser", "change_password", "config", "csrf_token",
           "every_value", "failed_counts", "file_bytes", "follow", "is_redirect_to", "is_trusted",
           "location", "logged_in", "new_app", "new_qr", "owner", "pause_strangers", "refers_to",
           "replace_phone", "replace_phone_confirm", "replace_phone_start", "secret_encodings",
           "start_registration", "stolen_copy", "stranger_fails_password", "table_rows", "trusted_second_browser",
           "use_recovery", "verify", "where_secret_is", "wrong_recovery_code"]
