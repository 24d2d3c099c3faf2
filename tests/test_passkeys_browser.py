"""Stage 8's passkeys in a real browser: Chromium with a virtual authenticator.

The DevTools protocol's WebAuthn domain (``WebAuthn.enable``, ``WebAuthn.addVirtualAuthenticator``)
plugs a software authenticator into Chromium: a platform authenticator (``internal``) that keeps
discoverable credentials and verifies its user, as a phone or a laptop with a fingerprint reader
does. The page's own script (static/passkeys.js) then calls ``navigator.credentials`` as it would
for anyone.

Then the relay matrix of lesson 08 (tests/test_relay.py plays it with the stand-in browser), here
in Chromium, with the relay (workbook.relay) served in this process and the attacker a
``requests`` session holding the cookies the relay kept. Stage 7 (password + code): the attacker
gets in. Stage 8: the relay on 127.0.0.1 asking for the RP ID localhost: the browser refuses; the
relay with its own RP ID: the browser has no passkey for it; a sibling subdomain under a parent
RP ID: the browser signs, and the server's origin check answers 401. A copy of stage 8 without
that origin check lets the attacker in.

Chromium resolves every *.localhost to loopback and counts it as a secure context, so the sibling
case runs on http: the bank at www.bank.localhost with the RP ID bank.localhost, the relay at
login.bank.localhost. Not the RP ID localhost from app.localhost: Chromium refuses that one
(SecurityError), "localhost" being no registrable domain.

The CSP forbids 'unsafe-eval', so nothing here evaluates a string in the page: Playwright's
``expect`` polls from Python.
"""
import contextlib
import sys
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests
from test_relay import without_origin_check  # a stage 8 whose passkey login believes any signed origin

from workbook.phone import Phone
from workbook.relay import create_relay
from workbook.testing.accounts import PASSWORD, USERNAME
from workbook.testing.servers import free_port, running, stage_command, stage_environment

pytestmark = [pytest.mark.browser, pytest.mark.slow]

try:
    from playwright.sync_api import expect
except ImportError:  # then the browser fixture skips the test, and says why
    expect = None


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 900, "height": 700})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def virtual_authenticator(page):
    """A platform authenticator with resident keys and user verification, plugged into this page's browser."""
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable", {"enableUI": False})
    added = devtools.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True}})
    return devtools, added["authenticatorId"]


def submit(page, button):
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.get_by_role("button", name=button).click()
    page.wait_for_load_state()
    return posted.value


def sign_up(page, app_url):
    """Register and enrol the phone (the stand-in reads the QR code the browser shows), save the recovery codes."""
    page.goto(app_url + "register")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    submit(page, "Register")  # on to enrolment in the same session: no account before its phone
    phone = Phone()
    phone.scan(page.locator("img").first.get_attribute("src"))
    page.locator("#otp").fill(phone.code())
    submit(page, "Turn on 2FA")
    submit(page, "I have saved them: go to the dashboard")
    expect(page.get_by_role("heading", name=f"Welcome, {USERNAME}")).to_be_visible()
    return phone


def sign_up_with_a_passkey(page, app_url):
    """Sign up, add a passkey (the virtual authenticator makes it), log out."""
    sign_up(page, app_url)
    page.goto(app_url + "passkeys")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("table.passkeys")).to_be_visible()
    submit(page, "Log out")


@contextlib.contextmanager
def stage8_at(tmp_path, host="localhost", rp_id=None, folder=None):
    """Stage 8 (or the copy in ``folder``) run as `python app.py`, for browsers at http://<host>:<port>/."""
    port = free_port()
    environment = stage_environment(port, tmp_path / "users.sqlite")
    if rp_id:  # otherwise `python app.py` sets FLASK_ORIGIN to http://localhost:<its port>, as how_to_run(8) prints
        environment.update(FLASK_RP_ID=rp_id, FLASK_ORIGIN=f"http://{host}:{port}")
    command = stage_command(8, "python", port) if folder is None else [sys.executable, str(folder / "app.py")]
    with running(command, port, environment):
        yield f"http://{host}:{port}/"


@pytest.fixture
def stage8(tmp_path):
    with stage8_at(tmp_path) as url:
        yield url


