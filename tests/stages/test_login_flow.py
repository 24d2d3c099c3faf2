"""Stages 6-7: password, then the page in between, then the protected page."""
import re
from pathlib import Path

import pytest

from workbook import pages
from workbook.cookies import read_session_cookie, session_cookie
from workbook.testing.app_under_test import connect_database, make_app
from workbook.visitor import submit_form

from stage_helpers import PASSWORD, AuthActions, Authenticator, location

pytestmark = pytest.mark.stages(6, 7)



def test_register_then_login_goes_to_enrolment(auth, stage):
    response = auth.register()
    if stage >= 7:  # round three: straight to enrolment, in the same session; no account before it
        assert response.status_code in (302, 303) and location(response) == "/enable-2fa"
        assert 400 <= auth.login().status_code < 500, "the account exists before its phone is confirmed"
        return
    assert response.status_code in (302, 303) and location(response) == "/login"
    response = auth.login()
    assert response.status_code in (302, 303) and location(response) == "/enable-2fa"


def test_taken_username_is_refused(auth):
    auth.register()
    response = auth.register(password="another password")
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("username, password", [("alice", "short"), ("", PASSWORD), ("alice", "")])
def test_bad_registration_is_refused(auth, username, password):
    response = auth.register(username, password)
    assert 400 <= response.status_code < 500
    assert auth.login(username or "alice", password or PASSWORD).status_code >= 400, "no user was created"


def test_passwords_are_stored_hashed(app, auth):
    auth.register()
    with open(app.config["DATABASE"], "rb") as database:
        assert PASSWORD.encode() not in database.read()


def test_passwords_are_hashed_with_scrypt_by_default(target, tmp_path, stage):
    """The suite hashes cheaply to run fast; left to itself, the app uses werkzeug's scrypt
    (stage 7, round three: Argon2id with at least OWASP's parameters, 19 MiB, 2 passes)."""
    folder, _number = target
    app = make_app(folder, {"TESTING": True, "SECRET_KEY": "test key, not a real one " * 2,
                            "DATABASE": str(tmp_path / "default.sqlite"), "SESSION_COOKIE_SECURE": False})
    AuthActions(app.test_client(), None).register()
    written = b"".join(Path(app.config["DATABASE"] + suffix).read_bytes()
                       for suffix in ("", "-wal") if Path(app.config["DATABASE"] + suffix).exists())
    if stage >= 7:
        found = re.search(rb"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", written)
        assert found and int(found[1]) >= 19 * 1024 and int(found[2]) >= 2, "not Argon2id at OWASP's minimum"
        return
    assert b"scrypt:32768:8:1$" in written


def test_wrong_password_and_unknown_user_look_the_same(auth):
    auth.register()
    wrong_password = auth.login(password="not the password")
    unknown_user = auth.login(username="mallory")
    assert 400 <= wrong_password.status_code < 500
    assert wrong_password.status_code == unknown_user.status_code
    assert pages.parse(wrong_password.data).text == pages.parse(unknown_user.data).text


def test_sql_injection_in_username_does_not_log_in(auth):
    auth.register()
    response = auth.login(username="alice' OR '1'='1' --", password="anything at all")
    assert 400 <= response.status_code < 500


def test_enrolment_shows_qr_for_this_user(client, auth, authenticator):
    auth.register()
    auth.login()
    response = client.get("/enable-2fa")
    assert response.status_code == 200
    assert "no-store" in response.headers.get("Cache-Control", "")
    account = authenticator.scan(response.data)
    assert account.name == "alice" and account.issuer == "Flask 2FA Workbook"
    assert account.secret in pages.parse(response.data).compact_text(), "show the manual-entry key too"


@pytest.mark.stages(6)  # stage 7 gives each login its own secret: test_stage7_sessions.py
def test_pending_secret_survives_a_second_login(client, auth, authenticator):
    auth.register()
    auth.login()
    first = authenticator.scan(client.get("/enable-2fa").data).secret
    auth.login()
    assert authenticator.scan(client.get("/enable-2fa").data).secret == first


def test_wrong_code_at_enrolment_leaves_2fa_off(client, auth, authenticator, stage):
    if location(auth.register()) != "/enable-2fa":
        auth.login()
    authenticator.scan(client.get("/enable-2fa").data)
    response = submit_form(client, "/enable-2fa", {"otp": authenticator.wrong_code()})
    assert 400 <= response.status_code < 500
    assert client.get("/dashboard").status_code in (302, 303)
    if stage >= 7:  # no account yet; the same session may try again
        assert client.get("/enable-2fa").status_code == 200
        assert 400 <= auth.login().status_code < 500
    else:
        assert location(auth.login()) == "/enable-2fa"


def test_enrolment_completes_login(client, auth):
    auth.enrol()
    response = client.get("/dashboard")
    assert response.status_code == 200
    assert "alice" in pages.parse(response.data).text


