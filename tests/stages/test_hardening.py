"""Stage 7, round one: each protection in the contract's "Stage 7 only" list, attacked the usual ways.

Part of the behaviour suite, so an app reaches stage 7 only if it passes these
(``--app-dir DIR --stage 7``, as the grader and check_my_app(7) run it).
Round two is in test_round_two.py. The clock is a FixedClock moved by hand: no test sleeps.
"""
import logging
import re
import sqlite3
from contextlib import closing

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from workbook import pages
from workbook.cookies import read_session_cookie, session_cookie, session_cookie_name
from workbook.testing.app_under_test import connect_database, make_app
from workbook.visitor import submit_form

from stage_helpers import (
    PASSWORD,
    AuthActions,
    Authenticator,
    app_config,
    confirm_saved,
    is_redirect_to,
    location,
    logged_in,
    save_recovery_codes,
    show_recovery_codes,
    use_recovery,
    verify,
)

pytestmark = pytest.mark.stages(7)

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


# ----------------------------------------------------------------- fixtures and helpers

@pytest.fixture
def stage_folder(target):
    """The folder of the app under test (app_steps/step_07_hardening, or --app-dir)."""
    return target[0]


@pytest.fixture
def pending(enrolled, clock):
    """30 s after enrolling, alice typed her password again: the code is next (``signed_in``, in
    conftest.py, is one step further)."""
    clock.advance(30)
    assert location(enrolled.login()) == "/verify-2fa"
    return enrolled


def database_bytes(app):
    """Everything SQLite has written: the database file and its write-ahead log."""
    data = b""
    for suffix in ("", "-wal"):
        try:
            with open(app.config["DATABASE"] + suffix, "rb") as file:
                data += file.read()
        except FileNotFoundError:
            pass
    return data


def user_row(app, username="alice"):
    with connect_database(app.config["DATABASE"]) as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()


def csrf_token_of(client, url="/login"):
    return pages.parse(client.get(url).data).forms[-1].fields["csrf_token"]


# ----------------------------------------------------------------- strict input

MALFORMED = ["", " ", "12345", "1234567", "12345a", "١٢٣٤٥٦", "１２３４５６", "123456\n", "123\n456",
             "12345６", "0x1234", "-12345", "1" * 21]


def test_malformed_codes_are_a_clear_400(pending):
    for value in MALFORMED:
        response = verify(pending.client, value)
        assert response.status_code == 400, repr(value)
        assert "6 digits" in pages.parse(response.data).text, repr(value)
    response = pending.client.post("/verify-2fa", data={"csrf_token": csrf_token_of(pending.client, "/verify-2fa")})
    assert response.status_code == 400, "a missing otp field"
    # Malformed input is not a guess: it does not count toward the throttle.
    assert is_redirect_to(verify(pending.client, pending.phone.code()), "/dashboard")


def test_code_typed_with_a_space_is_accepted(pending):
    code = pending.phone.code()
    assert is_redirect_to(verify(pending.client, f"{code[:3]} {code[3:]}"), "/dashboard")


def test_malformed_code_at_enrolment_is_a_400(auth):
    auth.register()
    for value in ("", "1234567", "١٢٣٤٥٦"):
        response = submit_form(auth.client, "/enable-2fa", {"otp": value})
        assert response.status_code == 400, repr(value)
    assert user_row(auth.client.application) is None, "the account exists only once its phone is confirmed"


@pytest.mark.parametrize("steps, accepted", [(-1, True), (1, True), (-2, False), (2, False)])
def test_one_step_either_side_and_no_more(pending, clock, steps, accepted):
    clock.advance(300)  # away from the enrolment's step, which counts as used
    response = verify(pending.client, pending.phone.code(steps))
    assert is_redirect_to(response, "/dashboard") is accepted
    if not accepted:
        assert response.status_code == 401


# ----------------------------------------------------------------- replay

