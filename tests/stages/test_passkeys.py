"""Stage 8: passkeys. Registration, login, and every check the server must make.

The browser and the authenticator are the workbook's stand-in (workbook.passkey), which
writes what a real browser writes; py_webauthn in the app verifies it unchanged. Where a
test needs a response no honest browser would send (a wrong RP ID, a missing flag), it
builds one by hand with the passkey's own private key, as a tampered client could.
Times move with the fixed clock: nothing here sleeps.
"""
import hashlib
import json
import re
import struct

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from workbook import passkey
from workbook.cookies import session_cookie, session_cookie_name
from workbook.passkey import Authenticator, Browser, PasskeyError, b64url, from_b64url
from workbook.testing.app_under_test import NotifyRecorder, make_app

from stage_helpers import PASSWORD, AuthActions, app_config, is_redirect_to, location, logged_in, use_recovery, verify
from stage_helpers import Authenticator as Phone

pytestmark = pytest.mark.stages(8)

ORIGIN = "http://localhost:5008"  # the stage's default ORIGIN; RP_ID localhost


# ----------------------------------------------------------------- helpers

def csrf_token(client):
    """The token every page carries in <meta name="csrf-token">, for the X-CSRFToken header."""
    found = re.search(rb'<meta name="csrf-token" content="([^"]+)"', client.get("/login").data)
    assert found, 'the page has no <meta name="csrf-token" content="...">'
    return found.group(1).decode()


def post_json(client, url, body=None, token=True):
    headers = {"X-CSRFToken": csrf_token(client)} if token else {}
    return client.post(url, json=body if body is not None else {}, headers=headers)


def register(client, browser, nickname="laptop", origin=ORIGIN):
    """Add a passkey in this signed-in session, as the passkeys page's script does; the verify response."""
    options = post_json(client, "/passkeys/register/options")
    assert options.status_code == 200, options.get_data(as_text=True)
    credential = browser.create(origin, options.get_json())
    return post_json(client, "/passkeys/register/verify", {"credential": credential, "nickname": nickname})


def login_options(client):
    response = post_json(client, "/passkeys/login/options")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def passkey_login(client, browser, origin=ORIGIN):
    """Press "Log in with a passkey" on the login page; the verify response."""
    credential = browser.get(origin, login_options(client))
    return post_json(client, "/passkeys/login/verify", {"credential": credential})


def assertion(credential, challenge, origin=ORIGIN, rp_id="localhost", flags=passkey.USER_PRESENT | passkey.USER_VERIFIED,
              count=None, user_handle=None):
    """A login response signed with the passkey's own key, with whatever origin, RP ID and flags are given."""
    client_data = json.dumps({"type": "webauthn.get", "challenge": challenge, "origin": origin,
                              "crossOrigin": False}).encode()
    if count is None:
        credential.sign_count += 1
        count = credential.sign_count
    auth_data = hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", count)
    signature = credential.private_key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                            ec.ECDSA(hashes.SHA256()))
    return {"id": b64url(credential.credential_id), "rawId": b64url(credential.credential_id), "type": "public-key",
            "clientExtensionResults": {},
            "response": {"clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                         "signature": b64url(signature),
                         "userHandle": b64url(user_handle if user_handle is not None else credential.user_handle)}}


