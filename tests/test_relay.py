"""The phishing relay (workbook.relay) against stage 7 and stage 8: the matrix lesson 08 shows.

Stage 7 (password + TOTP): the relay passes the victim's login on and keeps the session
cookie; the attacker opens the dashboard with it. Stage 8 (passkeys): it fails in each form
a relay can take. Same RP ID from the relay's origin: the browser refuses. The relay's own
RP ID: the browser has no passkey for it. A sibling subdomain under a parent RP ID: the
browser signs, but with the relay's origin, and the server's origin check answers 401. And
against a copy of stage 8 without that origin check, the relay wins again.

Everything runs in one process with Flask test clients: the victim's browser is a test
client of the relay (with the workbook's passkey stand-in), the relay reaches the stage app
as a WSGI app, and the attacker is a test client of the stage app.
"""
import hashlib
import re
import shutil

import pytest

from workbook.app_loader import make_app
from workbook.fixed_clock import FixedClock
from workbook.passkey import Authenticator, Browser, PasskeyError
from workbook.phone import Phone
from workbook.relay import create_relay
from workbook.stages import stage
from workbook.testing.accounts import PASSWORD, USERNAME
from workbook.visitor import submit_form

RELAY = "https://login-bank.example"  # the look-alike address the victim was sent to


def stage_app(folder, tmp_path, clock, **settings):
    return make_app(folder, {
        "TESTING": True, "SECRET_KEY": "test key, not a real one, long enough", "CLOCK": clock,
        "DATABASE": str(tmp_path / "users.sqlite"), "SESSION_COOKIE_SECURE": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1", **settings})


def enrol(client, phone):
    """alice signs up at the real site, scans the QR code and confirms a code; she saves her recovery codes."""
    registered = submit_form(client, "/register", {"username": USERNAME, "password": PASSWORD})
    if not registered.headers.get("Location", "").endswith("enable-2fa"):  # registration, then log in
        submit_form(client, "/login", {"username": USERNAME, "password": PASSWORD})
    page = client.get("/enable-2fa")
    phone.scan(page.get_data(as_text=True))
    assert submit_form(client, "/enable-2fa", {"otp": phone.code()}, page=page).status_code in (302, 303)
    submit_form(client, "/recovery-codes", action="/recovery-codes")


class Victim:
    """alice's browser, at the relay's address: it sends Referer and Origin as a browser does."""

    def __init__(self, relay, origin=RELAY):
        self.client = relay.test_client()
        self.origin = origin

    def post_json(self, path, body=None):
        page = self.client.get("/login", headers={"Referer": self.origin + "/"}).get_data(as_text=True)
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
        return self.client.post(path, json=body or {}, headers={
            "X-CSRFToken": token, "Origin": self.origin, "Referer": self.origin + "/login"})

    def passkey_login(self, browser):
        """Press "Log in with a passkey" on the page the relay shows."""
        options = self.post_json("/passkeys/login/options")
        assert options.status_code == 200, options.get_data(as_text=True)
        credential = browser.get(self.origin, options.get_json())
        return self.post_json("/passkeys/login/verify", {"credential": credential})


def attacker_opens_dashboard(target, loot):
    """The attacker's half: the session cookie from the relay's loot, in a browser of their own."""
    attacker = target.test_client()
    name = target.config["SESSION_COOKIE_NAME"]
    assert name in loot.cookies, f"the relay kept no {name} cookie: {sorted(loot.cookies)}"
    attacker.set_cookie(name, loot.cookies[name])
    return attacker.get("/dashboard")


# ----------------------------------------------------------------- stage 7: the relay wins

def test_the_relay_logs_in_to_stage_7_as_the_victim(tmp_path):
    clock = FixedClock()
    target = stage_app(stage(7).folder, tmp_path, clock)
    phone = Phone(clock)
    enrol(target.test_client(), phone)  # long before, at the real site
    clock.advance(3600)

    relay = create_relay(target, "http://localhost:5007", relay_origin=RELAY)
    victim = Victim(relay)
    # The real pages, through the look-alike address; every defence of stage 7 is there and passes.
    response = submit_form(victim.client, "/login", {"username": USERNAME, "password": PASSWORD})
    assert response.status_code in (302, 303)
    response = submit_form(victim.client, "/verify-2fa", {"otp": phone.code()})
    assert response.status_code in (302, 303)
    assert b"Welcome, alice" in victim.client.get("/dashboard").data  # alice sees nothing wrong

    loot = relay.loot
    assert {"username": USERNAME, "password": PASSWORD}.items() <= loot.forms[0]["fields"].items()
    assert loot.forms[1]["fields"]["otp"] == phone.code()
    dashboard = attacker_opens_dashboard(target, loot)
    assert dashboard.status_code == 200 and b"Welcome, alice" in dashboard.data
    shown = relay.test_client().get("/relay-loot").get_data(as_text=True)
    assert PASSWORD in shown and loot.cookies[target.config["SESSION_COOKIE_NAME"]] in shown


# ----------------------------------------------------------------- stage 8: each form of the relay fails

@pytest.fixture
def clock():
    return FixedClock()


def stage8_with_passkey(folder, tmp_path, clock, rp_id="localhost", origin="http://localhost:5008"):
    """Stage 8 with alice enrolled and one passkey added at the real site; her passkey stand-in."""
    target = stage_app(folder, tmp_path, clock, RP_ID=rp_id, ORIGIN=origin)
    phone, browser = Phone(clock), Browser(Authenticator())
    client = target.test_client()
    enrol(client, phone)
    real = Victim(target, origin)  # alice at the real address
    real.client = client
    options = real.post_json("/passkeys/register/options")
    credential = browser.create(origin, options.get_json())
    assert real.post_json("/passkeys/register/verify", {"credential": credential}).status_code == 201
    client.post("/logout", data={"csrf_token": re.search(
        r'name="csrf-token" content="([^"]+)"', client.get("/dashboard").get_data(as_text=True)).group(1)})
    clock.advance(3600)
    # She can still log in with it at the real site (a fresh browser there).
    check = Victim(target, origin)
    assert check.passkey_login(browser).status_code == 200
    return target, browser


def test_same_rp_id_from_the_relays_origin_the_browser_refuses(tmp_path, clock):
    target, browser = stage8_with_passkey(stage(8).folder, tmp_path, clock)
    relay = create_relay(target, "http://localhost:5008", relay_origin=RELAY)
    victim = Victim(relay)
    with pytest.raises(PasskeyError, match="SecurityError"):  # RP ID localhost on login-bank.example
        victim.passkey_login(browser)
    assert attacker_opens_dashboard(target, relay.loot).status_code == 302  # to the login page


def test_the_relays_own_rp_id_finds_no_passkey(tmp_path, clock):
    target, browser = stage8_with_passkey(stage(8).folder, tmp_path, clock)
    relay = create_relay(target, "http://localhost:5008", relay_origin=RELAY, rewrite_rp_id=True)
    victim = Victim(relay)
    options = victim.post_json("/passkeys/login/options").get_json()
    assert options["rpId"] == "login-bank.example"  # the relay put its own name in
    with pytest.raises(PasskeyError, match="NotAllowedError"):  # alice's passkey is for localhost only
        browser.get(RELAY, options)
    assert attacker_opens_dashboard(target, relay.loot).status_code == 302


def test_a_sibling_subdomain_is_refused_by_the_servers_origin_check(tmp_path, clock):
    # The bank at www.example.test uses the parent domain as its RP ID; the relay got login.example.test.
    target, browser = stage8_with_passkey(stage(8).folder, tmp_path, clock, rp_id="example.test",
                                          origin="https://www.example.test")
    relay = create_relay(target, "https://www.example.test", relay_origin="https://login.example.test")
    victim = Victim(relay, "https://login.example.test")
    response = victim.passkey_login(browser)  # the browser signs: the RP ID is a parent of its host
    assert response.status_code == 401, response.get_data(as_text=True)
    assert "login.example.test" in response.get_json()["error"]  # the origin it signed, not the bank's
    assert attacker_opens_dashboard(target, relay.loot).status_code == 302  # to the login page


def without_origin_check(tmp_path):
    """A copy of stage 8 whose passkey login believes whatever origin the browser signed."""
    folder = tmp_path / "stage8_without_origin_check"
    shutil.copytree(stage(8).folder, folder, ignore=shutil.ignore_patterns("instance", "__pycache__"))
    source = (folder / "passkeys.py").read_text()
    check = 'expected_origin=current_app.config["ORIGIN"],\n            credential_public_key'
    assert source.count(check) == 1, "the login's origin check moved: update this test"
    (folder / "passkeys.py").write_text(source.replace(
        check, 'expected_origin=json.loads(credential.response.client_data_json)["origin"],\n'
               '            credential_public_key'))
    return folder


def test_without_its_origin_check_stage_8_lets_the_relay_in(tmp_path, clock):
    target, browser = stage8_with_passkey(without_origin_check(tmp_path), tmp_path, clock, rp_id="example.test",
                                          origin="https://www.example.test")
    relay = create_relay(target, "https://www.example.test", relay_origin="https://login.example.test")
    victim = Victim(relay, "https://login.example.test")
    assert victim.passkey_login(browser).status_code == 200
    dashboard = attacker_opens_dashboard(target, relay.loot)
    assert dashboard.status_code == 200 and b"Welcome, alice" in dashboard.data


# ----------------------------------------------------------------- the relay itself

def test_the_relay_rewrites_what_would_give_it_away(tmp_path, clock):
    target = stage_app(stage(8).folder, tmp_path, clock)
    seen = {}

    @target.before_request
    def note():
        from flask import request
        seen.update(host=request.host, origin=request.headers.get("Origin"), referer=request.headers.get("Referer"))

    relay = create_relay(target, "http://localhost:5008", relay_origin=RELAY)
    victim = Victim(relay)
    response = submit_form(victim.client, "/login", {"username": USERNAME, "password": "wrong password"})
    assert response.status_code == 401
    victim.post_json("/passkeys/login/options")
    assert seen == {"host": "localhost:5008", "origin": "http://localhost:5008", "referer": "http://localhost:5008/login"}
    assert victim.client.get("/static/style.css").status_code == 200  # the target's files, not the relay's
    assert victim.client.get("/relay-loot?format=json").get_json()["forms"][0]["fields"]["password"] == "wrong password"


# ----------------------------------------------------------------- the browser's rules the relay runs into

@pytest.mark.parametrize("origin, rp_id, allowed", [
    ("http://localhost:5008", None, "localhost"),
    ("http://localhost:5008", "localhost", "localhost"),
    ("http://app.localhost:5008", "localhost", None),              # one label is no parent (Chromium refuses)
    ("http://www.bank.localhost:5008", "bank.localhost", "bank.localhost"),  # a parent domain: allowed
    ("https://www.example.test", "example.test", "example.test"),
    ("https://login.example.test", "example.test", "example.test"),  # a sibling uses the parent too
    ("https://example.test", "www.example.test", None),            # a child of the host: never
    ("https://login-bank.example", "localhost", None),              # another site: never
    ("https://notexample.test", "example.test", None),              # a suffix of the name is not a parent
    ("http://127.0.0.1:5008", None, None),                         # an IP address is no RP ID
    ("http://[::1]:5008", None, None),
    ("http://bank.example", None, None),                           # plain http away from localhost
])
def test_the_stand_in_browser_allows_an_rp_id_only_on_its_own_site(origin, rp_id, allowed):
    from workbook.passkey import check_rp_id

    if allowed is None:
        with pytest.raises(PasskeyError, match="SecurityError"):
            check_rp_id(origin, rp_id)
    else:
        assert check_rp_id(origin, rp_id) == allowed


def test_the_stand_in_writes_the_real_origin_and_its_flags():
    from workbook.passkey import decode_authenticator_data, decode_client_data

    browser = Browser(Authenticator())
    options = {"rp": {"id": "example.test", "name": "Bank"}, "challenge": "Y2hhbGxlbmdl",
               "user": {"id": "dXNlcg", "name": "alice", "displayName": "alice"},
               "pubKeyCredParams": [{"type": "public-key", "alg": -7}]}
    created = browser.create("https://login.example.test", options)
    assert decode_client_data(created) == {"type": "webauthn.create", "challenge": "Y2hhbGxlbmdl",
                                           "origin": "https://login.example.test", "crossOrigin": False}
    data = decode_authenticator_data(created)
    assert data["flags"] == {"UP": True, "UV": True, "BE": False, "BS": False, "AT": True}
    assert data["rpIdHash"] == hashlib.sha256(b"example.test").hexdigest()
    signed = browser.get("https://www.example.test", {"rpId": "example.test", "challenge": "YWdhaW4"})
    assert decode_client_data(signed)["origin"] == "https://www.example.test"
    assert decode_authenticator_data(signed)["signCount"] == 1
    assert decode_authenticator_data(signed)["flags"]["AT"] is False
    with pytest.raises(PasskeyError, match="NotAllowedError"):
        browser.get("https://other.test", {"rpId": "other.test", "challenge": "YWdhaW4"})


# ----------------------------------------------------------------- the relay as the lesson runs it

@pytest.mark.slow
def test_the_relay_command_in_front_of_a_running_stage_7(tmp_path):
    """``python -m workbook.relay <stage 7's address>``, and a visitor who logs in through it over real HTTP."""
    import sys

    import requests

    from workbook.testing.servers import free_port, running, stage_command, stage_environment
    from workbook.visitor import Visitor

    port, relay_port = free_port(), free_port()
    with running(stage_command(7, "python", port), port, stage_environment(port, tmp_path / "users.sqlite")), \
            running([sys.executable, "-m", "workbook.relay", f"http://localhost:{port}", "--port", str(relay_port)],
                    relay_port) as relay_url:
        victim = Visitor(relay_url)
        phone = Phone()
        registered = victim.submit("/register", {"username": USERNAME, "password": PASSWORD})
        assert registered.status_code in (302, 303)
        if not registered.headers["Location"].endswith("enable-2fa"):  # registration, then log in
            assert victim.submit("/login", {"username": USERNAME, "password": PASSWORD}).status_code in (302, 303)
        page = victim.get("/enable-2fa")
        assert page.status_code == 200 and page.url.startswith(relay_url)
        phone.scan(page.text)
        assert victim.submit("/enable-2fa", {"otp": phone.code()}).status_code in (302, 303)
        loot = requests.get(relay_url + "/relay-loot?format=json", timeout=30).json()
        assert any(form["fields"].get("password") == PASSWORD for form in loot["forms"])
        attacker = requests.Session()
        name = next(name for name in loot["cookies"] if name.endswith("session"))
        attacker.cookies.set(name, loot["cookies"][name])
        dashboard = attacker.get(f"http://127.0.0.1:{port}/dashboard", allow_redirects=False, timeout=30)
        assert dashboard.status_code == 200 and "Welcome, alice" in dashboard.text