def test_a_code_works_once_in_the_same_session(pending):
    code = pending.phone.code()
    assert is_redirect_to(verify(pending.client, code), "/dashboard")
    pending.logout()
    pending.login()
    response = verify(pending.client, code)
    assert response.status_code == 401
    assert "used already" in pages.parse(response.data).text
    assert not logged_in(pending.client)


def test_a_code_works_once_across_sessions(pending, app, clock):
    other = AuthActions(app.test_client(), pending.phone)
    other.login()
    code = pending.phone.code()
    assert is_redirect_to(verify(pending.client, code), "/dashboard")
    assert verify(other.client, code).status_code == 401
    assert not logged_in(other.client)


def test_a_code_works_once_for_its_own_account_and_no_other(pending, app, clock):
    """A code used marks its step used for that account alone: bob, who enrolled one step earlier, logs
    in with his own code of the step alice has just used."""
    bob = AuthActions(app.test_client(), Authenticator(clock))
    bob.enrol(username="bob")
    clock.advance(30)
    assert is_redirect_to(verify(pending.client, pending.phone.code()), "/dashboard")
    bob_again = AuthActions(app.test_client(), bob.phone)
    assert location(bob_again.login(username="bob")) == "/verify-2fa"
    response = verify(bob_again.client, bob.phone.code())
    assert is_redirect_to(response, "/dashboard"), (
        f"bob's code was refused ({response.status_code}) after alice used hers of the same step: "
        "her step was marked used for his account too")


def test_a_code_works_once_for_an_account_with_no_step_stored_yet(enrolled, app, clock):
    """An account an older stage 7 made may have no step stored yet (NULL): its right code logs in."""
    with closing(connect_database(app.config["DATABASE"])) as db, db:
        db.execute("UPDATE users SET last_timecode = NULL")
    clock.advance(30)
    assert location(enrolled.login()) == "/verify-2fa"
    response = verify(enrolled.client, enrolled.phone.code())
    assert is_redirect_to(response, "/dashboard"), f"no step stored yet, and the right code got {response.status_code}"


def test_a_code_works_once_across_workers(stage_folder, pending, tmp_path, clock):
    """Two app instances on one database, as two gunicorn workers are."""
    second_worker = make_app(stage_folder, app_config(tmp_path, clock))
    other = AuthActions(second_worker.test_client(), pending.phone)
    other.login()
    code = pending.phone.code()
    assert is_redirect_to(verify(pending.client, code), "/dashboard")
    assert verify(other.client, code).status_code == 401


def test_the_enrolment_code_counts_as_used(auth, clock):
    auth.enrol()
    enrolment_code = auth.phone.code()
    auth.logout()
    auth.login()  # same 30-second step
    assert verify(auth.client, enrolment_code).status_code == 401
    clock.advance(30)
    assert is_redirect_to(verify(auth.client, auth.phone.code()), "/dashboard")


def test_an_older_step_is_refused_after_a_newer_one(pending):
    assert is_redirect_to(verify(pending.client, pending.phone.code(1)), "/dashboard")
    pending.logout()
    pending.login()
    # The current step's code is still in the window, but a later step was used.
    assert verify(pending.client, pending.phone.code(0)).status_code == 401


def test_the_step_is_stored_not_the_code(pending, app):
    assert is_redirect_to(verify(pending.client, pending.phone.code()), "/dashboard")
    row = user_row(app)
    assert row["last_timecode"] == int(pending.phone.clock()) // 30
    assert pending.phone.code() not in str(tuple(row))


# ----------------------------------------------------------------- throttling

def test_sixth_attempt_waits_even_with_the_right_code(pending, app, clock):
    for _ in range(5):
        assert verify(pending.client, pending.phone.wrong_code()).status_code == 401
    response = verify(pending.client, pending.phone.code())
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    assert "Wait 30 seconds" in pages.parse(response.data).text
    assert pages.parse(response.data).form("otp") is not None
    assert not logged_in(pending.client)

    fresh = AuthActions(app.test_client(), pending.phone)  # a new browser: no session to drop
    assert is_redirect_to(fresh.login(), "/verify-2fa")
    clock.advance(10)
    response = verify(fresh.client, pending.phone.code())
    assert response.status_code == 429 and response.headers["Retry-After"] == "20"