def refused(response, status):
    """A JSON answer with this status and a message for the person, never a 500 or a login."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.is_json and response.get_json().get("error"), response.get_data(as_text=True)
    assert b"Traceback" not in response.data


@pytest.fixture
def browser():
    return Browser(Authenticator())


@pytest.fixture
def events(app):
    """Every security event the app tells the owner about (app.config["NOTIFY"]), as (username, what it says).

    NOTIFY gets the user (a row, or the name) and the event (its text, or a dict with its "detail")."""
    recorder = NotifyRecorder()
    app.config["NOTIFY"] = recorder
    return SecurityEvents(recorder)


class SecurityEvents:
    """(username, what it says) for each event a NotifyRecorder has been told so far."""

    def __init__(self, recorder):
        self.recorder = recorder

    def __iter__(self):
        for user, event in self.recorder.calls:
            yield (user if isinstance(user, str) else user["username"],
                   event.get("detail") if isinstance(event, dict) else event)

    def __contains__(self, item):
        return item in list(self)


@pytest.fixture
def with_passkey(signed_in, browser, clock):
    """alice, with one passkey (on ``browser``), logged out; the clock a minute later."""
    assert register(signed_in.client, browser).status_code == 201
    signed_in.logout()
    clock.advance(60)
    return signed_in


# ----------------------------------------------------------------- registration and login

def test_options_ask_for_a_discoverable_verified_passkey_for_this_site(signed_in):
    options = post_json(signed_in.client, "/passkeys/register/options").get_json()
    assert options["rp"]["id"] == "localhost"
    assert options["user"]["name"] == "alice"
    user_id = from_b64url(options["user"]["id"])
    assert len(user_id) >= 16 and b"alice" not in user_id  # a random handle, not the name
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["attestation"] == "none"
    assert options["excludeCredentials"] == []
    assert len(from_b64url(options["challenge"])) >= 16
    again = post_json(signed_in.client, "/passkeys/register/options").get_json()
    assert again["challenge"] != options["challenge"] and again["user"]["id"] == options["user"]["id"]
    login = login_options(signed_in.client)
    assert login["rpId"] == "localhost" and login["userVerification"] == "required"
    assert login.get("allowCredentials", []) == []  # any passkey of the site: no user name asked


def test_register_a_passkey_then_log_in_with_it_alone(signed_in, browser, events, clock):
    response = register(signed_in.client, browser, nickname="my laptop")
    assert response.status_code == 201
    assert response.get_json()["nickname"] == "my laptop"
    page = signed_in.client.get("/passkeys").get_data(as_text=True)
    assert "my laptop" in page and "never" in page  # listed, not used yet
    assert ("alice", "passkey added: my laptop") in events

    signed_in.logout()
    assert not logged_in(signed_in.client)
    clock.advance(60)
    fresh = signed_in.client.application.test_client()  # a new browser: no cookie, no user name typed
    response = passkey_login(fresh, browser)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["redirect"].endswith("/dashboard")
    dashboard = fresh.get("/dashboard")
    assert dashboard.status_code == 200 and b"Welcome, alice" in dashboard.data
    assert "never" not in fresh.get("/passkeys").get_data(as_text=True)  # last used: now


def test_a_passkey_login_is_a_full_login_as_stage_7_counts_one(with_passkey, browser, app, clock):
    """The same end as a right code: this browser trusted (its device cookie) and the failed attempts since
    the last sign-in told; the passkey events are in the dashboard's recent activity."""
    stranger = AuthActions(app.test_client(), with_passkey.phone)
    assert stranger.login(password="not her password").status_code == 401  # a stored failure
    fresh = app.test_client()
    response = passkey_login(fresh, browser)
    assert response.status_code == 200, response.get_data(as_text=True)
    device = app.config["DEVICE_COOKIE_NAME"]
    assert any(c.startswith(f"{device}=") for c in response.headers.getlist("Set-Cookie")), "no device cookie"
    dashboard = fresh.get("/dashboard").get_data(as_text=True)
    assert "1 failed attempt since your last sign-in" in dashboard
    assert "passkey added: laptop" in dashboard  # in the recent activity, like stage 7's events


def test_the_dashboard_links_to_the_passkeys_page(signed_in):
    assert b'href="/passkeys"' in signed_in.client.get("/dashboard").data


def test_a_second_passkey_on_the_same_authenticator_is_refused_by_it(signed_in, browser):
    assert register(signed_in.client, browser).status_code == 201
    options = post_json(signed_in.client, "/passkeys/register/options").get_json()
    assert [c["id"] for c in options["excludeCredentials"]] == [b64url(browser.authenticator.credentials[0].credential_id)]
    with pytest.raises(PasskeyError, match="InvalidStateError"):
        browser.create(ORIGIN, options)
    assert register(signed_in.client, Browser(Authenticator()), nickname="phone").status_code == 201


