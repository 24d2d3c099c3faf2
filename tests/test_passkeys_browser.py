"""Stage 8's passkeys in a real browser: Chromium with a virtual authenticator.

The DevTools protocol's WebAuthn domain (``WebAuthn.enable``, ``WebAuthn.addVirtualAuthenticator``)
plugs a software authenticator into Chromium: a platform authenticator (``internal``) that keeps
discoverable credentials and verifies its user, as a phone or a laptop with a fingerprint reader
does. The page's own script (static/passkeys.js) then calls ``navigator.credentials`` as it would
for anyone. The relay, served on 127.0.0.1 in front of the app on localhost, gets nothing: the
browser refuses the RP ID localhost on another host.

The CSP forbids 'unsafe-eval', so nothing here evaluates a string in the page: Playwright's
``expect`` polls from Python.
"""
import threading

import pytest

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


@pytest.fixture
def stage8(tmp_path):
    port = free_port()
    # `python app.py` sets FLASK_ORIGIN to http://localhost:<its port>, as how_to_run(8) prints.
    with running(stage_command(8, "python", port), port, stage_environment(port, tmp_path / "users.sqlite")):
        yield f"http://localhost:{port}/"


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


def test_through_the_relay_the_browser_gives_no_passkey(page, stage8, tmp_path):
    from werkzeug.serving import make_server

    devtools, authenticator = virtual_authenticator(page)
    sign_up(page, stage8)
    page.goto(stage8 + "passkeys")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("table.passkeys")).to_be_visible()
    submit(page, "Log out")

    # The look-alike: http://127.0.0.1:<port>, passing everything to the app at http://localhost.
    relay_port = free_port()
    relay = create_relay(stage8, relay_origin=f"http://127.0.0.1:{relay_port}")
    server = make_server("127.0.0.1", relay_port, relay, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        page.goto(f"http://127.0.0.1:{relay_port}/login")
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()  # the real page, relayed
        page.get_by_role("button", name="Log in with a passkey").click()
        expect(page.locator("#passkey-login-message")).to_contain_text("The browser refused")
        assert page.url.endswith("/login")
    finally:
        server.shutdown()
        thread.join()
    assert not any(path["path"] == "/passkeys/login/verify" for path in relay.loot.json_bodies)
    name = "stage8_session"
    assert name in relay.loot.cookies  # it has a cookie, of a visitor who never logged in