def test_delay_grows_then_success_resets_it(pending, clock):
    client, phone = pending.client, pending.phone
    for _ in range(5):
        verify(client, phone.wrong_code())
    clock.advance(30)
    assert verify(client, phone.wrong_code()).status_code == 401  # the 6th failure ...
    response = verify(client, phone.code())
    assert response.status_code == 429 and response.headers["Retry-After"] == "60"  # ... doubles the wait
    clock.advance(60)
    assert verify(client, phone.wrong_code()).status_code == 401
    assert verify(client, phone.code()).headers["Retry-After"] == "120"
    clock.advance(120)
    assert is_redirect_to(verify(client, phone.code()), "/dashboard")

    pending.logout()
    clock.advance(30)
    pending.login()
    for _ in range(5):  # the count started again from 0
        assert verify(client, phone.wrong_code()).status_code == 401
    assert verify(client, phone.code()).status_code == 429


def test_wrong_recovery_codes_have_a_throttle_of_their_own(pending):
    for _ in range(5):
        assert use_recovery(pending.client, "aaaa-bbbb-cccc-dddd-eeee-ffff").status_code == 401
    response = use_recovery(pending.client, "aaaa-bbbb-cccc-dddd-eeee-ffff")
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert is_redirect_to(verify(pending.client, pending.phone.code()), "/dashboard"), \
        "guessing recovery codes closed the code step too"


def test_wrong_codes_at_enrolment_make_no_account(auth, app):
    """Round three: the registering session sees its own secret, so a guess there wins nothing;
    the account is made by the right code only."""
    auth.register()
    auth.phone.scan(auth.client.get("/enable-2fa").data)
    for _ in range(5):
        response = submit_form(auth.client, "/enable-2fa", {"otp": auth.phone.wrong_code()})
        assert response.status_code == 401 and "no-store" in response.headers["Cache-Control"]
    assert user_row(app) is None
    assert is_redirect_to(submit_form(auth.client, "/enable-2fa", {"otp": auth.phone.code()}), "/recovery-codes")
    assert user_row(app)["totp_secret"] is not None


def code_failures(app):
    with connect_database(app.config["DATABASE"]) as db:
        return db.execute("SELECT COUNT(*) FROM failures WHERE kind = 'code'").fetchone()[0]


def test_the_count_lives_in_the_database(pending, app):
    for _ in range(3):
        verify(pending.client, pending.phone.wrong_code())
    assert code_failures(app) == 3
    assert is_redirect_to(verify(pending.client, pending.phone.code()), "/dashboard")
    assert code_failures(app) == 3, "round three: a success ends the pause, never the count"


# ----------------------------------------------------------------- recovery codes

def test_enrolment_shows_ten_recovery_codes_until_saved(auth, app):
    response = auth.enrol()
    assert location(response) == "/recovery-codes"
    page = auth.client.get("/recovery-codes")
    assert "no-store" in page.headers["Cache-Control"]
    codes = pages.parse(page.data).list_items
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-7]{4}(-[a-z2-7]{4}){5}", code) for code in codes), codes
    assert show_recovery_codes(auth.client) == codes, "a reload lost them before they were saved"
    assert is_redirect_to(confirm_saved(auth.client), "/dashboard"), "I have saved them"
    assert show_recovery_codes(auth.client) == [], "shown again after they were saved"
    assert logged_in(auth.client)


def test_recovery_codes_are_stored_hashed(auth, app):
    auth.enrol()
    codes = save_recovery_codes(auth.client)
    data = database_bytes(app)
    for code in codes:
        assert code.encode() not in data and code.replace("-", "").encode() not in data
    with connect_database(app.config["DATABASE"]) as db:
        assert db.execute("SELECT COUNT(*) FROM recovery_codes").fetchone()[0] == 10


