"""Checks for lesson 08: the phishing relay, and passkeys (WebAuthn).

Every input is made when the check runs: a fresh stage app and a fresh relay login for 8.1,
credentials from the passkey stand-in (random challenges, origins, counters and flags) for
8.2 to 8.5, random host names for 8.4. An answer that fits one run's values fails the next.

The checks compare plain values only; what 8.5 hands your function (the passkeys table's connection,
the login's session) is built where your code runs, by the public functions of this module
(``passkeys_db``, ``raced_passkeys_db``, ``LoginSession``), through ``student_side``: when the instructor
grades, your code runs in a process of its own and the checks in the grader's.
"""
import base64
import hashlib
import ipaddress
import json
import os
import random
import re
import shutil
import sqlite3
import string
import tempfile
import weakref

from . import exercise, question
from .student_side import plain, plain_result, raised_kind, raised_message, student_side

DRAW = random.SystemRandom()   # the checks' own draws: a notebook's random.seed() cannot foresee them
SIBLING_ORIGIN = "https://login.example.test"  # the relay on a sibling subdomain, as the lesson shows it


def _lesson():
    """This module where the student's code runs: the fixture builders of 8.5, called there."""
    return student_side.module(__name__)


# ---- 8.Q1 ---------------------------------------------------------------------------------------

question(
    "8.Q1", "Which stage 7 defence stops a live relay?",
    "Mallory's look-alike site passes every request on to stage 7 within a second and keeps the session "
    "cookie it sets. Which of stage 7's defences stops her?",
    {"a": "replay protection: each code is accepted once",
     "b": "throttling: wrong codes cost more and more time",
     "c": "CSRF tokens in every form",
     "d": "the Content-Security-Policy's form-action 'self'",
     "e": "none of them"},
    "e",
    {"a": "replay protection stops a code used twice, but the relay uses Alice's code once, and first: "
          "she never gets to use it herself.",
     "b": "throttling slows down guessing, but the relay does not guess: Alice types the right code, once.",
     "c": "the CSRF token is in the real page the relay shows Alice, and goes back with her form: "
          "the real site sees its own token.",
     "d": "form-action 'self' limits where the page's forms go, and on the relay's page 'self' is the relay: "
          "the relay rewrites the addresses, the policy holds, the form goes to the relay."},
)


# ---- 8.1 ----------------------------------------------------------------------------------------

def _relay_login(number, **settings):
    """A fresh stage app where alice logs in with her password and code through the relay; its loot."""
    from ..phishing import RELAY_ORIGIN, BrowserAt, alice_enrolled, real_origin
    from ..relay import create_relay

    app, _, phone = alice_enrolled(number, **settings)
    relay = create_relay(app, real_origin(app), relay_origin=RELAY_ORIGIN)
    BrowserAt(relay, RELAY_ORIGIN).log_in_with_code(phone)
    return app, relay.loot.as_dict()


def _attack(take_over, number, where, reversed_cookies=False, **settings):
    """``reversed_cookies``: the loot's cookies in the other order (a JSON object's order means nothing), so that an
    answer that takes the first or the last cookie, not the ones the site set, gets the wrong one."""
    from ..phishing import attacker_opens_dashboard

    app, loot = _relay_login(number, **settings)
    given = json.loads(json.dumps(loot))  # the loot as /relay-loot?format=json shows it
    if reversed_cookies:
        given["cookies"] = dict(reversed(list(given["cookies"].items())))
    headers = plain_result(take_over(given), "take_over")
    assert type(headers) is dict, (
        f"return a dict of request headers, like {{'Cookie': 'name=value'}}, not {type(headers).__name__}.")
    dashboard = attacker_opens_dashboard(app, {str(k): str(v) for k, v in headers.items()})
    if dashboard.status_code == 200 and b"Welcome, alice" in dashboard.data:
        return
    sent = " ".join(str(v) for v in headers.values())
    typed = [value for form in loot["forms"] for name, value in form["fields"].items() if name in ("password", "otp")]
    if any(value and value in sent for value in typed):
        raise AssertionError("the password and the code are used up: the code was accepted once already (replay "
                             "protection), and the dashboard asks for a session, not a password. The prize is the "
                             "cookie the site set, in loot['cookies'].")
    cookie = next((str(v) for k, v in headers.items() if str(k).lower() == "cookie"), None)
    if cookie is None:
        raise AssertionError("no Cookie header: a browser shows the site that it is logged in with the session "
                             "cookie, sent as {'Cookie': 'name=value'}.")
    if "=" not in cookie:
        raise AssertionError("a Cookie header is name=value: the cookie's name, '=', then its value.")
    names = {part.split("=", 1)[0].strip() for part in cookie.split(";")}
    if not names & set(loot["cookies"]):
        raise AssertionError(f"on {where} the cookie's name is not one the site set (it set "
                             f"{sorted(loot['cookies'])}): take the name from loot['cookies'] too, never type it.")
    raise AssertionError(f"on {where} the dashboard sent Mallory to the login page: your headers carry no session "
                         "of alice's. Send the cookies the site set, exactly as the relay kept them: which one is the "
                         "session is the site's business.")