def test_the_same_registration_is_taken_once(signed_in, browser):
    options = post_json(signed_in.client, "/passkeys/register/options").get_json()
    credential = browser.create(ORIGIN, options)
    body = {"credential": credential, "nickname": "x"}
    assert post_json(signed_in.client, "/passkeys/register/verify", body).status_code == 201
    refused(post_json(signed_in.client, "/passkeys/register/verify", body), 400)  # its challenge is used up
    assert signed_in.client.get("/passkeys").get_data(as_text=True).count("<tr>") == 2  # the header and one


# ----------------------------------------------------------------- what the server checks

def test_a_login_from_another_origin_is_refused(with_passkey, browser, sibling_allowed):
    # evil.localhost, as a sibling under the RP ID: the browser writes its own origin into clientDataJSON,
    # which the server compares with ORIGIN.
    client = with_passkey.client
    refused(passkey_login(client, browser, origin="http://evil.localhost:5008"), 401)
    refused(passkey_login(client, browser, origin="http://localhost:5009"), 401)  # another port is another origin
    assert not logged_in(client)
    assert passkey_login(client, browser).status_code == 200


def test_a_registration_from_another_origin_is_refused(signed_in, browser, sibling_allowed):
    refused(register(signed_in.client, browser, origin="http://evil.localhost:5008"), 400)
    assert "<table" not in signed_in.client.get("/passkeys").get_data(as_text=True)


def test_a_signature_for_another_rp_id_is_refused(with_passkey, browser):
    client = with_passkey.client
    key = browser.authenticator.credentials[0]
    options = login_options(client)
    forged = assertion(key, options["challenge"], rp_id="evil.localhost")
    refused(post_json(client, "/passkeys/login/verify", {"credential": forged}), 401)
    assert not logged_in(client)
    options = login_options(client)  # the same, signed for localhost: in
    right = assertion(key, options["challenge"])
    assert post_json(client, "/passkeys/login/verify", {"credential": right}).status_code == 200


def test_a_registration_for_another_rp_id_is_refused(signed_in, browser):
    options = post_json(signed_in.client, "/passkeys/register/options").get_json()
    options["rp"]["id"] = "evil.localhost"  # a relay on evil.localhost rewrote it
    credential = browser.create("http://evil.localhost:5008", options)
    refused(post_json(signed_in.client, "/passkeys/register/verify", {"credential": credential}), 400)


def test_a_challenge_is_used_once_pass_or_fail(with_passkey, browser, sibling_allowed):
    client = with_passkey.client
    options = login_options(client)
    credential = browser.get(ORIGIN, options)
    # A failed try uses the challenge up: the right answer to it no longer counts either.
    wrong = browser.get("http://evil.localhost:5008", options)
    refused(post_json(client, "/passkeys/login/verify", {"credential": wrong}), 401)
    refused(post_json(client, "/passkeys/login/verify", {"credential": credential}), 401)
    assert not logged_in(client)
    # A right answer, replayed: by the same browser, and by another one with new options.
    options = login_options(client)
    credential = browser.get(ORIGIN, options)
    assert post_json(client, "/passkeys/login/verify", {"credential": credential}).status_code == 200
    refused(post_json(client, "/passkeys/login/verify", {"credential": credential}), 401)
    thief = client.application.test_client()
    login_options(thief)
    refused(post_json(thief, "/passkeys/login/verify", {"credential": credential}), 401)
    assert not logged_in(thief)


def test_the_server_forgets_a_used_challenge(signed_in, app):
    # A passkey without a counter (synced ones send 0), so that only the challenge stops a replay.
    synced = Browser(Authenticator(counter=False, synced=True))
    assert register(signed_in.client, synced).status_code == 201
    signed_in.logout()
    client = signed_in.client
    options = login_options(client)
    saved = session_cookie(client)  # the cookie that holds the ceremony's id, before it is used
    credential = synced.get(ORIGIN, options)
    assert post_json(client, "/passkeys/login/verify", {"credential": credential}).status_code == 200
    copy = app.test_client()
    copy.set_cookie(session_cookie_name(copy), saved)
    refused(post_json(copy, "/passkeys/login/verify", {"credential": credential}), 401)
    assert not logged_in(copy)