def test_another_worker_can_show_the_recovery_codes(stage_folder, auth, tmp_path, clock):
    auth.enrol()
    second_worker = make_app(stage_folder, app_config(tmp_path, clock)).test_client()
    second_worker.set_cookie(session_cookie_name(second_worker), session_cookie(auth.client))
    assert len(save_recovery_codes(second_worker)) == 10
    assert show_recovery_codes(auth.client) == [], "saved on one worker, still shown on another"


def test_a_recovery_code_logs_in_once(enrolled):
    auth, codes = enrolled, enrolled.recovery_codes
    auth.login()
    response = use_recovery(auth.client, codes[3].upper().replace("-", " "))  # typed loosely
    assert is_redirect_to(response, "/dashboard"), (
        "a recovery code enrolment showed, typed in capitals with spaces for its dashes, did not get alice in")
    assert "9 left" in pages.parse(auth.client.get("/dashboard").data).text
    auth.logout()
    auth.login()
    assert use_recovery(auth.client, codes[3]).status_code == 401
    assert is_redirect_to(use_recovery(auth.client, codes[4]), "/dashboard")


def test_malformed_recovery_codes_are_a_400(pending):
    # "ijk1" has a digit 1 and "аbcd" a Cyrillic а: neither is in the base32 alphabet.
    for value in ("", "abcd", "abcd-efgh-ijkm-nopq", "abcd-efgh-ijk1-nopq-rstu-vwxy", "аbcd-efgh-ijkm-nopq-rstu-vwxy",
                  "abcd-efgh-ijkm-nopq-rstu-vwxy\n", "abcd-efgh-ijkm-nopq-rstu-vwxyz", "x" * 70):
        assert use_recovery(pending.client, value).status_code == 400, repr(value)


def test_another_users_recovery_code_does_not_work(enrolled, app, clock):
    bob = AuthActions(app.test_client(), Authenticator(clock))
    bob.enrol("bob")
    bob.logout()
    bob.login("bob")
    assert use_recovery(bob.client, enrolled.recovery_codes[0]).status_code == 401
    assert verify(bob.client, enrolled.phone.code(1)).status_code == 401
    assert not logged_in(bob.client)


# ----------------------------------------------------------------- replacing the phone

def test_replace_phone_needs_password_and_a_fresh_code(signed_in, app, clock):
    auth = signed_in
    login_code = auth.phone.code()
    assert submit_form(auth.client, "/replace-phone", {"password": PASSWORD, "otp": login_code}).status_code == 401
    clock.advance(30)
    fresh = auth.phone.code()
    assert submit_form(auth.client, "/replace-phone", {"password": "not the password", "otp": fresh}).status_code == 401
    assert submit_form(auth.client, "/replace-phone", {"password": PASSWORD, "otp": ""}).status_code == 400
    old = user_row(app)["totp_secret"]
    clock.advance(30)
    response = submit_form(auth.client, "/replace-phone", {"password": PASSWORD, "otp": auth.phone.code()})
    assert response.status_code == 200
    new_phone = Authenticator(clock)
    assert new_phone.scan(response.data).secret != auth.phone.account.secret
    assert user_row(app)["totp_secret"] == old, "nothing changes before the new phone's code"
    response = submit_form(auth.client, "/replace-phone", {"otp": new_phone.code()})
    assert is_redirect_to(response, "/recovery-codes")
    assert user_row(app)["totp_secret"] != old
    assert logged_in(auth.client), "this session goes on"
    assert len(show_recovery_codes(auth.client)) == 10, "new recovery codes"


def test_replace_phone_needs_a_full_login(pending):
    client = pending.client
    response = client.post("/replace-phone", data={"password": PASSWORD, "otp": pending.phone.code(),
                                                   "csrf_token": csrf_token_of(client, "/verify-2fa")})
    assert location(response) == "/login"
    assert location(client.get("/replace-phone")) == "/login"
    assert location(pending.client.application.test_client().get("/replace-phone")) == "/login"


