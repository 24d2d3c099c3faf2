"""How the behaviour tests drive an app: like a person with a browser and a phone."""
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from workbook import pages, qr
from workbook.phone import Account, parse_otpauth_uri
from workbook.testing.accounts import PASSWORD, USERNAME
from workbook.testing.app_under_test import copy_database, make_app, new_clock
from workbook.visitor import submit_form

from totp_reference import totp

TEST_KEY = "test key, not a real one, long enough"  # 32 characters or more, as stage 7 asks


def app_config(tmp_path, clock, **extra):
    """The settings of a test app: its own database, the test's clock, plain HTTP, cheap hashes."""
    return {
        "TESTING": True,
        "SECRET_KEY": TEST_KEY,
        "CLOCK": clock,
        "DATABASE": str(tmp_path / "users.sqlite"),
        "SESSION_COOKIE_SECURE": False,  # the test client speaks plain HTTP
        # One cheap round instead of scrypt: the tests log in hundreds of times.
        # (test_login_flow checks that the real default is scrypt.)
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
        **extra,
    }


class Authenticator:
    """What the tests use as a phone: a real QR decoder and the RFC 6238 code written out by hand."""

    def __init__(self, clock):
        self.clock = clock
        self.account = None

    def scan(self, html):
        page = pages.parse(html)
        images = page.data_uri_images()
        assert len(images) == 1, f"expected exactly one inline PNG QR code, found {len(images)}"
        self.account = parse_otpauth_uri(qr.decode_data_uri(images[0]))
        return self.account

    def code(self, offset_steps=0):
        return totp(self.account.secret, self.clock() + 30 * offset_steps)

    def wrong_code(self):
        # A code that matches no step in the window: change one digit.
        right = {self.code(step) for step in (-1, 0, 1)}
        candidate = self.code()
        while candidate in right:
            candidate = f"{(int(candidate) + 1) % 1_000_000:06d}"
        return candidate


class AuthActions:
    """Register, log in, enrol and log out, the way flaskr's tests do it."""

    def __init__(self, client, authenticator):
        self.client = client
        self.phone = authenticator

    def register(self, username=USERNAME, password=PASSWORD):
        return submit_form(self.client, "/register", {"username": username, "password": password})

    def login(self, username=USERNAME, password=PASSWORD):
        return submit_form(self.client, "/login", {"username": username, "password": password})

    def enrol(self, username=USERNAME, password=PASSWORD):
        """Register, log in, scan the QR code and confirm a code: 2FA is on and the session is in.

        (Stage 7 goes from /register straight to /enable-2fa in the same session: no login between.)
        """
        response = self.register(username, password)
        if not is_redirect_to(response, "/enable-2fa"):
            response = self.login(username, password)
        assert response.status_code in (302, 303), response.status_code
        page = self.client.get("/enable-2fa")
        self.phone.scan(page.data)
        response = submit_form(self.client, "/enable-2fa", {"otp": self.phone.code()}, page=page)
        assert response.status_code in (302, 303), response.status_code
        return response

    def logout(self):
        """Press the dashboard's Log out button."""
        return submit_form(self.client, "/dashboard", action="/logout")


def secret_on_page(html):
    """The TOTP secret a page gives away: from its QR code if it has one, else from its text."""
    page = pages.parse(html)
    images = page.data_uri_images()
    if images:
        return parse_otpauth_uri(qr.decode_data_uri(images[0])).secret
    found = re.findall(r"[A-Z2-7]{32}", page.compact_text())
    assert found, "the page shows no 32-character base32 secret"
    return found[0]


def location(response):
    """Where a redirect sends the browser, as a path (relative Locations resolved as a browser would)."""
    return urlsplit(urljoin(response.request.url, response.headers.get("Location", ""))).path


def is_redirect_to(response, path):
    return response.status_code in (302, 303) and location(response) == path


def logged_in(client):
    return client.get("/dashboard").status_code == 200


def verify(client, otp):
    return submit_form(client, "/verify-2fa", {"otp": otp})


def use_recovery(client, code):
    return submit_form(client, "/verify-2fa", {"recovery_code": code})


def show_recovery_codes(client):
    response = client.get("/recovery-codes")
    assert response.status_code == 200
    return pages.parse(response.data).list_items


def confirm_saved(client):
    """Press "I have saved them" on the recovery codes page (stage 7)."""
    form = pages.parse(client.get("/recovery-codes").data).post_form(action="/recovery-codes")
    assert form is not None, "the recovery codes page has no form to confirm the codes were saved"
    return client.post(form.action, data=form.data())


def save_recovery_codes(client):
    """Read the codes, then press "I have saved them"; the codes read."""
    codes = show_recovery_codes(client)
    assert confirm_saved(client).status_code in (302, 303)
    return codes


@dataclass(frozen=True)
class EnrolledUser:
    """alice, enrolled once in an app: its database just after, her phone's account, her recovery codes."""
    database: Path
    account: Account
    recovery_codes: tuple


def enrol_once(folder, workdir):
    """Enrol alice in a fresh app of ``folder`` at FixedClock's start, as a person would (AuthActions.enrol),
    read her recovery codes and press "I have saved them" if the app shows them, log her out, and keep
    a copy of the database.

    Enrolling costs a QR code and two password hashes; the tests that are not about enrolment
    start from this copy instead (the ``enrolled`` fixture), at the same clock time.
    """
    clock = new_clock()
    config = app_config(workdir, clock)
    auth = AuthActions(make_app(folder, config).test_client(), Authenticator(clock))
    auth.enrol()
    page = auth.client.get("/recovery-codes")
    codes = tuple(pages.parse(page.data).list_items) if page.status_code == 200 else ()
    form = pages.parse(page.data).post_form(action="/recovery-codes") if codes else None
    if form is not None:  # pressing it is tested on its own; here alice just presses it
        auth.client.post(form.action, data=form.data())
    auth.logout()
    copy = Path(workdir) / "enrolled.sqlite"
    copy_database(config["DATABASE"], copy)
    return EnrolledUser(copy, auth.phone.account, codes)


def owner_browser(app, enrolled, clock):
    """alice's own browser: a full login in it, so the account trusts it (its device cookie)."""
    owner = AuthActions(app.test_client(), enrolled.phone)
    clock.advance(30)
    assert location(owner.login()) == "/verify-2fa"
    assert is_redirect_to(verify(owner.client, enrolled.phone.code()), "/dashboard")
    owner.logout()
    return owner
