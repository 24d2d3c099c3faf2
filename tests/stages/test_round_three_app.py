"""Stage 7, round three: each new rule of the contract, one focused test that fails without it.

(The black-box suite written from the contract alone is test_round_three.py; these tests were
written beside the app, and also look into the database where a rule is about what it holds.)
"""
import os
import re
import stat
from contextlib import closing

import pytest
from cryptography.fernet import Fernet

from workbook import pages
from workbook.testing.accounts import USERNAME
from workbook.testing.app_under_test import NotifyRecorder, connect_database, make_app, requests_at_once
from workbook.visitor import submit_form

from stage_helpers import (
    PASSWORD,
    AuthActions,
    Authenticator,
    app_config,
    is_redirect_to,
    location,
    logged_in,
    owner_browser,
    verify,
)

pytestmark = pytest.mark.stages(7)

DAY = 24 * 3600
STRANGER_GUESS = "a stranger's guess"


def rows(app, sql, *args):
    # closed here, not whenever it is collected: closing the last connection removes the -wal file, which
    # made test_expired_rows_are_purged_for_everyone's read of it fail now and then
    with closing(connect_database(app.config["DATABASE"])) as db, db:
        return db.execute(sql, args).fetchall()


# ----------------------------------------------------------------- nobody can keep the owner out

def test_the_device_cookie_is_set_after_a_full_login_and_kept_at_logout(enrolled, app, clock):
    owner = AuthActions(app.test_client(), enrolled.phone)
    clock.advance(30)
    device = app.config["DEVICE_COOKIE_NAME"]  # stage7_device, stage8_device
    response = owner.login()
    assert device not in response.headers.get("Set-Cookie", ""), "trusted after the password alone"
    response = verify(owner.client, enrolled.phone.code())
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{device}="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=7776000" in cookie, cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    assert token not in str(rows(app, "SELECT * FROM devices")), "the id is kept hashed"
    owner.logout()
    assert owner.client.get_cookie(device) is not None, "logging out ended the device cookie"


def test_strangers_failing_passwords_never_refuse_the_trusted_browser(enrolled, app, clock):
    owner = owner_browser(app, enrolled, clock)
    stranger = AuthActions(app.test_client(), None)
    for day in range(3):  # three days of a stranger trying whenever the pause allows
        for _ in range(40):
            response = stranger.login(password=STRANGER_GUESS)
            if response.status_code == 429:
                clock.advance(int(response.headers["Retry-After"]))
        clock.advance(DAY)
        assert location(owner.login()) == "/verify-2fa", f"day {day}: the owner's right password was refused"
        assert is_redirect_to(verify(owner.client, enrolled.phone.code()), "/dashboard")
        owner.logout()


def test_password_failures_from_strangers_close_the_strangers_bucket_only(enrolled, app, clock):
    owner = owner_browser(app, enrolled, clock)
    stranger = AuthActions(app.test_client(), None)
    for _ in range(5):
        assert stranger.login(password=STRANGER_GUESS).status_code == 401
    assert stranger.login(password=STRANGER_GUESS).status_code == 429
    assert AuthActions(app.test_client(), None).login().status_code == 429, "another stranger: the same bucket"
    assert location(owner.login()) == "/verify-2fa"


def test_a_password_holder_failing_codes_never_closes_the_owners_code_step(enrolled, app, clock):
    owner = owner_browser(app, enrolled, clock)
    mallory = AuthActions(app.test_client(), enrolled.phone)
    for _ in range(60):
        if mallory.client.get("/verify-2fa").status_code != 200:
            mallory.login()
        response = verify(mallory.client, enrolled.phone.wrong_code())
        if response.status_code == 429:
            clock.advance(int(response.headers["Retry-After"]))
    clock.advance(30)
    owner.login()
    assert is_redirect_to(verify(owner.client, enrolled.phone.code()), "/dashboard")


def test_unknown_names_are_throttled_per_client_address(client, auth):
    for attempt in range(5):
        assert auth.login(f"nobody{attempt}", "some password").status_code == 401
    response = auth.login("nobody-else", "some password")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


def test_registrations_are_throttled_per_client_address(app, client):
    statuses = [AuthActions(app.test_client(), None).register(f"user{n}", PASSWORD).status_code for n in range(32)]
    assert 429 in statuses and statuses.count(302) <= 30, statuses


