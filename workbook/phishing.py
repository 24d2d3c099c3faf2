"""The scene of lesson 08, in one process: alice's account at a stage app, her browser at a relay.

Like the lesson's earlier helpers, this runs stage apps with Flask test clients and the fixed
clock, never a server: the real site is a stage app with a throwaway database, the relay is
``workbook.relay.create_relay`` in front of it, and alice's browser is a test client of
whichever address she was sent to (the real one or the relay's), sending ``Origin`` and
``Referer`` as a browser does. Her phone is ``workbook.phone.Phone``; her passkey is
``workbook.passkey.Browser`` with an ``Authenticator``.

    app, clock, phone = alice_enrolled(7)
    relay = create_relay(app, real_origin(app), relay_origin=RELAY_ORIGIN)
    alice = BrowserAt(relay, RELAY_ORIGIN)
    alice.log_in_with_code(phone)        # she sees her dashboard; relay.loot has her cookie
"""
import re
import tempfile
from pathlib import Path

from .app_loader import make_app
from .fixed_clock import FixedClock
from .phone import Phone
from .stages import stage
from .testing.accounts import PASSWORD, USERNAME
from .visitor import submit_form

RELAY_ORIGIN = "https://login-bank.example"  # the look-alike address in the phishing e-mail


def stage_app(number_or_folder, clock, **settings):
    """A stage app (a number, or the folder of a copy) with a throwaway database and ``clock``."""
    folder = stage(number_or_folder).folder if isinstance(number_or_folder, int) else Path(number_or_folder)
    return make_app(folder, {
        "TESTING": True, "SECRET_KEY": "lesson 08 key, not a real one, long enough", "CLOCK": clock,
        "DATABASE": str(Path(tempfile.mkdtemp(prefix="lesson08-")) / "users.sqlite"),
        "SESSION_COOKIE_SECURE": False,      # the test clients speak plain HTTP
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",  # one cheap round: these cells log in many times
        **settings})


def real_origin(app):
    """The address alice's browser shows at the real site: stage 8's ORIGIN, stage 7's localhost:5007."""
    return app.config.get("ORIGIN", "http://localhost:5007")


def csrf_token(html):
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


class BrowserAt:
    """alice's browser with ``address`` in its address bar; ``app`` answers there (the real site or a relay)."""

    def __init__(self, app, address):
        self.client = app.test_client()
        self.address = address

    def submit(self, path, fields):
        return submit_form(self.client, path, fields)

    def log_in_with_code(self, phone):
        """The password, then the code her phone shows: what she does on the login page she was sent to."""
        first = self.submit("/login", {"username": USERNAME, "password": PASSWORD})
        second = self.submit("/verify-2fa", {"otp": phone.code()})
        return first, second

    def post_json(self, path, body=None):
        """What the page's script sends: JSON, the page's CSRF token, the page's Origin."""
        page = self.client.get("/login", headers={"Referer": self.address + "/"}).get_data(as_text=True)
        return self.client.post(path, json=body or {}, headers={
            "X-CSRFToken": csrf_token(page), "Origin": self.address, "Referer": self.address + "/login"})

    def passkey_options(self):
        response = self.post_json("/passkeys/login/options")
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def passkey_login(self, browser, options=None):
        """She presses "Log in with a passkey": the browser asks her passkey, the page sends what it signed."""
        credential = browser.get(self.address, options or self.passkey_options())
        return self.post_json("/passkeys/login/verify", {"credential": credential})

    def add_passkey(self, browser):
        options = self.post_json("/passkeys/register/options")
        assert options.status_code == 200, options.get_data(as_text=True)
        credential = browser.create(self.address, options.get_json())
        return self.post_json("/passkeys/register/verify", {"credential": credential, "nickname": "laptop"})

    def log_out(self):
        token = csrf_token(self.client.get("/dashboard").get_data(as_text=True))
        return self.client.post("/logout", data={"csrf_token": token})


def alice_enrolled(number_or_folder, clock=None, **settings):
    """A stage app where alice signed up, scanned the QR code and saved her recovery codes, an hour ago."""
    clock = clock or FixedClock()
    app = stage_app(number_or_folder, clock, **settings)
    phone = Phone(clock)
    client = app.test_client()
    registered = submit_form(client, "/register", {"username": USERNAME, "password": PASSWORD})
    if not registered.headers.get("Location", "").endswith("enable-2fa"):
        submit_form(client, "/login", {"username": USERNAME, "password": PASSWORD})
    page = client.get("/enable-2fa")
    phone.scan(page.get_data(as_text=True))
    submit_form(client, "/enable-2fa", {"otp": phone.code()}, page=page)
    submit_form(client, "/recovery-codes", action="/recovery-codes")
    clock.advance(3600)
    return app, clock, phone


def alice_with_a_passkey(number_or_folder, browser, clock=None, **settings):
    """Stage 8 (or a copy): alice enrolled, then a passkey added at the real address; she logged out."""
    app, clock, phone = alice_enrolled(number_or_folder, clock, **settings)
    alice = BrowserAt(app, real_origin(app))
    alice.log_in_with_code(phone)
    added = alice.add_passkey(browser)
    assert added.status_code == 201, added.get_data(as_text=True)
    alice.log_out()
    clock.advance(3600)
    return app, clock, phone


def attacker_opens_dashboard(app, headers):
    """Mallory's own browser (no cookie of alice's) asks the real site for /dashboard with ``headers``."""
    return app.test_client(use_cookies=False).get("/dashboard", headers=headers)