@exercise("8.1", "Take over the session from the relay's loot", uses=["take_over"])
def check_take_over(take_over):
    _attack(take_over, 7, "stage 7")
    # The same relay, the same function, against stage 8 for an account that still takes a code.
    _attack(take_over, 8, "stage 8 (an account that still logs in with a code)", reversed_cookies=True)


# ---- 8.2 ----------------------------------------------------------------------------------------

def _random_host():
    letters = string.ascii_lowercase
    return "".join(DRAW.choice(letters) for _ in range(DRAW.randint(3, 9))) + "." + DRAW.choice(
        ["example", "test", "example.test"])


def _client_data_inputs():
    """Credentials from the stand-in (create and get, random origins): some need padding, some have '-' or '_'."""
    from ..passkey import Authenticator, Browser, b64url

    found, needs_padding = [], False
    while not (needs_padding and len(found) >= 4) and len(found) < 40:
        host = _random_host()
        origin = f"https://{host}"
        browser = Browser(Authenticator())
        made = browser.create(origin, {"rp": {"id": host, "name": "Bank"}, "challenge": b64url(os.urandom(32)),
                                       "user": {"id": b64url(os.urandom(16)), "name": "alice"},
                                       "pubKeyCredParams": [{"type": "public-key", "alg": -7}]})
        signed = browser.get(origin, {"rpId": host, "challenge": b64url(os.urandom(DRAW.randint(16, 40)))})
        for credential in (made, signed):
            text = credential["response"]["clientDataJSON"]
            needs_padding |= bool(len(text) % 4)
            found.append(credential)
    return found


def _padded(text):
    return text + "=" * (-len(text) % 4)


@exercise("8.2", "Read clientDataJSON", uses=["read_client_data"])
def check_read_client_data(read_client_data):
    for credential in _client_data_inputs():
        text = credential["response"]["clientDataJSON"]
        right = json.loads(base64.urlsafe_b64decode(_padded(text)))
        try:
            given = read_client_data(json.loads(json.dumps(credential)))
        except NotImplementedError:
            raise
        except Exception as error:
            padded = json.loads(json.dumps(credential))
            padded["response"]["clientDataJSON"] = _padded(text)
            try:
                fine_when_padded = plain(read_client_data(padded)) == right
            except NotImplementedError:
                raise
            except Exception:
                fine_when_padded = False
            if fine_when_padded:
                raise AssertionError("base64url leaves out the '=' padding at the end: add it back (to a multiple of "
                                     "4 characters) before decoding.") from None
            raise AssertionError(f"decode response['clientDataJSON'], the JSON text the browser wrote (your code "
                                 f"raised {raised_kind(error)}: {raised_message(error)}).") from None
        given = plain_result(given, "read_client_data")
        if type(given) in (str, bytes):
            raise AssertionError("return the parsed JSON, a dict (json.loads), not the text.")
        if given != right and type(given) is dict and ("attestationObject" in given or "clientDataJSON" in given):
            raise AssertionError("decode the one field the browser wrote: response['clientDataJSON'].")
        if given != right:
            raise AssertionError(f"for a credential made at {right['origin']} this should give {right}, not {given!r}: "
                                 "decode response['clientDataJSON'] (base64url), then parse the JSON.")