def test_x_forwarded_for_is_believed_only_behind_a_proxy(target, tmp_path, clock):
    for behind_proxy in (False, True):
        app = make_app(target[0], app_config(tmp_path / str(behind_proxy), clock, BEHIND_PROXY=behind_proxy))
        statuses = []
        for attempt in range(6):
            client = app.test_client()
            token = pages.parse(client.get("/login").data).forms[-1].fields["csrf_token"]
            statuses.append(client.post("/login", data={"username": f"nobody{attempt}", "password": "x" * 9,
                                                        "csrf_token": token},
                                        headers={"X-Forwarded-For": f"203.0.113.{attempt}"}).status_code)
        assert (429 in statuses) is not behind_proxy, (behind_proxy, statuses)


# ----------------------------------------------------------------- the ceiling counts failures, not streaks

def test_an_owner_signing_in_between_does_not_reset_the_ceiling(enrolled, app, clock):
    """Mallory (password, no phone) guesses 29 codes, alice signs in, Mallory guesses on: still 30 in 30 days."""
    owner = AuthActions(app.test_client(), enrolled.phone)  # a browser the account does not trust yet
    mallory = AuthActions(app.test_client(), enrolled.phone)
    start, guesses = clock(), 0
    while clock() - start < 30 * DAY and guesses <= 30:
        if mallory.client.get("/verify-2fa").status_code != 200:
            mallory.login()
        response = verify(mallory.client, enrolled.phone.wrong_code())
        if response.status_code == 429:
            clock.advance(int(response.headers["Retry-After"]))
            continue
        guesses += 1
        if guesses % 10 == 0:  # the owner signs in now and then, from a new browser each time
            clock.advance(30)
            owner = AuthActions(app.test_client(), enrolled.phone)
            owner.login()
            verify(owner.client, enrolled.phone.code())
        clock.advance(1)
    assert guesses <= 30, f"{guesses} code guesses in 30 days"


def test_a_recovery_code_still_works_when_the_strangers_code_ceiling_is_reached(enrolled, app, clock):
    mallory = AuthActions(app.test_client(), enrolled.phone)
    for _ in range(200):
        if mallory.client.get("/verify-2fa").status_code != 200:
            mallory.login()
        response = verify(mallory.client, enrolled.phone.wrong_code())
        if response.status_code == 429:
            if int(response.headers["Retry-After"]) > DAY:
                break
            clock.advance(int(response.headers["Retry-After"]))
    assert int(response.headers["Retry-After"]) > DAY, "the ceiling was never reached"
    owner = AuthActions(app.test_client(), enrolled.phone)
    clock.advance(30)
    owner.login()
    response = submit_form(owner.client, "/verify-2fa", {"recovery_code": enrolled.recovery_codes[0]})
    assert is_redirect_to(response, "/dashboard"), (
        "the owner's saved recovery code did not get her in once strangers had reached the code ceiling")


# ----------------------------------------------------------------- binding a phone needs every factor

def test_the_name_is_reserved_while_its_registration_lasts(auth, app, clock):
    auth.register()
    assert AuthActions(app.test_client(), None).register("ALICE", "another long passphrase").status_code == 409
    clock.advance(11 * 60)
    assert location(AuthActions(app.test_client(), None).register("alice", "another long passphrase")) == "/enable-2fa"


def test_replace_phone_swaps_only_if_the_old_phone_is_still_in_place(signed_in, app, clock):
    """Another worker replaced the phone between this session's two steps: this swap changes nothing."""
    clock.advance(30)
    first = submit_form(signed_in.client, "/replace-phone", {"password": PASSWORD, "otp": signed_in.phone.code()})
    new_phone = Authenticator(clock)
    new_phone.scan(first.data)
    with connect_database(app.config["DATABASE"]) as db:  # what the other worker's swap leaves behind
        db.execute("UPDATE users SET secret_version = secret_version + 1")
    before = rows(app, "SELECT totp_secret FROM users")[0][0]
    response = submit_form(signed_in.client, "/replace-phone", {"otp": new_phone.code()})
    assert response.status_code == 409
    assert rows(app, "SELECT totp_secret FROM users")[0][0] == before