def test_a_challenge_expires_after_5_minutes(with_passkey, browser, clock):
    client = with_passkey.client
    credential = browser.get(ORIGIN, login_options(client))
    clock.advance(5 * 60 + 1)
    refused(post_json(client, "/passkeys/login/verify", {"credential": credential}), 401)
    assert not logged_in(client)
    credential = browser.get(ORIGIN, login_options(client))
    clock.advance(5 * 60 - 1)
    assert post_json(client, "/passkeys/login/verify", {"credential": credential}).status_code == 200


def test_a_registration_challenge_expires_too(signed_in, browser, clock):
    options = post_json(signed_in.client, "/passkeys/register/options").get_json()
    credential = browser.create(ORIGIN, options)
    clock.advance(5 * 60 + 1)
    refused(post_json(signed_in.client, "/passkeys/register/verify", {"credential": credential}), 400)


def test_user_verification_is_required_to_log_in(with_passkey, browser):
    client = with_passkey.client
    browser.authenticator.user_verification = False  # no PIN, no fingerprint: something you have, only
    refused(passkey_login(client, browser), 401)
    key = browser.authenticator.credentials[0]
    forged = assertion(key, login_options(client)["challenge"], flags=passkey.USER_VERIFIED)  # UV without UP
    refused(post_json(client, "/passkeys/login/verify", {"credential": forged}), 401)
    assert not logged_in(client)


def test_user_verification_is_required_to_register(signed_in):
    refused(register(signed_in.client, Browser(Authenticator(user_verification=False))), 400)


def test_a_sign_count_that_does_not_grow_is_refused(with_passkey, browser):
    copy = Browser(browser.authenticator.clone())  # a thief's copy of the authenticator, counters included
    client = with_passkey.client
    for _ in range(2):
        assert passkey_login(client, browser).status_code == 200  # counter 1, then 2
        with_passkey.logout()
    refused(passkey_login(client, copy), 401)  # the copy says 1: not more than 2
    key = browser.authenticator.credentials[0]
    same = assertion(key, login_options(client)["challenge"], count=2)
    refused(post_json(client, "/passkeys/login/verify", {"credential": same}), 401)
    assert not logged_in(client)
    assert passkey_login(client, browser).status_code == 200  # the real one goes on: 3


def test_a_passkey_without_a_counter_logs_in_every_time(signed_in, clock):
    synced = Browser(Authenticator(counter=False, synced=True))  # counters stay 0, as synced passkeys send
    assert register(signed_in.client, synced).status_code == 201
    for _ in range(3):
        signed_in.logout()
        assert passkey_login(signed_in.client, synced).status_code == 200


def test_a_passkey_not_registered_here_is_refused(with_passkey):
    stranger = Browser(Authenticator())
    stranger.authenticator.make_credential("localhost", b"", b"h" * 32, "alice")  # made for localhost elsewhere
    refused(passkey_login(with_passkey.client, stranger), 401)
    assert not logged_in(with_passkey.client)


def test_someone_elses_passkey_does_not_log_in_as_you(with_passkey, browser, app, clock):
    # bob has an account and a passkey of his own.
    bob = AuthActions(app.test_client(), Phone(clock))
    bob.enrol("bob", PASSWORD)
    bobs = Browser(Authenticator())
    assert register(bob.client, bobs).status_code == 201
    bob.logout()
    # His passkey's response with alice's user handle in it: still validly signed (the handle is not
    # signed), but the passkey is his, so it must not open alice's account, nor his.
    client = with_passkey.client
    alices_handle = browser.authenticator.credentials[0].user_handle
    forged = assertion(bobs.authenticator.credentials[0], login_options(client)["challenge"], user_handle=alices_handle)
    refused(post_json(client, "/passkeys/login/verify", {"credential": forged}), 401)
    assert not logged_in(client)
    # As it is, it logs bob in: never alice.
    assert passkey_login(client, bobs).status_code == 200
    assert b"Welcome, bob" in client.get("/dashboard").data