# ---- 8.3 ----------------------------------------------------------------------------------------

FLAG_BITS = {"UP": 0x01, "UV": 0x04, "BE": 0x08, "BS": 0x10}


def _authenticator_data_inputs():
    """(authenticatorData, rp_id, right answer): from the stand-in with random counters, then flag variants."""
    from ..passkey import Authenticator, Browser, b64url, from_b64url

    cases = []
    for user_verification, synced in ((True, False), (False, True), (True, True)):
        host = _random_host()
        browser = Browser(Authenticator(user_verification=user_verification, synced=synced))
        browser.create(f"https://{host}", {"rp": {"id": host, "name": "Bank"}, "challenge": b64url(os.urandom(32)),
                                            "user": {"id": b64url(os.urandom(16)), "name": "alice"},
                                            "pubKeyCredParams": [{"type": "public-key", "alg": -7}]})
        # A counter whose four bytes all differ, so that big- and little-endian never agree.
        browser.authenticator.credentials[0].sign_count = int.from_bytes(bytes(DRAW.sample(range(1, 128), 4)), "big")
        signed = browser.get(f"https://www.{host}" if DRAW.random() < .5 else f"https://{host}",
                             {"rpId": host, "challenge": b64url(os.urandom(32))})
        data = from_b64url(signed["response"]["authenticatorData"])
        cases.append((data, host))
        cases.append((data, "www." + host))         # the hash of another RP ID: not this site's
    # Every flag on its own and a few together (BE without BS: a passkey that could sync, but has not yet).
    data = cases[0][0]
    for flags in (0x01, 0x05, 0x09, 0x0D, 0x11, 0x1D, 0x04):
        cases.append((data[:32] + bytes([flags]) + data[33:], cases[0][1]))
    # Extensions after the counter (flag ED, 0x80; a CBOR map {"abc": true}): the counter is still data[33:37].
    cases.append((data[:32] + bytes([data[32] | 0x80]) + data[33:37] + bytes.fromhex("a163616263f5"), cases[0][1]))
    # An rpIdHash whose first half is this RP ID's and the rest is not: not this site's.
    cases.append((data[:16] + bytes(byte ^ 0x5A for byte in data[16:32]) + data[32:], cases[0][1]))
    return [(data, rp_id, _read(data, rp_id)) for data, rp_id in cases]


def _read(data, rp_id, flags_at=32, counter_at=33, order="big"):
    flags = data[flags_at]
    return {"rp_id_ok": data[:32] == hashlib.sha256(rp_id.encode()).digest(),
            **{name: bool(flags & bit) for name, bit in FLAG_BITS.items()},
            "sign_count": int.from_bytes(data[counter_at:counter_at + 4], order)}


@exercise("8.3", "Read authenticatorData", uses=["read_authenticator_data"])
def check_read_authenticator_data(read_authenticator_data):
    cases = _authenticator_data_inputs()
    for data, rp_id, right in cases:
        given = plain_result(read_authenticator_data(bytes(data), rp_id), "read_authenticator_data")
        assert type(given) is dict and set(given) >= set(right), (
            f"return a dict with the keys {sorted(right)}, not {given!r}.")
        given = {key: given[key] for key in right}
        if given["rp_id_ok"] != right["rp_id_ok"]:
            raise AssertionError(
                f"rp_id_ok should be {right['rp_id_ok']} for the RP ID {rp_id!r}: the first 32 bytes are "
                "sha256(rp_id.encode()).digest(), compared as bytes (a hexdigest() is text, and never equal).")
        if given["sign_count"] != right["sign_count"]:
            if given["sign_count"] == _read(data, rp_id, order="little")["sign_count"]:
                raise AssertionError("the counter is big-endian (network byte order): the most significant byte "
                                     "comes first.")
            raise AssertionError(f"the counter should be {right['sign_count']}, not {given['sign_count']!r}: it is "
                                 "the 4 bytes after the flags byte, data[33:37].")
        flags_given = {name: given[name] for name in FLAG_BITS}
        flags_right = {name: right[name] for name in FLAG_BITS}
        if any(type(value) is int and value not in (0, 1) for value in flags_given.values()):
            raise AssertionError("give each flag as True or False (bool(flags & bit)), not the masked number "
                                 f"({flags_given}).")
        if flags_given != flags_right:
            for shifted in (31, 33):
                if all({name: plain(read_authenticator_data(bytes(d), r))[name] for name in FLAG_BITS}
                       == {name: _read(d, r, flags_at=shifted)[name] for name in FLAG_BITS} for d, r, _ in cases):
                    raise AssertionError("the flags are one byte: data[32], right after the 32-byte rpIdHash.")
            wrong = sorted(name for name in FLAG_BITS if flags_given[name] != flags_right[name])
            raise AssertionError(f"flags byte {data[32]:#04x}: {', '.join(wrong)} wrong. The bits are UP 0x01, "
                                 "UV 0x04, BE 0x08, BS 0x10 (BE: may be backed up; BS: is backed up).")
        if any(type(given[name]) is not bool for name in FLAG_BITS):
            raise AssertionError("give each flag as True or False (bool(flags & bit)), not the masked number.")