def test_replace_phone_failures_end_the_session_not_the_account(signed_in, app, clock):
    """A stolen session cannot guess its way to a new phone, nor lock the owner out trying."""
    auth = signed_in
    clock.advance(30)
    for _ in range(3):
        response = submit_form(auth.client, "/replace-phone", {"password": "a guess at it", "otp": auth.phone.code()})
        assert response.status_code == 401
    response = submit_form(auth.client, "/replace-phone", {"password": PASSWORD, "otp": auth.phone.code()})
    assert is_redirect_to(response, "/login") and not logged_in(auth.client)
    assert code_failures(app) == 0, "the account's code step paid for the session's guesses"
    clock.advance(30)
    auth.login()
    assert is_redirect_to(verify(auth.client, auth.phone.code()), "/dashboard"), "the owner was locked out"


def test_other_sessions_end_when_the_phone_is_replaced(signed_in, app, clock):
    auth = signed_in
    other = AuthActions(app.test_client(), auth.phone)
    clock.advance(30)
    other.login()
    assert is_redirect_to(verify(other.client, auth.phone.code()), "/dashboard")
    clock.advance(30)
    page = submit_form(auth.client, "/replace-phone", {"password": PASSWORD, "otp": auth.phone.code()})
    new_phone = Authenticator(clock)
    new_phone.scan(page.data)
    assert logged_in(other.client), "proving the factors alone changes nothing"
    submit_form(auth.client, "/replace-phone", {"otp": new_phone.code()})
    assert not logged_in(other.client)
    assert logged_in(auth.client)


# ----------------------------------------------------------------- the order of the steps

def test_code_pages_need_the_password_first(client):
    token = csrf_token_of(client)
    for url in ("/verify-2fa", "/enable-2fa"):
        assert location(client.get(url)) == "/login"
        assert location(client.post(url, data={"otp": "123456", "csrf_token": token})) == "/login"
    assert location(client.post("/verify-2fa", data={"recovery_code": "aaaa-bbbb-cccc-dddd-eeee-ffff", "csrf_token": token})) == "/login"
    assert location(client.get("/recovery-codes")) == "/login"


def test_dashboard_is_closed_while_the_code_is_pending(pending):
    for url in ("/dashboard", "/recovery-codes", "/replace-phone", "/change-password"):
        assert location(pending.client.get(url)) == "/login", url


def test_a_signed_in_account_without_a_phone_counts_as_signed_out(signed_in, app):
    """Both factors or none: a session whose account has no TOTP secret any more (as an older stage 7's
    may have) opens no page that needs a full login."""
    with connect_database(app.config["DATABASE"]) as db:
        db.execute("UPDATE users SET totp_secret = NULL WHERE username = 'alice'")
    for url in ("/dashboard", "/recovery-codes", "/replace-phone", "/change-password"):
        assert location(signed_in.client.get(url)) == "/login", url


@pytest.mark.parametrize("older_file", [False, True], ids=["this stage's file", "an older stage 7's file"])
def test_a_name_logs_in_whatever_its_case(enrolled, app, target, clock, older_file):
    """alice and ALICE are one name: typed either way, the password step finds her account. On a file an earlier
    stage 7 made too, whose username column compared names case by case: the app rebuilds it at its next start."""
    if older_file:
        with connect_database(app.config["DATABASE"]) as db:
            table = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'").fetchone()[0]
            db.execute(re.sub(r"\s+COLLATE\s+NOCASE", "", table.replace("CREATE TABLE users", "CREATE TABLE older", 1),
                              flags=re.IGNORECASE))
            db.execute("INSERT INTO older SELECT * FROM users")
            db.execute("DROP TABLE users")
            db.execute("ALTER TABLE older RENAME TO users")
            db.execute("CREATE UNIQUE INDEX users_username_nocase ON users (username COLLATE NOCASE)")
            assert db.execute("SELECT 1 FROM users WHERE username = 'ALICE'").fetchone() is None, "not an older file"
        app = make_app(target[0], app.config.copy())
    for name in ("ALICE", "Alice"):
        clock.advance(30)
        owner = AuthActions(app.test_client(), enrolled.phone)
        assert location(owner.login(username=name)) == "/verify-2fa", f"{name} is not alice"
        assert is_redirect_to(verify(owner.client, enrolled.phone.code()), "/dashboard")