def test_a_passkey_login_needs_the_challenge_of_this_browser(with_passkey, browser):
    asked = with_passkey.client
    other = asked.application.test_client()
    credential = browser.get(ORIGIN, login_options(asked))
    login_options(other)
    refused(post_json(other, "/passkeys/login/verify", {"credential": credential}), 401)
    assert not logged_in(other)


# ----------------------------------------------------------------- recent login, removing, the setting

def test_adding_a_passkey_needs_a_recent_full_login(signed_in, browser, clock):
    anonymous = signed_in.client.application.test_client()
    refused(post_json(anonymous, "/passkeys/register/options"), 401)
    clock.advance(5 * 60 + 1)
    response = post_json(signed_in.client, "/passkeys/register/options")
    refused(response, 403)
    assert "sign in again" in response.get_json()["error"].lower()
    assert "log out and log in again" in signed_in.client.get("/passkeys").get_data(as_text=True)


def test_a_password_alone_cannot_add_a_passkey(enrolled):
    assert location(enrolled.login()) == "/verify-2fa"  # password right, code not yet
    refused(post_json(enrolled.client, "/passkeys/register/options"), 401)


def removal_form(client):
    found = re.search(rb'action="(/passkeys/\d+/delete)"', client.get("/passkeys").data)
    assert found, "the passkeys page has a Remove button for each passkey"
    return found.group(1).decode()


def post_form(client, url, **fields):
    return client.post(url, data={"csrf_token": csrf_token(client), **fields})


def test_removing_a_passkey_ends_every_other_session(with_passkey, browser, events, clock, app):
    elsewhere = app.test_client()
    assert passkey_login(elsewhere, browser).status_code == 200
    clock.advance(30)
    assert passkey_login(with_passkey.client, browser).status_code == 200
    response = post_form(with_passkey.client, removal_form(with_passkey.client))
    assert response.status_code in (302, 303)
    assert logged_in(with_passkey.client) and not logged_in(elsewhere)
    assert ("alice", "passkey removed: laptop") in events
    with_passkey.logout()
    refused(passkey_login(with_passkey.client, browser), 401)  # gone


def test_removing_a_passkey_needs_a_recent_login_and_your_own_passkey(with_passkey, browser, clock, app):
    assert passkey_login(with_passkey.client, browser).status_code == 200
    url = removal_form(with_passkey.client)
    clock.advance(5 * 60 + 1)
    assert post_form(with_passkey.client, url).status_code == 403
    bob = AuthActions(app.test_client(), Phone(clock))
    bob.enrol("bob", PASSWORD)
    assert post_form(bob.client, url).status_code == 404  # alice's, not his
    with_passkey.logout()
    assert passkey_login(with_passkey.client, browser).status_code == 200  # still there


def test_a_script_can_remove_a_passkey_with_json(with_passkey, browser, app, clock):
    assert passkey_login(with_passkey.client, browser).status_code == 200
    url = removal_form(with_passkey.client)
    bob = AuthActions(app.test_client(), Phone(clock))
    bob.enrol("bob", PASSWORD)
    refused(post_json(bob.client, url), 404)
    refused(post_json(with_passkey.client, url, token=False), 400)
    response = post_json(with_passkey.client, url)
    assert response.status_code == 200 and response.get_json()["deleted"] == int(url.split("/")[2])
    refused(post_json(with_passkey.client, url), 404)  # gone