# ---- 8.4 ----------------------------------------------------------------------------------------

def _label():
    return "".join(DRAW.choice(string.ascii_lowercase) for _ in range(DRAW.randint(3, 8)))


def _rp_id_cases():
    site = f"{_label()}.example"
    sub = f"{_label()}.{site}"
    other = f"{_label()}.test"
    local = f"{_label()}.localhost"
    return [
        (f"https://{site}", site, True, "the page's own host name"),
        (f"https://{sub}", site, True, "a parent domain of the host"),
        (f"https://{sub}:8443", site, True, "a parent domain (the port is not part of the host name)"),
        (f"https://www.{sub}", site, True, "a parent domain, two levels up"),
        ("http://localhost:5008", "localhost", True, "http://localhost (a secure context on your own machine)"),
        (f"http://{_label()}.{local}:5008", local, True, "a *.localhost page using its parent"),
        (f"https://{site}", sub, False, "a child of the host"),
        (f"https://{other}", site, False, "another site"),
        (f"https://evil-{site}", site, False, "a name that only ends with the RP ID's text"),
        (f"https://{_label()}{site}", site, False, "a name that only ends with the RP ID's text"),
        (f"https://{site}.{_label()}.test", site, False, "a name that only starts with the RP ID's text"),
        (f"http://{_label()}.localhost:5008", "localhost", False, "a single label"),
        (f"https://{_label()}.test", "test", False, "a single label"),
        ("https://192.0.2.10", "192.0.2.10", False, "an IP address"),
        ("http://127.0.0.1:5008", "127.0.0.1", False, "an IP address"),
        ("https://[2001:db8::1]", "2001:db8::1", False, "an IP address"),
        (f"http://{site}", site, False, "plain http away from localhost"),
        (f"http://{sub}", site, False, "plain http away from localhost"),
        (f"http://localhost.{site}", f"localhost.{site}", False, "plain http away from localhost"),
    ]


HINTS_8_4 = {
    "a name that only ends with the RP ID's text": "needs a dot boundary: {origin} only ends with the text "
        "{rp_id!r}; a parent domain is '.' + rp_id at the end of the host name (evil-example.com is not "
        "example.com's).",
    "a name that only starts with the RP ID's text": "{origin} only contains {rp_id!r}: a parent domain is at the end "
        "of the host name, after a dot.",
    "an IP address": "{origin}: an IP address is never an RP ID (browsers refuse one, even 127.0.0.1): open the "
        "site at http://localhost instead.",
    "plain http away from localhost": "{origin} is not a secure context: passkeys need https, or http on localhost.",
    "a single label": "{origin} may not use {rp_id!r}: a name of one label (com, test, localhost) is shared by "
        "every site under it, so it is never a parent RP ID (browsers refuse it).",
    "a child of the host": "{origin} may not use {rp_id!r}: an RP ID is the host or a parent of it, never a child.",
    "another site": "{origin} may not use {rp_id!r}: it is another site.",
}