@contextlib.contextmanager
def relay_at(relay_origin, target, target_origin=None, rewrite_rp_id=False):
    """The relay (create_relay) served in this process on 127.0.0.1, for browsers at ``relay_origin``."""
    from werkzeug.serving import make_server

    relay = create_relay(target, target_origin, relay_origin=relay_origin, rewrite_rp_id=rewrite_rp_id)
    server = make_server("127.0.0.1", urlsplit(relay_origin).port, relay, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield relay
    finally:
        server.shutdown()
        thread.join()


def loopback(url):
    """``url`` on 127.0.0.1 (Python's resolver knows no *.localhost), and the Host header the browser sends."""
    parts = urlsplit(url)
    return f"http://127.0.0.1:{parts.port}", {"Host": parts.netloc}


def attacker_opens_dashboard(app_url, loot):
    """The attacker's half: every cookie the relay kept, in a browser of their own at the real site."""
    assert loot.cookies, "the relay kept no cookie"
    attacker = requests.Session()
    for name, value in loot.cookies.items():
        attacker.cookies.set(name, value)
    address, host = loopback(app_url)
    return attacker.get(address + "/dashboard", headers=host, allow_redirects=False, timeout=30)


def test_register_a_passkey_log_out_and_log_in_with_it(page, stage8):
    devtools, authenticator = virtual_authenticator(page)
    sign_up(page, stage8)
    page.get_by_role("link", name="Passkeys").first.click()
    page.get_by_label("A name for it").fill("Chromium")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("table.passkeys")).to_contain_text("Chromium")  # the page reloads with it listed
    credentials = devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert [(c["rpId"], c["isResidentCredential"]) for c in credentials] == [("localhost", True)]

    submit(page, "Log out")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_role("button", name="Log in with a passkey").click()  # no user name, no password, no code
    expect(page.get_by_role("heading", name=f"Welcome, {USERNAME}")).to_be_visible()
    assert page.url == stage8 + "dashboard"
    expect(page.locator("table.passkeys")).to_have_count(0)
    page.goto(stage8 + "passkeys")
    expect(page.locator("table.passkeys")).not_to_contain_text("never")  # last used: just now
    after = devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert after[0]["signCount"] > credentials[0]["signCount"]