def test_change_password_needs_every_factor_and_ends_the_other_sessions(signed_in, app, clock):
    other = AuthActions(app.test_client(), signed_in.phone)
    clock.advance(30)
    other.login()
    verify(other.client, signed_in.phone.code())
    new = "a brand new passphrase here"
    clock.advance(30)
    fields = {"password": PASSWORD, "new_password": new, "otp": signed_in.phone.code()}
    assert submit_form(signed_in.client, "/change-password", {**fields, "password": "wrong one"}).status_code == 401
    assert submit_form(signed_in.client, "/change-password", {**fields, "new_password": "Summer2024!"}).status_code == 400
    assert is_redirect_to(submit_form(signed_in.client, "/change-password", fields), "/dashboard")
    assert logged_in(signed_in.client) and not logged_in(other.client)
    clock.advance(30)
    assert other.login().status_code == 401
    assert location(other.login(password=new)) == "/verify-2fa"
    assert rows(app, "SELECT COUNT(*) FROM devices")[0][0] == 1, "other browsers are still trusted"


# ----------------------------------------------------------------- the owner hears of it

def test_events_are_stored_listed_and_notified(enrolled, app, clock):
    recorder = NotifyRecorder()
    app.config["NOTIFY"] = recorder
    clock.advance(30)
    stranger = AuthActions(app.test_client(), enrolled.phone)
    stranger.login(password=STRANGER_GUESS)
    clock.advance(30)
    stranger.login()
    verify(stranger.client, enrolled.phone.wrong_code())
    owner = AuthActions(app.test_client(), enrolled.phone)
    owner.login()
    verify(owner.client, enrolled.phone.code())
    page = pages.parse(owner.client.get("/dashboard").data)
    assert "2 failed attempts since your last sign-in" in page.text
    items = re.findall(r"<li[^>]*>(.*?)</li>", page.html.split('id="recent-activity"')[1].split("</ul>")[0], re.S)
    assert len(items) == 3, items  # wrong password, wrong code, a new trusted browser
    told = recorder.calls
    kinds = [event["kind"] for user, event in told]
    assert kinds == ["password_failed", "code_failed", "new_trusted_browser"] and {u for u, _e in told} == {"alice"}
    for _user, event in told:
        assert enrolled.phone.account.secret not in str(event) and PASSWORD not in str(event)


def test_each_event_carries_the_time_it_happened_by_the_apps_clock(enrolled, app, clock):
    """An event's ``time`` is when it happened, by the app's clock (CLOCK): not the machine's clock, not rounded,
    not the time of an earlier event of the same kind."""
    recorder = NotifyRecorder()
    app.config["NOTIFY"] = recorder
    mallory = AuthActions(app.test_client(), enrolled.phone)
    happened = []
    for wait in (31, 37):  # neither is a whole minute: a time rounded to the minute is off for one of the two
        clock.advance(wait)
        mallory.login()
        happened.append(clock())
        verify(mallory.client, enrolled.phone.wrong_code())
    times = [event["time"] for _user, event in recorder.calls if event["kind"] == "code_failed"]
    assert times == pytest.approx(happened, abs=0.5), (
        f"two wrong codes at {happened} (the app's CLOCK) were told to NOTIFY with the times {times}")


# ----------------------------------------------------------------- secrets at rest

def test_the_database_holds_no_totp_secret(enrolled, app):
    with open(app.config["DATABASE"], "rb") as file:
        data = file.read()
    assert enrolled.phone.account.secret.encode() not in data
    stored = rows(app, "SELECT totp_secret FROM users")[0][0]
    assert stored.startswith("gAAAAA"), "not a Fernet token"


def test_key_rotation_keeps_every_secret(target, tmp_path, clock):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    first = make_app(target[0], app_config(tmp_path, clock, TOTP_ENCRYPTION_KEYS=old))
    alice = AuthActions(first.test_client(), Authenticator(clock))
    alice.enrol()
    rotated = make_app(target[0], app_config(tmp_path, clock, TOTP_ENCRYPTION_KEYS=f"{new},{old}"))
    token = rows(rotated, "SELECT totp_secret FROM users")[0][0]
    assert Fernet(new).decrypt(token.encode()).decode() == alice.phone.account.secret, "not encrypted anew"
    only_new = make_app(target[0], app_config(tmp_path, clock, TOTP_ENCRYPTION_KEYS=new))
    browser = AuthActions(only_new.test_client(), alice.phone)
    clock.advance(30)
    browser.login()
    assert is_redirect_to(verify(browser.client, alice.phone.code()), "/dashboard")