@exercise("8.4", "The browser's RP ID rule", uses=["rp_id_allowed"])
def check_rp_id_allowed(rp_id_allowed):
    for origin, rp_id, allowed, why in _rp_id_cases():
        given = plain_result(rp_id_allowed(origin, rp_id), "rp_id_allowed")
        assert type(given) is bool, f"return True or False, not {given!r}."
        if given == allowed:
            continue
        if allowed:
            raise AssertionError(f"{origin} may use the RP ID {rp_id!r}: {why}.")
        raise AssertionError(HINTS_8_4[why].format(origin=origin, rp_id=rp_id))


# ---- 8.5 ----------------------------------------------------------------------------------------

PASSKEYS_TABLE = """CREATE TABLE passkeys (id INTEGER PRIMARY KEY, credential_id BLOB UNIQUE NOT NULL,
    user_id INTEGER NOT NULL, public_key BLOB NOT NULL, sign_count INTEGER NOT NULL)"""


def passkeys_db():
    """An empty passkeys table (rows read by column name)."""
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    db.execute(PASSKEYS_TABLE)
    return db


class RacedCursor(sqlite3.Cursor):
    """A cursor of a RacedConnection: it tells the connection each statement before running it."""

    def execute(self, sql, parameters=(), /):
        self.connection.before(sql)
        return super().execute(sql, parameters)

    def executemany(self, sql, parameters, /):
        self.connection.before(sql)
        return super().executemany(sql, parameters)

    def executescript(self, script, /):
        self.connection.before(script)
        return super().executescript(script)


LEADING_COMMENTS = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)


class RacedConnection(sqlite3.Connection):
    """A passkeys table where another login of the same passkey wins the race, as one of two logins sent at the
    same moment does: both read the row, both verify, and the other one writes first.

    ``rival_login(sign_count)`` arms it. From then on, once the code under check has read the passkeys table (a
    SELECT that names it), its next statement that is not a SELECT (its UPDATE, or a BEGIN, or any write) waits
    while the rival, on a connection of its own, sets the row's sign_count to ``sign_count`` and commits, as a
    second request would. A write lock the code under check took before it read (BEGIN IMMEDIATE) holds the rival
    off, as it would hold off that request: then the rival loses. ``rival_won`` says whether it got in."""

    def set_up(self, path):
        self.path, self.rival_count, self.read_the_row, self.rival_won = path, None, False, False

    def rival_login(self, sign_count):
        self.rival_count, self.read_the_row, self.rival_won = int(sign_count), False, False

    def cursor(self, factory=None):
        return super().cursor(factory or RacedCursor)

    def execute(self, sql, parameters=(), /):
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql, parameters, /):
        return self.cursor().executemany(sql, parameters)

    def executescript(self, script, /):
        return self.cursor().executescript(script)

    def before(self, sql):
        """The code under check is about to run ``sql``: the rival's moment, if it has come."""
        if self.rival_count is None or type(sql) is not str:
            return
        statement = sql[LEADING_COMMENTS.match(sql).end():]
        if statement[:6].upper() == "SELECT":
            self.read_the_row = self.read_the_row or "passkeys" in statement.lower()
        elif self.read_the_row:
            count, self.rival_count = self.rival_count, None
            rival = sqlite3.connect(self.path, timeout=0, isolation_level=None)
            try:
                rival.execute("UPDATE passkeys SET sign_count = ?", (count,))
                self.rival_won = True
            except sqlite3.OperationalError:  # "database is locked": the code under check holds the write lock
                self.rival_won = False
            finally:
                rival.close()


def raced_passkeys_db():
    """An empty passkeys table, as ``passkeys_db`` makes, on a RacedConnection (a database file of its own, in
    WAL mode as stage 8's: the rival's connection writes while this one has read)."""
    folder = tempfile.mkdtemp(prefix="workbook-8.5-")
    path = os.path.join(folder, "passkeys.sqlite")
    db = sqlite3.connect(path, factory=RacedConnection)
    db.set_up(path)
    weakref.finalize(db, shutil.rmtree, folder, True)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(PASSKEYS_TABLE)
    db.commit()
    return db


