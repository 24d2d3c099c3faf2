"""Claims of stages 7 and 8 that no other test showed, and holes found by attacking them.

Each test is one sentence of a README, docs/app_contract.md or a lesson (or one hole), tried as a
stranger who knows only a username, someone with the password, or a thief of the database file.
Each was seen to fail with its rule taken out of the app.
"""
import re
import urllib.error
import urllib.request
from contextlib import closing
from types import SimpleNamespace

import pytest
import test_passkeys
from test_passkeys import ORIGIN, login_options, passkey_login, post_json, refused, register

from workbook.passkey import Authenticator, Browser
from workbook.testing.app_under_test import connect_database, make_app, serving
from workbook.testing.servers import free_port, stage_environment
from workbook.visitor import submit_form

from round_three_helpers import NEW_PASSWORD, cookies, wrong_recovery_code
from stage_helpers import (
    PASSWORD,
    AuthActions,
    copy_database,
    is_redirect_to,
    location,
    logged_in,
    owner_browser,
    use_recovery,
    verify,
)

DAY = 24 * 3600

# The passkey tests' fixtures: alice's browser with its authenticator, and alice with one passkey.
browser, with_passkey = test_passkeys.browser, test_passkeys.with_passkey


def every_text(database):
    """Every value of every table of a copy of the database file, as text (blobs decoded as latin-1)."""
    with closing(connect_database(database)) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    yield value.decode("latin-1") if isinstance(value, bytes) else str(value)


# ----------------------------------------------------------------- the thief of the database file

def long_texts(client, app):
    """{where: value} for every text of 16 characters or more that the browser holds: in the signed session
    cookie (decoded) and in every other cookie (a device cookie's random id)."""
    found = {}
    found.update({f"session[{key!r}]": value for key, value in client.session_items().items()
                  if isinstance(value, str) and len(value) >= 16})
    for cookie in cookies(client):
        if app.config["SESSION_COOKIE_NAME"] not in cookie.key and len(cookie.value) >= 16:
            found[f"cookie {cookie.key}"] = cookie.value
    return found


@pytest.mark.stages(7)
def test_a_stolen_database_file_holds_no_live_session_or_device_id(signed_in, app, stage, tmp_path):
    """README: "the cookie holds only its random id (sid)", kept on the server as its sha256 ("so the file
    holds no live id"), and the device cookie's "random id kept as a sha256"; at stage 8 the passkey
    ceremony's random id too. Nothing a browser holds is in the database file as it is."""
    live = long_texts(signed_in.client, app)
    assert any(key.startswith("cookie") for key in live), "a full login gives this browser a device cookie"
    if stage >= 8:
        stranger = app.test_client()
        login_options(stranger)
        live.update({f"login ceremony: {key}": value for key, value in long_texts(stranger, app).items()})
    copy_database(app.config["DATABASE"], tmp_path / "stolen.sqlite")
    values = list(every_text(tmp_path / "stolen.sqlite"))
    found = [name for name, token in live.items() if any(token in value for value in values)]
    assert not found, f"a thief of the database file reads these as the browser holds them: {found}"


@pytest.mark.stages(7)
def test_a_secret_kept_in_plain_text_is_encrypted_at_the_next_start(enrolled, app, target, tmp_path, clock):
    """README: "Secrets an older stage 7 kept in plain text are encrypted at the next start", and still
    log in."""
    secret = enrolled.phone.account.secret
    with closing(connect_database(app.config["DATABASE"])) as db, db:
        db.execute("UPDATE users SET totp_secret = ?", (secret,))  # as an older stage 7 kept it
    restarted = make_app(target[0], app.config.copy())
    copy_database(restarted.config["DATABASE"], tmp_path / "stolen.sqlite")
    assert not any(secret in value for value in every_text(tmp_path / "stolen.sqlite")), (
        "after a restart the database file still holds the secret in plain text")
    owner = AuthActions(restarted.test_client(), enrolled.phone)
    clock.advance(30)
    assert location(owner.login()) == "/verify-2fa"
    assert is_redirect_to(verify(owner.client, enrolled.phone.code()), "/dashboard")


# ----------------------------------------------------------------- someone with the password