def test_pending_login_expires_after_ten_minutes(pending, clock):
    clock.advance(599)
    assert pending.client.get("/verify-2fa").status_code == 200
    code = pending.phone.code()
    clock.advance(2)
    response = pending.client.post("/verify-2fa", data={"otp": code, "csrf_token": csrf_token_of(pending.client, "/login")})
    assert location(response) == "/login"
    page = pages.parse(pending.client.get("/login").data)
    assert "10 minutes" in page.text
    assert not logged_in(pending.client)
    assert location(pending.client.get("/verify-2fa")) == "/login", "the pending login is gone for good"


def test_pending_enrolment_expires_too(auth, clock):
    auth.register()
    clock.advance(601)
    assert location(auth.client.get("/enable-2fa")) in ("/login", "/register")
    assert location(auth.client.get("/enable-2fa")) == "/login", "the registration is gone for good"


def test_session_is_renewed_at_each_step(pending):
    client = pending.client
    client.get("/verify-2fa")
    before = read_session_cookie(session_cookie(client))
    assert is_redirect_to(verify(client, pending.phone.code()), "/dashboard")
    after = read_session_cookie(session_cookie(client))
    assert "pending_user_id" not in after and after.get("user_id")
    assert before["csrf_token"] != after.get("csrf_token"), "the old session's token lived on"


# ----------------------------------------------------------------- cookies

def forge(data, key):
    """A session cookie signed with ``key``, as Flask would sign it."""
    forger = Flask("forger")
    forger.secret_key = key
    return SecureCookieSessionInterface().get_signing_serializer(forger).dumps(data)


def test_a_cookie_forged_with_the_guides_key_gets_nowhere(signed_in, app, clock):
    user_id = user_row(app)["id"]
    signed_in.client.get("/dashboard")  # shows (and so takes out of the session) the messages after login
    genuine = read_session_cookie(session_cookie(signed_in.client))
    browser = app.test_client()
    for key in ("my_secret_key", app.secret_key):
        browser.set_cookie(session_cookie_name(browser), forge({"user_id": user_id}, key))
        assert location(browser.get("/dashboard")) == "/login", "a user_id alone is no session"
        browser.set_cookie(session_cookie_name(browser), forge({"pending_user_id": user_id, "pending_since": clock()}, key))
        assert location(browser.get("/verify-2fa")) == "/login"
    browser.set_cookie(session_cookie_name(browser), forge(genuine, "my_secret_key"))
    assert not logged_in(browser)
    # The genuine session's content, signed with the app's real key, does get in: the test forges the right thing.
    browser.set_cookie(session_cookie_name(browser), forge(genuine, app.secret_key))
    assert logged_in(browser)


def test_a_tampered_cookie_is_ignored(enrolled, app, clock):
    bob = AuthActions(app.test_client(), Authenticator(clock))
    bob.enrol("bob")
    value = session_cookie(bob.client)
    assert read_session_cookie(value)["user_id"] == 2
    _payload, rest = value.lstrip(".").split(".", 1)
    alice_payload = forge({"user_id": 1}, "any key").split(".", 1)[0]
    bob.client.set_cookie(session_cookie_name(bob.client), f"{alice_payload}.{rest}")  # alice's id, bob's signature
    assert not logged_in(bob.client)
    flipped = value[:-10] + ("A" if value[-10] != "A" else "B") + value[-9:]  # one character of the signature
    bob.client.set_cookie(session_cookie_name(bob.client), flipped)
    assert not logged_in(bob.client)