def test_passkeys_only_stops_password_and_code_but_not_recovery_codes(with_passkey, browser, events, clock, app):
    elsewhere = app.test_client()  # a session a password and a code opened: a relay's, say
    assert location(AuthActions(elsewhere, with_passkey.phone).login()) == "/verify-2fa"
    assert is_redirect_to(verify(elsewhere, with_passkey.phone.code()), "/dashboard")
    assert passkey_login(with_passkey.client, browser).status_code == 200
    response = post_form(with_passkey.client, "/passkeys/only", passkeys_only="on")
    assert response.status_code in (302, 303)
    assert ("alice", "passkeys only turned on") in events
    assert not logged_in(elsewhere)  # ended

    with_passkey.logout()
    clock.advance(30)
    assert location(with_passkey.login()) == "/verify-2fa"
    page = with_passkey.client.get("/verify-2fa")
    assert page.status_code == 200 and b"passkey only" in page.data  # said before a code is typed
    response = verify(with_passkey.client, with_passkey.phone.code())
    assert response.status_code == 403 and b"passkey" in response.data
    assert not logged_in(with_passkey.client)
    assert is_redirect_to(use_recovery(with_passkey.client, with_passkey.recovery_codes[0]), "/dashboard")
    with_passkey.logout()
    assert passkey_login(with_passkey.client, browser).status_code == 200


def test_passkeys_only_needs_a_passkey_and_keeps_the_last_one(signed_in, browser):
    assert post_form(signed_in.client, "/passkeys/only", passkeys_only="on").status_code == 400
    assert register(signed_in.client, browser).status_code == 201
    assert post_form(signed_in.client, "/passkeys/only", passkeys_only="on").status_code in (302, 303)
    assert post_form(signed_in.client, removal_form(signed_in.client)).status_code == 400
    assert post_form(signed_in.client, "/passkeys/only", passkeys_only="off").status_code in (302, 303)
    assert post_form(signed_in.client, removal_form(signed_in.client)).status_code in (302, 303)
    assert post_form(signed_in.client, "/passkeys/only", passkeys_only="maybe").status_code == 400


# ----------------------------------------------------------------- bad input: a 4xx with a message, never a 500

def _spoil(body, path, value):
    """``body`` with the member at ``path`` (a tuple of keys) set to ``value``, or removed when value is ...."""
    body = json.loads(json.dumps(body))
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return body


CREDENTIAL_FIELDS = [("credential",), ("credential", "id"), ("credential", "rawId"), ("credential", "type"),
                     ("credential", "response"), ("credential", "response", "clientDataJSON")]
REGISTRATION_FIELDS = CREDENTIAL_FIELDS + [("credential", "response", "attestationObject"), ("nickname",),
                                           ("credential", "response", "transports")]
LOGIN_FIELDS = CREDENTIAL_FIELDS + [("credential", "response", "authenticatorData"),
                                    ("credential", "response", "signature"), ("credential", "response", "userHandle")]
JUNK = {"missing": ..., "null": None, "number": 12345, "list": ["a"], "object": {"a": 1}, "empty": "",
        "not base64url": "!!not*base64!!", "base64 of junk": b64url(b"\xff" * 40), "long": "A" * 5000}


# What a right registration may carry there: a nickname is any short text (or none: a default one),
# and transports are a hint (junk ones are left out).
ACCEPTED = {("nickname",): {"missing", "null", "empty", "not base64url", "base64 of junk"},
            ("credential", "response", "transports"): set(JUNK)}


@pytest.mark.parametrize("field", REGISTRATION_FIELDS, ids=lambda f: ".".join(f))
def test_every_registration_field_missing_or_malformed_is_a_4xx(signed_in, browser, field):
    for name, junk in JUNK.items():
        options = post_json(signed_in.client, "/passkeys/register/options").get_json()
        body = {"credential": browser.create(ORIGIN, options), "nickname": "n"}
        browser.authenticator.credentials.clear()  # the same authenticator may make one again
        response = post_json(signed_in.client, "/passkeys/register/verify", _spoil(body, field, junk))
        if name in ACCEPTED.get(field, ()):
            assert response.status_code == 201, (field, name, response.get_data(as_text=True))
            continue
        assert 400 <= response.status_code < 500, (field, name, response.status_code, response.get_data(as_text=True))
        assert response.is_json and response.get_json()["error"], (field, name)
    if field not in ACCEPTED:
        assert "<table" not in signed_in.client.get("/passkeys").get_data(as_text=True)  # nothing was added