def test_second_login_asks_for_a_code_and_never_shows_the_qr(client, enrolled, clock):
    clock.advance(30)
    response = enrolled.login()
    assert location(response) == "/verify-2fa"
    for url in ("/verify-2fa", "/enable-2fa"):
        response = client.get(url, follow_redirects=True)
        page = pages.parse(response.data)
        assert page.data_uri_images() == [], f"{url} shows a QR code to someone who only knows the password"
        assert enrolled.phone.account.secret not in page.compact_text()


def test_right_code_at_login_opens_the_dashboard(client, enrolled, clock):
    clock.advance(30)
    enrolled.login()
    response = submit_form(client, "/verify-2fa", {"otp": enrolled.phone.code()})
    assert response.status_code in (302, 303) and location(response) == "/dashboard"
    assert client.get("/dashboard").status_code == 200


@pytest.mark.parametrize("steps, accepted", [(-1, True), (1, True), (-2, False), (2, False)])
def test_verify_window(client, enrolled, clock, steps, accepted):
    clock.advance(300)
    enrolled.login()
    response = submit_form(client, "/verify-2fa", {"otp": enrolled.phone.code(steps)})
    assert (response.status_code in (302, 303)) is accepted


def test_wrong_code_at_login_stays_out(client, enrolled, clock):
    clock.advance(30)
    enrolled.login()
    response = submit_form(client, "/verify-2fa", {"otp": enrolled.phone.wrong_code()})
    assert 400 <= response.status_code < 500
    assert pages.parse(response.data).form("otp") is not None
    assert client.get("/dashboard").status_code in (302, 303)


@pytest.mark.parametrize("value", ["", "12345", "abcdef", "１２３４５６", "1" * 5000])
def test_malformed_code_at_login_is_a_400(client, enrolled, clock, value):
    clock.advance(30)
    enrolled.login()
    assert submit_form(client, "/verify-2fa", {"otp": value}).status_code == 400


def test_dashboard_needs_both_factors(client, auth):
    assert location(client.get("/dashboard")) == "/login"
    auth.register()
    auth.login()  # password only
    response = client.get("/dashboard")
    assert response.status_code in (302, 303) and location(response) == "/login"


@pytest.mark.parametrize("url", ["/enable-2fa", "/verify-2fa"])
def test_code_pages_need_the_password_first(client, url):
    response = client.get(url)
    assert response.status_code in (302, 303) and location(response) == "/login"
    # A code sent straight away (with the login form's hidden fields, such as the CSRF token,
    # so that it is the missing password step that stops it) is sent back to log in.
    login_form = pages.parse(client.get("/login").data).post_form(["username", "password"])
    hidden = {name: value for name, value in login_form.fields.items() if name not in ("username", "password")}
    response = client.post(url, data={**hidden, "otp": "123456"})
    assert response.status_code in (302, 303) and location(response) == "/login"


def test_logout_ends_the_session(client, signed_in):
    response = signed_in.logout()
    assert response.status_code in (302, 303) and location(response) == "/login"
    assert location(client.get("/dashboard")) == "/login"


def test_logout_by_get_is_refused_clearly(client, signed_in):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "Traceback" not in response.get_data(as_text=True)


def test_session_cookie_holds_no_secret_or_password(client, auth):
    auth.enrol()
    cookie = session_cookie(client)
    assert cookie is not None
    content = str(read_session_cookie(cookie))
    assert auth.phone.account.secret not in content
    assert PASSWORD not in content


def test_two_users_have_their_own_secrets(app, clock):
    alice = AuthActions(app.test_client(), Authenticator(clock))
    bob = AuthActions(app.test_client(), Authenticator(clock))
    alice.enrol("alice")
    bob.enrol("bob")
    assert alice.phone.account.secret != bob.phone.account.secret
    bob.logout()
    clock.advance(30)
    bob.login("bob")
    response = submit_form(bob.client, "/verify-2fa", {"otp": alice.phone.code()})
    assert 400 <= response.status_code < 500, "alice's code let bob in"
    # Bob's enrolment left Alice's secret as it was: her own phone still logs her in.
    alice.logout()
    clock.advance(30)
    alice.login("alice")
    response = submit_form(alice.client, "/verify-2fa", {"otp": alice.phone.code()})
    assert location(response) == "/dashboard", "after bob enrolled, alice's own phone no longer logs her in"


def test_users_live_in_the_database_file(app, auth):
    auth.register()
    with connect_database(app.config["DATABASE"]) as database:
        tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables, "the app keeps no tables in app.config['DATABASE']"


def test_opening_the_dashboard_mid_login_keeps_the_password_step(client, auth):
    auth.register()
    auth.login()
    assert location(client.get("/dashboard")) == "/login"
    assert client.get("/enable-2fa").status_code == 200, "the password step was forgotten"