@pytest.mark.stages(7)
def test_recovery_guesses_close_the_strangers_recovery_step_never_the_owners_browser(enrolled, app, clock):
    """README ("does not do"): a password holder failing recovery codes closes them for browsers the
    account does not trust (the owner's new browser waits too, as the sentence now says); the owner's
    trusted browser still signs in with a recovery code (its own count)."""
    owner = owner_browser(app, enrolled, clock)
    mallory = AuthActions(app.test_client(), enrolled.phone)
    fake = wrong_recovery_code(enrolled.recovery_codes[-1])
    response = None
    for _ in range(200):
        if mallory.client.get("/verify-2fa").status_code != 200:
            mallory.login()
        response = use_recovery(mallory.client, fake)
        if response.status_code == 429:
            if int(response.headers["Retry-After"]) > DAY:
                break
            clock.advance(int(response.headers["Retry-After"]))
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > DAY, "no ceiling reached"
    clock.advance(60)
    new_browser = AuthActions(app.test_client(), enrolled.phone)
    assert location(new_browser.login()) == "/verify-2fa"
    assert use_recovery(new_browser.client, enrolled.recovery_codes[1]).status_code == 429, (
        "from a browser the account does not trust, the recovery step is closed with the strangers'")
    assert location(owner.login()) == "/verify-2fa"
    assert is_redirect_to(use_recovery(owner.client, enrolled.recovery_codes[0]), "/dashboard"), (
        "the owner's trusted browser was refused her recovery code because of a password holder's guesses")


@pytest.mark.stages(7)
def test_the_dashboard_lists_the_latest_ten_events_newest_first(enrolled, app, clock):
    """Contract: "the dashboard lists the latest ten in <ul id="recent-activity"> (one <li> per event,
    newest first)". After a new trusted browser and a stranger's wrong password, someone with the
    password fails 11 codes: the ten listed are ten of those."""
    owner = owner_browser(app, enrolled, clock)
    clock.advance(60)
    assert AuthActions(app.test_client(), enrolled.phone).login(password="not her password").status_code == 401
    mallory = AuthActions(app.test_client(), enrolled.phone)
    failed = 0
    while failed < 11:
        if mallory.client.get("/verify-2fa").status_code != 200:
            assert location(mallory.login()) == "/verify-2fa"
        response = verify(mallory.client, enrolled.phone.wrong_code())
        if response.status_code == 429:
            clock.advance(int(response.headers["Retry-After"]))
        else:
            assert response.status_code == 401
            failed += 1
    clock.advance(60)
    assert location(owner.login()) == "/verify-2fa"
    assert is_redirect_to(verify(owner.client, enrolled.phone.code()), "/dashboard")
    owner.client.get("/dashboard")  # what was flashed is shown once
    html = owner.client.get("/dashboard").get_data(as_text=True)
    listed = re.findall(r"<li[^>]*>(.*?)</li>", html.split('id="recent-activity"')[1].split("</ul>")[0], re.S)
    assert len(listed) == 10, f"{len(listed)} events listed, not the latest ten"
    texts = {re.sub(r"[0-9:-]+", "", item) for item in listed}  # the same event at other times: one text
    assert len(texts) == 1 and "code" in listed[0].lower(), f"not the ten newest (the failed codes): {listed}"


# ----------------------------------------------------------------- odd input

ODD_FORMS = [
    {},
    {"username": "alice", "password": "x" * 300, "otp": "1" * 30, "recovery_code": "a" * 70, "new_password": "y" * 300},
    {"username": "\x00alice", "password": "\x00", "otp": "\u0661\u0662\u0663\u0664\u0665\u0666",
     "recovery_code": "\uff41" * 24, "new_password": "\x00" * 10, "passkeys_only": "\x00"},
    {"username": ["alice", "bob"], "password": ["a", "b"], "otp": ["123456", "1"], "recovery_code": ["a", "b"],
     "new_password": ["a", "b"], "passkeys_only": ["on", "off"]},
    {"password": "a wrong password", "new_password": "orbit lantern meadow staple"},  # no code, no recovery code
    {"recovery_code": ""},
]
ODD_BODIES = [b"\xff\xfe", b"[]", b'{"a": 1e999999}', b'"x"', b"null", b'{"credential": []}']