def test_totp_keys_are_required_outside_debug_mode(target, tmp_path, environment):
    environment.delete("FLASK_DEBUG")
    environment.delete("FLASK_TOTP_ENCRYPTION_KEYS")
    environment.set("FLASK_SECRET_KEY", "c1d2e3f4a5b6978812345abcdefa9b8c7d6e5f4")
    with pytest.raises(Exception, match="FLASK_TOTP_ENCRYPTION_KEYS"):
        make_app(target[0], {"DATABASE": str(tmp_path / "users.sqlite")})


def test_debug_mode_keeps_its_totp_key_in_the_instance_folder(target, tmp_path, environment):
    environment.set("FLASK_DEBUG", "1")
    environment.delete("FLASK_TOTP_ENCRYPTION_KEYS")
    app = make_app(target[0], {"DATABASE": str(tmp_path / "users.sqlite")})
    path = os.path.join(app.instance_path, "totp_encryption_keys")
    assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0


def test_an_old_scrypt_hash_is_replaced_at_the_next_right_login(enrolled, app, clock):
    from werkzeug.security import generate_password_hash
    with connect_database(app.config["DATABASE"]) as db:
        db.execute("UPDATE users SET password_hash = ?", (generate_password_hash(PASSWORD, "scrypt"),))
    app.config["PASSWORD_HASH_METHOD"] = "argon2id"
    assert location(enrolled.login()) == "/verify-2fa"
    assert rows(app, "SELECT password_hash FROM users")[0][0].startswith("$argon2id$")


def test_a_hash_made_the_configured_way_is_left_alone(enrolled, app, clock):
    """PASSWORD_HASH_METHOD "scrypt" names werkzeug's "scrypt:32768:8:1": no second hash per login."""
    from werkzeug.security import generate_password_hash
    stored = generate_password_hash(PASSWORD, "scrypt")
    with connect_database(app.config["DATABASE"]) as db:
        db.execute("UPDATE users SET password_hash = ?", (stored,))
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    assert location(enrolled.login()) == "/verify-2fa"
    assert rows(app, "SELECT password_hash FROM users")[0][0] == stored


# ----------------------------------------------------------------- small holes

@pytest.mark.parametrize("length", [73, 100, 256])
def test_long_passwords_are_no_500(auth, length):
    password = ("correct horse battery staple " * 10)[:length]
    assert location(auth.register(password=password)) == "/enable-2fa"


@pytest.mark.parametrize("password", ["Summer2024!", "Passw0rd!2024", "flask2fa", "Alice2024!"])
def test_guessable_passwords_are_refused(auth, password):
    assert auth.register(password=password).status_code == 400


def test_head_never_runs_a_post_branch(auth, app, clock):
    """HEAD skips the CSRF check: a view that tests ``method == "GET"`` ran its POST branch for it."""
    auth.enrol()
    codes = pages.parse(auth.client.get("/recovery-codes").data).list_items
    assert auth.client.head("/recovery-codes").status_code == 200
    assert pages.parse(auth.client.get("/recovery-codes").data).list_items == codes, "a HEAD confirmed them saved"
    clock.advance(30)
    data = {"password": PASSWORD, "otp": auth.phone.code()}
    assert auth.client.head("/replace-phone", data=data).status_code == 200
    assert not pages.parse(auth.client.get("/replace-phone").data).data_uri_images(), "a HEAD proved the factors"
    app.test_client().head("/register", data={"username": "mallory", "password": PASSWORD})
    assert AuthActions(app.test_client(), None).register("mallory").status_code in (302, 303), "HEAD reserved the name"


def test_a_new_login_ends_the_browsers_earlier_session(signed_in, app, clock):
    count = rows(app, "SELECT COUNT(*) FROM sessions")[0][0]
    clock.advance(30)
    signed_in.login()
    assert rows(app, "SELECT COUNT(*) FROM sessions")[0][0] == count


def test_logout_racing_the_enrolment_page_is_no_500(auth):
    auth.register()
    with connect_database(auth.client.application.config["DATABASE"]) as db:
        db.execute("DELETE FROM sessions")  # another worker ended it
    assert auth.client.get("/enable-2fa").status_code in (302, 303)