def passkey_login_through(page, relay_origin, message):
    """alice opens the relay's login page and presses "Log in with a passkey"; the page shows ``message``."""
    page.goto(relay_origin + "/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()  # the real page, relayed
    page.get_by_role("button", name="Log in with a passkey").click()
    expect(page.locator("#passkey-login-message")).to_contain_text(message)
    assert page.url == relay_origin + "/login"


def verify_answers(relay):
    return [body for body in relay.loot.json_bodies if body["path"] == "/passkeys/login/verify"]


# ----------------------------------------------------------------- the relay matrix in Chromium

def test_stage_7_through_the_relay_the_attacker_gets_in(page, tmp_path):
    port = free_port()
    with running(stage_command(7, "python", port), port, stage_environment(port, tmp_path / "users.sqlite")):
        real = f"http://localhost:{port}/"
        phone = sign_up(page, real)  # long before, at the real site
        submit(page, "Log out")
        relay_origin = f"http://127.0.0.1:{free_port()}"  # the look-alike
        with relay_at(relay_origin, real) as relay:
            page.goto(relay_origin + "/login")
            page.get_by_label("Username").fill(USERNAME)
            page.get_by_label("Password").fill(PASSWORD)
            submit(page, "Next")
            # The next 30-second step's code (the server takes each step's code once, and enrolment used this one).
            page.get_by_label("Six-digit code").fill(phone.code(at=time.time() + 30))
            submit(page, "Verify")
            expect(page.get_by_role("heading", name=f"Welcome, {USERNAME}")).to_be_visible()  # nothing looks wrong
            assert page.url == relay_origin + "/dashboard"
        assert any(form["fields"].get("password") == PASSWORD for form in relay.loot.forms)
        dashboard = attacker_opens_dashboard(real, relay.loot)
        assert dashboard.status_code == 200 and f"Welcome, {USERNAME}" in dashboard.text


def test_through_the_relay_the_browser_gives_no_passkey(page, stage8):
    virtual_authenticator(page)
    sign_up_with_a_passkey(page, stage8)
    # The look-alike: http://127.0.0.1:<port>, passing everything to the app at http://localhost.
    relay_origin = f"http://127.0.0.1:{free_port()}"
    with relay_at(relay_origin, stage8) as relay:
        passkey_login_through(page, relay_origin, "The browser refused")  # RP ID localhost, on 127.0.0.1
    assert not verify_answers(relay)
    assert "stage8_session" in relay.loot.cookies  # it has a cookie, of a visitor who never logged in
    assert attacker_opens_dashboard(stage8, relay.loot).status_code == 302  # to the login page


# The bank at www.bank.localhost, with the parent domain as RP ID; a relay can get a sibling name.
BANK, RP_ID, SIBLING = "www.bank.localhost", "bank.localhost", "login.bank.localhost"


def test_chromium_refuses_the_rp_id_localhost_on_a_subdomain_of_it(page, tmp_path):
    """Why the sibling cases use bank.localhost, and why stage 8 and the stand-in refuse a one-label parent:
    from app.localhost, Chromium refuses the RP ID localhost, and accepts the page's own host."""
    virtual_authenticator(page)
    with stage8_at(tmp_path, "app.localhost", "app.localhost") as app:
        page.goto(app + "login")
        ask = """rpId => navigator.credentials.get({publicKey: {rpId, challenge: new Uint8Array(32),
                     allowCredentials: [], userVerification: "required", timeout: 2000}})
                 .then(() => "signed", error => error.name)"""
        assert page.evaluate(ask, "localhost") == "SecurityError"
        assert page.evaluate(ask, "app.localhost") == "NotAllowedError"   # allowed: only, no passkey for it


def test_the_relays_own_rp_id_finds_no_passkey(page, tmp_path):
    devtools, authenticator = virtual_authenticator(page)
    with stage8_at(tmp_path, BANK, RP_ID) as bank:
        sign_up_with_a_passkey(page, bank)
        relay_origin = f"http://{SIBLING}:{free_port()}"
        with relay_at(relay_origin, loopback(bank)[0], bank, rewrite_rp_id=True) as relay:
            passkey_login_through(page, relay_origin, "there is no passkey for this site")  # NotAllowedError
        assert not verify_answers(relay)
        credentials = devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
        assert [c["rpId"] for c in credentials] == [RP_ID]  # alice's one passkey, for the bank's RP ID only
        assert attacker_opens_dashboard(bank, relay.loot).status_code == 302


def test_a_sibling_subdomain_is_refused_by_the_servers_origin_check(page, tmp_path):
    virtual_authenticator(page)
    with stage8_at(tmp_path, BANK, RP_ID) as bank:
        sign_up_with_a_passkey(page, bank)
        relay_origin = f"http://{SIBLING}:{free_port()}"
        with relay_at(relay_origin, loopback(bank)[0], bank) as relay:
            passkey_login_through(page, relay_origin, relay_origin)  # 401: "... origin http://login.bank..."
        [signed] = verify_answers(relay)  # the browser signed: the RP ID is a parent of the relay's host
        assert signed["body"]["credential"]["id"]
        assert attacker_opens_dashboard(bank, relay.loot).status_code == 302  # to the login page


def test_without_its_origin_check_stage_8_lets_the_relay_in(page, tmp_path):
    virtual_authenticator(page)
    with stage8_at(tmp_path, BANK, RP_ID, folder=without_origin_check(tmp_path)) as bank:
        sign_up_with_a_passkey(page, bank)
        relay_origin = f"http://{SIBLING}:{free_port()}"
        with relay_at(relay_origin, loopback(bank)[0], bank) as relay:
            page.goto(relay_origin + "/login")
            page.get_by_role("button", name="Log in with a passkey").click()
            expect(page.get_by_role("heading", name=f"Welcome, {USERNAME}")).to_be_visible()
            assert page.url == relay_origin + "/dashboard"
        dashboard = attacker_opens_dashboard(bank, relay.loot)
        assert dashboard.status_code == 200 and f"Welcome, {USERNAME}" in dashboard.text