def odd_requests(client, rules):
    """Every route, each odd form and body: the (method, url, input) that got a 500."""
    failed = []
    for rule in rules:
        url = rule.rule.replace("<int:passkey_id>", "1")
        for form in ODD_FORMS:
            for method in ("GET", "POST"):
                if method in rule.methods and client.open(url, method=method, data=form).status_code >= 500:
                    failed.append((method, url, form))
        if "POST" in rule.methods:
            for body in ODD_BODIES:
                if client.post(url, data=body, content_type="application/json").status_code >= 500:
                    failed.append(("POST JSON", url, body))
    return failed


@pytest.mark.stages(7)
def test_odd_form_and_json_input_is_never_a_500(signed_in, app, clock):
    """Contract: bad input gets a 4xx page and changes nothing, never a 500. Every route, signed in, after
    the password step only, and as nobody, with odd forms and bodies (the CSRF check off, to reach the views)."""
    app.config["WTF_CSRF_ENABLED"] = False
    rules = [SimpleNamespace(rule=rule, methods=methods, endpoint=endpoint)
             for rule, methods, endpoint in app.routes() if endpoint != "static"]
    rules.sort(key=lambda rule: rule.endpoint.endswith("logout"))  # logging out last
    failed = odd_requests(signed_in.client, rules)
    clock.advance(30)
    pending = AuthActions(app.test_client(), signed_in.phone)
    assert location(pending.login()) == "/verify-2fa"
    failed += odd_requests(pending.client, rules)
    failed += odd_requests(app.test_client(), rules)
    assert not failed, f"a 500 for: {failed}"


# ----------------------------------------------------------------- stage 8: passkeys

@pytest.mark.stages(8)
def test_a_registration_with_transports_of_any_json_type_is_no_500(signed_in, browser):
    """Stage 8 README: "errors as {"error": ...} with a 4xx status, never a 500, whatever is missing,
    malformed or too large". ``transports`` is not signed: a signed-in user may send anything in it."""
    client = signed_in.client
    options = post_json(client, "/passkeys/register/options").get_json()
    credential = browser.create(ORIGIN, options)
    credential["response"]["transports"] = [{}, ["usb"], None, 7, "internal"]
    response = post_json(client, "/passkeys/register/verify", {"credential": credential, "nickname": "odd"})
    assert response.status_code == 201, (response.status_code, response.get_data(as_text=True)[:300])
    assert "odd" in client.get("/passkeys").get_data(as_text=True)


@pytest.mark.stages(8)
def test_a_relay_on_a_sibling_origin_gets_no_session_and_no_device_cookie(with_passkey, browser, app, sibling_allowed):
    """Stage 8: a refused passkey login (a relay on a sibling subdomain) changes nothing for it: no
    session, and no device cookie that would let its later password guesses skip the strangers' count."""
    relay = app.test_client()
    response = passkey_login(relay, browser, origin="http://evil.localhost:5008")
    refused(response, 401)
    assert relay.get_cookie(app.config["DEVICE_COOKIE_NAME"]) is None, "the relay's browser got a device cookie"
    assert not logged_in(relay)
    assert passkey_login(relay, browser).status_code == 200  # the same browser at the real origin: in
    assert relay.get_cookie(app.config["DEVICE_COOKIE_NAME"]) is not None


@pytest.mark.stages(8)
def test_passkeys_only_refuses_password_and_code_to_a_new_browser_and_changes_nothing(with_passkey, browser, app,
                                                                                   clock):
    """Stage 8 README: under "passkeys only", a password and a code no longer log in; so nothing needing a
    login (/replace-phone, /change-password, /passkeys) opens to whoever has both."""
    owner = with_passkey.client
    assert passkey_login(owner, browser).status_code == 200
    assert submit_form(owner, "/passkeys", {"passkeys_only": "on"}, action="/passkeys/only").status_code < 400
    clock.advance(30)
    mallory = AuthActions(app.test_client(), with_passkey.phone)  # the password and the phone's codes
    assert location(mallory.login()) == "/verify-2fa"
    assert verify(mallory.client, with_passkey.phone.code()).status_code == 403
    for url in ("/replace-phone", "/change-password", "/passkeys", "/dashboard"):
        assert is_redirect_to(mallory.client.get(url), "/login"), url