def test_session_cookie_holds_no_secret_code_or_password(auth, clock):
    auth.register()
    auth.login()
    account = auth.phone.scan(auth.client.get("/enable-2fa").data)
    pending_content = str(read_session_cookie(session_cookie(auth.client)))
    assert account.secret not in pending_content
    code = auth.phone.code()
    submit_form(auth.client, "/enable-2fa", {"otp": code})
    codes = show_recovery_codes(auth.client)
    content = str(read_session_cookie(session_cookie(auth.client)))
    for forbidden in (account.secret, code, PASSWORD, *codes):
        assert forbidden not in content


def test_cookie_flags_by_default(stage_folder, tmp_path, clock, environment):
    environment.delete("FLASK_SESSION_COOKIE_SECURE")
    environment.delete("FLASK_DEBUG")
    config = app_config(tmp_path, clock)
    del config["SESSION_COOKIE_SECURE"]
    client = make_app(stage_folder, config).test_client()
    set_cookie = client.get("/login", base_url="https://localhost").headers["Set-Cookie"]
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie


def test_secure_flag_can_be_turned_off_from_the_environment(stage_folder, tmp_path, clock, environment):
    environment.set("FLASK_SESSION_COOKIE_SECURE", "false")
    config = app_config(tmp_path, clock)
    del config["SESSION_COOKIE_SECURE"]
    assert make_app(stage_folder, config).config["SESSION_COOKIE_SECURE"] is False


# ----------------------------------------------------------------- CSRF

def test_post_without_csrf_token_is_a_400_and_changes_nothing(client, auth):
    response = client.post("/register", data={"username": "mallory", "password": PASSWORD})
    assert response.status_code == 400, "a form without its token is a bad request: 400"
    # The page a forged form gets (lesson 07's Build, step 6): the app's error page, which says nothing changed
    # and what to do, in the words the student chose.
    text = pages.parse(response.data).text
    assert re.search(r"\bnothing\b[^.]*\bchanged\b", text, re.I), f"the page must say that nothing was changed: {text!r}"
    assert re.search(r"\breload\b", text, re.I), f"the page must say to reload the page and send the form again: {text!r}"
    assert 'role="alert"' in response.get_data(as_text=True), "the app's error page, its message in role=alert"
    assert "Traceback" not in response.get_data(as_text=True)
    client.get("/login")  # now the session has a token, but the POST still has none
    assert client.post("/login", data={"username": "mallory", "password": PASSWORD}).status_code == 400
    assert 400 <= auth.login("mallory").status_code < 500, "mallory was registered"


@pytest.mark.parametrize("token", ["forged", "from another key", "from another session"])
def test_forged_csrf_token_is_a_400(stage_folder, signed_in, app, clock, tmp_path, token):
    auth = signed_in
    clock.advance(30)
    if token == "from another key":
        other = make_app(stage_folder, app_config(tmp_path / "other", clock, SECRET_KEY="another key"))
        token = csrf_token_of(other.test_client())
    elif token == "from another session":
        token = csrf_token_of(app.test_client())
    fields = {"password": PASSWORD, "otp": auth.phone.code(), "csrf_token": token}
    assert auth.client.post("/replace-phone", data=fields).status_code == 400
    assert auth.client.post("/change-password", data={**fields, "new_password": "a new long passphrase"}).status_code == 400
    assert auth.client.post("/logout", data={"csrf_token": token}).status_code == 400
    assert logged_in(auth.client)
    assert user_row(app)["totp_secret"] is not None


def test_enrolment_without_csrf_token_leaves_2fa_off(auth, app):
    auth.register()
    auth.phone.scan(auth.client.get("/enable-2fa").data)
    assert auth.client.post("/enable-2fa", data={"otp": auth.phone.code()}).status_code == 400
    assert user_row(app) is None
    assert not logged_in(auth.client)