class LoginSession(dict):
    """A login's session (Flask's is a dict too): made where the student's code runs, so that what the
    student's function pops from it is gone there."""


class VerifySpy:
    """Notes the RP ID and origin ``function`` passes webauthn.verify_authentication_response (for a hint that
    names them), from ``with`` to its end; ``calls()`` gives them."""

    NOTED = ("expected_rp_id", "expected_origin")

    def __init__(self, function):
        import webauthn

        self.noted, self.function, self.module = [], function, webauthn
        self.real = webauthn.verify_authentication_response

    def __enter__(self):
        def spy(*args, **kwargs):
            self.noted.append({name: kwargs[name] if type(kwargs[name]) in (str, list) else repr(kwargs[name])
                               for name in self.NOTED if name in kwargs})
            return self.real(*args, **kwargs)
        self.names = [name for name, value in getattr(self.function, "__globals__", {}).items() if value is self.real]
        for name in self.names:
            self.function.__globals__[name] = spy
        self.module.verify_authentication_response = spy
        return self

    def __exit__(self, *exc):
        for name in self.names:
            self.function.__globals__[name] = self.real
        self.module.verify_authentication_response = self.real

    def calls(self):
        return [{name: [str(item) for item in value] if type(value) is list else str(value)
                 for name, value in call.items()} for call in self.noted]


class _Site:
    """A site with one RP ID and origin, its passkeys table (where the student's code runs), and alice's
    registered passkey. ``raced``: the table is a ``raced_passkeys_db``."""

    def __init__(self, rp_id, origin, authenticator, raced=False):
        from webauthn import generate_registration_options, options_to_json, verify_registration_response
        from webauthn.helpers.structs import AuthenticatorSelectionCriteria, UserVerificationRequirement

        from ..passkey import Browser

        self.rp_id, self.origin = rp_id, origin
        self.browser = Browser(authenticator)
        self.db = _lesson().raced_passkeys_db() if raced else _lesson().passkeys_db()
        self.user_id = DRAW.randint(2, 10 ** 6)
        options = generate_registration_options(
            rp_id=rp_id, rp_name="Bank", user_name="alice", user_id=os.urandom(32),
            authenticator_selection=AuthenticatorSelectionCriteria(user_verification=UserVerificationRequirement.REQUIRED))
        made = self.browser.create(origin, options_to_json(options))
        verified = verify_registration_response(credential=made, expected_challenge=options.challenge,
                                                expected_rp_id=rp_id, expected_origin=origin)
        self.db.execute("INSERT INTO passkeys (credential_id, user_id, public_key, sign_count) VALUES (?, ?, ?, ?)",
                        (verified.credential_id, self.user_id, verified.credential_public_key, verified.sign_count))
        self.db.commit()

    def ask(self):
        """The login options: a session holding its challenge, and what the browser gets."""
        challenge = os.urandom(32)
        return _lesson().LoginSession(challenge=challenge), {
            "rpId": self.rp_id, "challenge": base64.urlsafe_b64encode(challenge).rstrip(b"=").decode(),
            "userVerification": "required"}

    def sign_count(self):
        return plain(self.db.execute("SELECT sign_count FROM passkeys").fetchone()[0])


def _is_ip(text):
    try:
        ipaddress.ip_address(str(text).strip("[]"))
    except ValueError:
        return False
    return True


def _last_call(spy, since=0):
    """The RP ID and origin of the answer's last call to verify_authentication_response after the first
    ``since``, or {}."""
    return (plain(spy.calls())[since:] or [{}])[-1]


def _login(finish, site, session, credential, spy, what):
    try:
        result = finish(site.db, session, json.loads(json.dumps(credential)), site.rp_id, site.origin)
    except NotImplementedError:
        raise
    except Exception as error:
        raise AssertionError(f"{what}: your code raised {raised_kind(error)}: {raised_message(error)}. When a login fails, return "
                             "None (catch the error the library raises for a refused response; its docs name it).") from None
    return plain_result(result, "finish_passkey_login")