@pytest.mark.stages(8)
def test_a_challenge_for_adding_a_passkey_does_not_log_in(with_passkey, browser, app, clock):
    """Stage 8 README: each challenge is kept "with its purpose": one asked for to add a passkey, signed
    as a login, opens no session."""
    client = with_passkey.client
    assert passkey_login(client, browser).status_code == 200
    options = post_json(client, "/passkeys/register/options").get_json()  # in the same (signed-in) browser
    credential = browser.get(ORIGIN, {"challenge": options["challenge"], "rpId": "localhost",
                                      "allowCredentials": [], "userVerification": "required"})
    refused(post_json(client, "/passkeys/login/verify", {"credential": credential}), 401)


@pytest.mark.stages(8)
def test_a_passkey_a_relayed_session_added_outlives_a_new_password_and_passkeys_only(with_passkey, browser, app,
                                                                                     clock):
    """Stage 8 README (as it now says): a relay's session, in its first 5 minutes, can add a passkey of the
    attacker's own; a new password and "passkeys only" end the session, not that passkey; removing it on
    /passkeys does."""
    alice = with_passkey
    relayed = AuthActions(app.test_client(), alice.phone)  # what the relay kept: a full login of alice's
    clock.advance(30)
    assert location(relayed.login()) == "/verify-2fa"
    assert is_redirect_to(verify(relayed.client, alice.phone.code()), "/dashboard")
    mallorys = Browser(Authenticator())
    added = register(relayed.client, mallorys, nickname="mallory")
    assert added.status_code == 201

    clock.advance(60)  # alice notices "passkey added", changes her password, turns passkeys only on
    assert passkey_login(alice.client, browser).status_code == 200
    assert submit_form(alice.client, "/change-password", {"password": PASSWORD, "new_password": NEW_PASSWORD,
                                                          "otp": alice.phone.code()}).status_code < 400
    assert submit_form(alice.client, "/passkeys", {"passkeys_only": "on"}, action="/passkeys/only").status_code < 400
    assert not logged_in(relayed.client)
    mallory = app.test_client()
    assert passkey_login(mallory, mallorys).status_code == 200, "the attacker's passkey no longer logs in"

    # The way out the README gives: the passkeys page lists it, and removing it ends its sessions.
    assert "mallory" in alice.client.get("/passkeys").get_data(as_text=True)
    removed = submit_form(alice.client, "/passkeys", {}, action=f"/passkeys/{added.get_json()['id']}/delete")
    assert removed.status_code < 400
    assert not logged_in(mallory)
    refused(passkey_login(app.test_client(), mallorys), 401)


@pytest.mark.stages(7)
@pytest.mark.parametrize("way", ["python", "flask"])
def test_the_documented_local_runs_start_no_debugger(target, tmp_path, way):
    """README: "Either way is a local run over plain HTTP, without the debugger (FLASK_LOCAL_RUN=1,
    which app.py sets itself)". Werkzeug's debugger answers its own resource URL; without it, a 404."""
    folder, _number = target
    port = free_port()
    environment = {**stage_environment(port, tmp_path / "users.sqlite"), "FLASK_DEBUG": "0"}
    for name in ("FLASK_SECRET_KEY", "FLASK_TOTP_ENCRYPTION_KEYS"):
        environment.pop(name)  # a local run makes its own
    if way == "python":
        arguments = [str(folder / "app.py")]
    else:
        arguments = ["-m", "flask", "--app", str(folder / "app.py"), "run", "--port", str(port)]
        environment["FLASK_LOCAL_RUN"] = "1"
    environment.pop("FLASK_DEBUG")  # nothing set: as in a fresh terminal
    with serving(arguments, port, env=environment, cwd=tmp_path, path="/login") as base_url:  # where the app runs
        answer = urllib.request.urlopen(base_url + "/login")
        assert answer.status == 200
        try:
            debugger = urllib.request.urlopen(base_url + "/?__debugger__=yes&cmd=resource&f=debugger.js")
            served = debugger.headers.get_content_type()
        except urllib.error.HTTPError as error:
            served = error.code
        assert "javascript" not in str(served), (
            f"{way}: Werkzeug's debugger is on (it runs any code typed into a failing page)")