def test_every_post_form_carries_a_token(signed_in, app):
    def post_forms(client, url):
        return [f for f in pages.parse(client.get(url).data).forms if f.method == "post"]

    for url in ("/dashboard", "/recovery-codes", "/replace-phone", "/change-password"):
        assert all(form.fields.get("csrf_token") for form in post_forms(signed_in.client, url)), url
    bob = AuthActions(app.test_client(), signed_in.phone)
    bob.register("bob")
    bob.login("bob")
    for url in ("/register", "/login", "/enable-2fa"):
        forms = post_forms(bob.client, url)
        assert forms and all(form.fields.get("csrf_token") for form in forms), url
    assert len(post_forms(signed_in.client, "/dashboard")) == 1, "the logout button is a form too"


# ----------------------------------------------------------------- limits and headers

def test_oversized_body_is_a_clear_413(client):
    token = csrf_token_of(client)
    response = client.post("/login", data={"username": "alice", "password": "x" * 20_000, "csrf_token": token})
    assert response.status_code == 413
    assert "form" in pages.parse(response.data).text
    assert "Traceback" not in response.get_data(as_text=True)


def test_every_response_has_the_security_headers(auth, client):
    responses = [client.get("/login"), client.get("/no-such-page"), client.get("/dashboard"),
                 client.get("/static/style.css"), client.post("/login")]
    auth.register()
    auth.login()
    enrolment = client.get("/enable-2fa")
    assert "no-store" in enrolment.headers["Cache-Control"], "the page shows the secret"
    for response in responses + [enrolment]:
        assert response.headers.get("Content-Security-Policy") == CSP, response.request.path
        assert response.headers.get("X-Content-Type-Options") == "nosniff"


# ----------------------------------------------------------------- the secret key, and logs

def test_no_secret_key_outside_debug_stops_the_app(stage_folder, tmp_path, environment):
    environment.delete("FLASK_SECRET_KEY")
    environment.delete("FLASK_DEBUG")
    try:
        make_app(stage_folder, {"DATABASE": str(tmp_path / "users.sqlite")})
    except SystemExit:  # not an Exception: pytest.raises(Exception) would let it through
        pytest.fail("SystemExit: gunicorn restarts a worker that exits this way, forever")
    except Exception as stopped:
        message = str(stopped)
    else:
        pytest.fail("the app started without a key")
    assert "FLASK_SECRET_KEY" in message and "\n" not in message
    assert ".venv/bin/python" in message and "--debug" not in message, "a command a plain terminal runs, no debugger"


def test_debug_mode_runs_without_a_key(stage_folder, tmp_path, environment, app_log):
    environment.delete("FLASK_SECRET_KEY")
    environment.set("FLASK_DEBUG", "1")
    app = make_app(stage_folder, {"DATABASE": str(tmp_path / "users.sqlite")})
    assert app.secret_key and "FLASK_SECRET_KEY" in app_log.text
    assert app.config["SESSION_COOKIE_SECURE"] is False, "debug mode is a local run over plain HTTP"


def test_key_from_the_environment(stage_folder, tmp_path, environment):
    key = "from the environment, 32 characters or more"
    environment.set("FLASK_SECRET_KEY", key)
    environment.set("FLASK_TOTP_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    environment.delete("FLASK_DEBUG")
    assert make_app(stage_folder, {"DATABASE": str(tmp_path / "users.sqlite")}).secret_key == key


def test_codes_and_secrets_are_never_logged(auth, clock, app_log):
    app_log.set_level(logging.DEBUG)
    auth.enrol()
    codes = show_recovery_codes(auth.client)
    used = [auth.phone.code()]
    auth.logout()
    clock.advance(30)
    auth.login()
    verify(auth.client, auth.phone.wrong_code())
    used.append(auth.phone.code())
    verify(auth.client, used[-1])
    for secret in (auth.phone.account.secret, PASSWORD, *used, *codes):
        assert secret not in app_log.text


def test_database_uses_wal_for_several_workers(app):
    with connect_database(app.config["DATABASE"]) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