@pytest.mark.parametrize("field", LOGIN_FIELDS, ids=lambda f: ".".join(f))
def test_every_login_field_missing_or_malformed_is_a_4xx(with_passkey, browser, field):
    client = with_passkey.client
    for name, junk in JUNK.items():
        body = {"credential": browser.get(ORIGIN, login_options(client))}
        response = post_json(client, "/passkeys/login/verify", _spoil(body, field, junk))
        assert 400 <= response.status_code < 500, (field, name, response.status_code, response.get_data(as_text=True))
        assert response.is_json and response.get_json()["error"], (field, name)
        assert not logged_in(client), (field, name)


@pytest.mark.parametrize("url", ["/passkeys/register/options", "/passkeys/register/verify",
                                 "/passkeys/login/options", "/passkeys/login/verify"])
def test_bodies_that_are_not_a_json_object_are_a_4xx(signed_in, url):
    client = signed_in.client
    token = {"X-CSRFToken": csrf_token(client)}
    for kwargs in ({"data": b"not json", "content_type": "application/json"},
                   {"data": b"\xff\xfe\x00", "content_type": "application/json"},
                   {"json": ["a", "list"]}, {"json": "text"}, {"json": None},
                   {"data": "credential=x", "content_type": "application/x-www-form-urlencoded"},
                   {"json": {"credential": {"id": "A" * 9000}}}):  # over the size limit: 413
        response = client.post(url, headers=token, **kwargs)
        assert response.status_code < 500, (url, kwargs, response.status_code)
        if url.endswith("/verify"):
            assert 400 <= response.status_code < 500, (url, kwargs, response.status_code)
            assert response.is_json and response.get_json()["error"]
    big = client.post(url, headers=token, json={"credential": {"id": "A" * 9000}})
    refused(big, 413)


@pytest.mark.parametrize("url", ["/passkeys/register/options", "/passkeys/register/verify",
                                 "/passkeys/login/options", "/passkeys/login/verify"])
def test_a_post_without_the_csrf_token_is_refused(signed_in, url):
    refused(post_json(signed_in.client, url, token=False), 400)


def test_a_nickname_too_long_is_refused(signed_in, browser):
    refused(register(signed_in.client, browser, nickname="x" * 61), 400)
    refused(register(signed_in.client, Browser(Authenticator()), nickname="tab\there"), 400)
    assert register(signed_in.client, Browser(Authenticator()), nickname="x" * 60).status_code == 201


# ----------------------------------------------------------------- where it runs

@pytest.mark.parametrize("settings", [
    {"ORIGIN": "http://127.0.0.1:5008", "RP_ID": "127.0.0.1"},  # an IP address: browsers refuse it
    {"ORIGIN": "http://127.0.0.1:5008"},                        # RP ID localhost is not that host
    {"ORIGIN": "http://example.com"},                           # plain http away from localhost
    {"ORIGIN": "http://app.localhost:5008", "RP_ID": "localhost"},  # one label is no parent (Chromium refuses)
    {"ORIGIN": "https://app.example.com", "RP_ID": "other.com"},
    {"ORIGIN": "https://app.example.com/login", "RP_ID": "example.com"},
])
def test_settings_no_browser_accepts_stop_the_app_at_start(target, tmp_path, clock, settings):
    with pytest.raises(Exception, match="FLASK_ORIGIN"):
        make_app(target[0], app_config(tmp_path, clock, **settings))


def test_the_settings_are_read_from_the_environment(target, tmp_path, clock, environment):
    environment.set("FLASK_RP_ID", "example.com")
    environment.set("FLASK_ORIGIN", "https://app.example.com")
    app = make_app(target[0], app_config(tmp_path, clock))
    assert (app.config["RP_ID"], app.config["ORIGIN"]) == ("example.com", "https://app.example.com")
    client = app.test_client()
    assert login_options(client)["rpId"] == "example.com"