def _refused(finish, site, session, credential, spy, what, hint):
    result = _login(finish, site, session, credential, spy, what)
    if result is not None:
        raise AssertionError(f"{what} logged in: {hint}")
    if "challenge" in session:
        raise AssertionError(f"after {what} the challenge was still in the session: remove it whether the login "
                             "passes or fails, as the first thing you do with it, so that no one can try again "
                             "with it.")


@exercise("8.5", "Verify a passkey login on the server", uses=["finish_passkey_login"])
def check_finish_passkey_login(finish_passkey_login):
    from ..passkey import Authenticator

    with _lesson().VerifySpy(finish_passkey_login) as spy:
        for rp_id, origin in (("localhost", "http://localhost:5008"), ("example.test", "https://www.example.test")):
            site = _Site(rp_id, origin, Authenticator(counter=False))  # the counter stays 0: only the challenge stops a replay
            session, options = site.ask()
            credential = site.browser.get(origin, options)
            result = _login(finish_passkey_login, site, session, credential, spy, "a right passkey login")
            if result != site.user_id:
                used = _last_call(spy)
                if not used:
                    raise AssertionError(f"a right passkey login at {origin} returned {result!r} without calling "
                                         "verify_authentication_response: was the passkey's row found? The table "
                                         "keeps the credential id as bytes: look it up by the parsed credential's "
                                         "raw_id.")
                if _is_ip(used.get("expected_rp_id")):
                    raise AssertionError(f"expected_rp_id={used['expected_rp_id']!r} is an IP address, which is never an "
                                         "RP ID: use the site's rp_id (a domain name such as localhost).")
                if used and used.get("expected_rp_id") != rp_id:
                    raise AssertionError(f"expected_rp_id must be the rp_id argument ({rp_id!r}), not "
                                         f"{used.get('expected_rp_id')!r}.")
                raise AssertionError(f"a right passkey login at {origin} (RP ID {rp_id!r}) should return the user_id of "
                                     f"its passkey's row ({site.user_id}), not {result!r}. This passkey's counter stays "
                                     "0, as a synced passkey's does: the library takes a 0 after a 0, and so must "
                                     "your UPDATE.")
            if "challenge" in session:
                raise AssertionError("after a login the challenge was still in the session: remove it whether the "
                                     "login passes or fails, as the first thing you do with it, so that no one can "
                                     "try again with it.")
            _refused(finish_passkey_login, site, session, credential, spy, "the same signed response, sent again",
                     "a challenge works once: take it out of the session as you read it, and refuse a login "
                     "with none.")

        # The relay on a sibling subdomain: the RP ID is the parent, the origin is the relay's.
        site = _Site("example.test", "https://www.example.test", Authenticator())
        for relay_origin in (SIBLING_ORIGIN, f"https://{_label()}.example.test"):
            session, options = site.ask()
            credential = site.browser.get(relay_origin, options)
            before = len(plain(spy.calls()))
            _refused(finish_passkey_login, site, session, credential, spy, f"a passkey signed on {relay_origin}",
                     "expected_origin must be exactly the origin argument, one address, never a list that takes in "
                     "another (and never the origin the browser wrote): it is the only check that sees the relay.")
            used = _last_call(spy, before)
            if used and type(used.get("expected_origin")) is not str:
                raise AssertionError("expected_origin must be exactly the origin argument, one address, never a list.")

        # A good login again; then the failure cases, each with its own challenge.
        session, options = site.ask()
        stored = site.sign_count()
        if _login(finish_passkey_login, site, session, site.browser.get(site.origin, options), spy,
                  "a right passkey login") != site.user_id:
            signed = site.browser.authenticator.credentials[0].sign_count
            if site.sign_count() == stored:
                raise AssertionError(f"a right passkey login was refused: the passkey's counter went from {stored} "
                                     f"to {signed}, and your UPDATE moved no row. Which count does the row hold "
                                     "when your UPDATE runs: the one you read, or the new one?")
            raise AssertionError("a right passkey login was refused.")
        if site.sign_count() != site.browser.authenticator.credentials[0].sign_count:
            raise AssertionError(f"after a login the passkeys row still has sign_count {site.sign_count()}: store the "
                                 "new sign count the library gives back, or a copied passkey goes unnoticed.")

        copy = site.browser.authenticator.clone()  # a thief copies the authenticator, counter and keys
        session, options = site.ask()
        _login(finish_passkey_login, site, session, site.browser.get(site.origin, options), spy, "a right passkey login")
        from ..passkey import Browser
        session, options = site.ask()
        _refused(finish_passkey_login, site, session, Browser(copy).get(site.origin, options), spy,
                 "a copied passkey whose counter did not grow",
                 "hand the library the sign count stored for this passkey and store the new one after each "
                 "login, so that a counter going backwards is refused (py_webauthn's docs on the sign count).")

        unverified = _Site("example.test", "https://www.example.test", Authenticator(user_verification=False))
        session, options = unverified.ask()
        _refused(finish_passkey_login, unverified, session, unverified.browser.get(unverified.origin, options), spy,
                 "a passkey that did not verify its user (no PIN, no fingerprint)",
                 "the library was not asked to insist on user verification, which it can (its docs): without "
                 "it the passkey is one factor, something you have.")

        stranger = _Site("example.test", "https://www.example.test", Authenticator())
        session, options = site.ask()
        _refused(finish_passkey_login, site, session, stranger.browser.get(site.origin, options), spy,
                 "a passkey this site never registered",
                 "look the credential up by its id in the passkeys table, and refuse one that is not there.")

        _race(finish_passkey_login, spy)