def test_a_double_clicked_enrolment_is_no_500(auth):
    auth.register()
    page = auth.client.get("/enable-2fa")
    auth.phone.scan(page.data)
    form = pages.parse(page.data).post_form(action="/enable-2fa")
    cookie = auth.client.get_cookie(auth.client.application.config["SESSION_COOKIE_NAME"]).value
    first = auth.client.post(form.action, data=form.data(otp=auth.phone.code()))
    assert first.status_code in (302, 303)
    again = auth.client.application.test_client()  # the second click: the same cookie, the same form
    again.set_cookie(auth.client.application.config["SESSION_COOKIE_NAME"], cookie)
    assert again.post(form.action, data=form.data(otp=auth.phone.code())).status_code < 500


def test_expired_rows_are_purged_for_everyone(auth, app, clock):
    auth.enrol()  # recovery codes shown, never saved; the session left open
    codes = pages.parse(auth.client.get("/recovery-codes").data).list_items
    other = AuthActions(app.test_client(), None)
    other.register("bob")  # a registration never finished
    clock.advance(31 * DAY)
    app.test_client().get("/login")  # anyone's request
    assert rows(app, "SELECT COUNT(*) FROM recovery_codes_to_show")[0][0] == 0
    assert rows(app, "SELECT COUNT(*) FROM sessions")[0][0] == 0
    written = b"".join(open(app.config["DATABASE"] + suffix, "rb").read()
                       for suffix in ("", "-wal") if os.path.exists(app.config["DATABASE"] + suffix))
    assert not any(code.encode() in written for code in codes), "a plain recovery code is still in the files"


@pytest.mark.parametrize("key", ["a" * 32, "changeme" * 4, "1234567890" * 4])
def test_an_obviously_non_random_key_is_refused(target, tmp_path, environment, key):
    environment.delete("FLASK_DEBUG")
    environment.set("FLASK_TOTP_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    with pytest.raises(Exception, match="FLASK_SECRET_KEY"):
        make_app(target[0], {"DATABASE": str(tmp_path / "users.sqlite"), "SECRET_KEY": key})


def test_x_forwarded_prefix_must_be_a_path(target, tmp_path, clock):
    app = make_app(target[0], app_config(tmp_path, clock, BEHIND_PROXY=True))
    client = app.test_client()
    assert "//evil.example" not in client.get("/", headers={"X-Forwarded-Prefix": "//evil.example"}).headers["Location"]
    page = client.get("/login", headers={"X-Forwarded-Prefix": "/user/ana/proxy/5007"}).get_data(as_text=True)
    assert 'action="/user/ana/proxy/5007/login"' in page


def test_the_session_cookie_is_host_prefixed_when_secure(target, tmp_path, clock):
    app = make_app(target[0], app_config(tmp_path, clock, SESSION_COOKIE_SECURE=True))
    response = app.test_client().get("/login", base_url="https://localhost")
    name = app.config["SESSION_COOKIE_NAME"].removeprefix("__Host-")  # stage7_session, stage8_session
    assert name.startswith("stage") and response.headers["Set-Cookie"].startswith(f"__Host-{name}=")


# ----------------------------------------------------------------- racing requests (threads, one database)

def at_once(requests):
    """[(browser, method, url, options)] released together, each from a thread of its own where the app runs;
    their responses (or the exceptions they raised)."""
    return requests_at_once(requests)


def test_registrations_of_one_name_at_once_reserve_it_once(app):
    sent = []
    for browser in [app.test_client() for _ in range(6)]:
        form = pages.parse(browser.get("/register").data).post_form(action="/register")  # each holds its form's token
        assert form is not None, "/register has no form"
        sent.append((browser, "POST", form.action or "/register",
                     {"data": form.data(username=USERNAME, password=PASSWORD)}))
    statuses = [r.status_code for r in at_once(sent)]
    assert statuses.count(302) == 1 and set(statuses) <= {302, 409}, statuses


def test_enrolment_sent_several_times_at_once_makes_one_account(auth, app):
    auth.register()
    page = auth.client.get("/enable-2fa")
    auth.phone.scan(page.data)
    form = pages.parse(page.data).post_form(action="/enable-2fa")
    cookie = auth.client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    clicks = []
    for _ in range(4):  # a double (quadruple) click: the same cookie and form, sent together
        browser = app.test_client()
        browser.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
        clicks.append((browser, "POST", form.action, {"data": form.data(otp=auth.phone.code())}))
    statuses = [r.status_code if not isinstance(r, Exception) else repr(r) for r in at_once(clicks)]
    assert all(isinstance(s, int) and s < 500 for s in statuses), statuses
    assert rows(app, "SELECT COUNT(*) FROM users")[0][0] == 1