def _race(finish_passkey_login, spy):
    """Two logins of one passkey sent at the same moment, signed with one counter value: both read the stored
    count, both verify; the other one stores its count first (RacedConnection). Only one may get in."""
    from ..passkey import Authenticator

    site = _Site("example.test", "https://www.example.test", Authenticator(), raced=True)
    count = DRAW.randint(1, 10 ** 6)  # as after that many logins
    site.db.execute("UPDATE passkeys SET sign_count = ?", (count,))
    site.db.commit()
    site.browser.authenticator.credentials[0].sign_count = count
    session, options = site.ask()
    credential = site.browser.get(site.origin, options)
    site.db.rival_login(count + 1)  # the other login's signature carried the same counter value as this one
    result = _login(finish_passkey_login, site, session, credential, spy, "a login racing another one")
    if site.db.rival_won is not True:
        # The answer held a write lock from before it read, so no other login could have read the same count (or
        # it wrote nothing after its read, which the scenes above refuse).
        if result != site.user_id:
            raise AssertionError(f"a right passkey login should return the user_id of its passkey's row "
                                 f"({site.user_id}), not {result!r}.")
        return
    if result is not None:
        raise AssertionError(
            f"two logins with one counter value both got in. Both read sign_count {count} and both verified; the "
            f"other one stored {count + 1} after your SELECT and before your UPDATE, and yours still logged in. "
            "Two logins, one counter: a second login that read the same counter must lose. Let your UPDATE "
            "move the counter only from the count you read, and return None when it moved no row "
            "(cursor.rowcount), as lesson 07's replay fix did with last_timecode.")
    if "challenge" in session:
        raise AssertionError("after a refused login the challenge was still in the session: remove it whether the "
                             "login passes or fails.")


# ---- 8.Q2 ---------------------------------------------------------------------------------------

question(
    "8.Q2", "What passkeys do not stop",
    "Alice has a passkey on stage 8 and has turned on 'passkeys only'. Which of these can still give Mallory "
    "a session of Alice's?",
    {"a": "a relay page that asks Alice for her password and a code from her phone",
     "b": "a relay on a sibling subdomain, under the real site's parent RP ID, that asks for her passkey",
     "c": "a relay on its own domain that asks the browser for a passkey of its own RP ID",
     "d": "malware or an extension on Alice's laptop that copies her session cookie after she logs in"},
    "d",
    {"a": "'passkeys only' is there for exactly this: the site no longer takes a password and a code for her "
          "account, so the relay has nothing to fall back to (before she turned it on, it did).",
     "b": "the browser signs, but it writes the relay's origin into clientDataJSON, and the server's exact origin "
          "check refuses it (401).",
     "c": "the browser offers a passkey only to its own RP ID: Alice's passkey is for the real site, and for the "
          "relay's name there is none."},
)
