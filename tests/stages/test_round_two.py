"""Stage 7, round two: what an attacker with a stolen cookie or a known password still did.

Each test is one rule of the contract's "Round two" list, driven over HTTP as a
person (or a script) would, so it holds for any app at stage 7 (``--app-dir``).
Days of guessing are simulated with the fixed clock: nothing here sleeps.
"""
import os
import re
import secrets
import stat
from urllib.parse import urljoin

import pytest
from cryptography.fernet import Fernet

from workbook import pages
from workbook.cookies import session_cookie, session_cookie_name
from workbook.testing.app_under_test import make_app
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
    use_recovery,
    verify,
)

pytestmark = pytest.mark.stages(7)

DAY = 24 * 3600

# ----------------------------------------------------------------- helpers


def recovery_codes_on_page(client):
    response = client.get("/recovery-codes")
    return pages.parse(response.data).list_items if response.status_code == 200 else []


def copy_of_cookie(client, app):
    """A second browser holding a copy of ``client``'s session cookie (what a thief keeps)."""
    return browser_with_cookie(app, session_cookie(client))


def browser_with_cookie(app, value):
    """A fresh browser with this session cookie value (a thief sends the saved copy each time)."""
    browser = app.test_client()
    browser.set_cookie(session_cookie_name(browser), value)
    return browser


def log_in_again(user, clock):
    """A new login in the same browser: password, then a fresh code."""
    clock.advance(30)
    assert location(user.login()) == "/verify-2fa"
    assert is_redirect_to(verify(user.client, user.phone.code()), "/dashboard")


def second_browser(app, user):
    """The same person (same phone) in another browser, not logged in yet."""
    return AuthActions(app.test_client(), user.phone)


# ----------------------------------------------------------------- sessions end on the server

def test_a_copied_cookie_opens_nothing_after_logout(signed_in, app):
    thief = copy_of_cookie(signed_in.client, app)
    assert logged_in(thief), "the copy works while the session lives: the test copies the right thing"
    signed_in.logout()
    assert location(thief.get("/dashboard")) == "/login"


def test_logout_ends_every_session_of_the_user(signed_in, app, clock):
    laptop = second_browser(app, signed_in)
    log_in_again(laptop, clock)
    assert logged_in(laptop.client) and logged_in(signed_in.client)
    signed_in.logout()
    assert not logged_in(laptop.client)


def replace_phone(user, clock, **factors):
    """/replace-phone in ``user``'s browser: prove the factors, scan the new QR code, confirm; the new phone."""
    clock.advance(30)
    factors = factors or {"otp": user.phone.code()}
    page = submit_form(user.client, "/replace-phone", {"password": PASSWORD, **factors})
    assert page.status_code == 200, (
        f"/replace-phone answered {page.status_code} to the password and {' and '.join(sorted(factors))}: with the "
        "password, a right code or an unused recovery code should show the new phone's QR code (200)")
    new_phone = Authenticator(clock)
    new_phone.scan(page.data)
    assert location(submit_form(user.client, "/replace-phone", {"otp": new_phone.code()})) == "/recovery-codes"
    user.phone = new_phone
    return new_phone


def test_an_old_cookie_stays_dead_after_the_phone_is_replaced(signed_in, app, clock):
    """The issue's worst case: the README's remedy brought a stolen cookie back to life."""
    stolen = session_cookie(signed_in.client)
    other = second_browser(app, signed_in)
    log_in_again(other, clock)
    stolen = session_cookie(other.client)
    replace_phone(signed_in, clock)
    # The thief tries the saved cookie before alice has even looked at her new codes.
    response = browser_with_cookie(app, stolen).get("/recovery-codes")
    assert not pages.parse(response.data).list_items, "the old cookie reads the new recovery codes"
    assert not logged_in(browser_with_cookie(app, stolen)), "the old cookie came back to life"
    new_codes = recovery_codes_on_page(signed_in.client)
    assert len(new_codes) == 10
    assert not any(code.encode() in response.data for code in new_codes)


def test_a_password_only_session_can_never_enrol(auth, app, clock):
    """Round three: the account is made in the registering session; the password alone never shows a QR code."""
    auth.register()
    other = second_browser(app, auth)  # someone who knows the password
    assert 400 <= other.login().status_code < 500, "the account exists before its phone is confirmed"
    assert location(other.client.get("/enable-2fa")) in ("/login", "/register")
    auth.phone.scan(auth.client.get("/enable-2fa").data)
    submit_form(auth.client, "/enable-2fa", {"otp": auth.phone.code()})
    assert logged_in(auth.client)
    clock.advance(30)
    assert location(other.login()) == "/verify-2fa"
    response = other.client.get("/enable-2fa")
    assert response.status_code in (302, 303) and not pages.parse(response.data).data_uri_images()


def test_a_session_ends_after_thirty_idle_minutes(signed_in, clock):
    clock.advance(29 * 60)
    assert logged_in(signed_in.client)
    clock.advance(29 * 60)
    assert logged_in(signed_in.client), "a request within 30 minutes keeps the session alive"
    clock.advance(30 * 60 + 1)
    assert not logged_in(signed_in.client)


def test_a_session_ends_after_thirty_idle_minutes_even_just_after_a_sweep(signed_in, app, clock):
    """The idle limit holds at every request, not only when a sweep of expired sessions (stage 7 runs one
    at most once a minute) happens to come first: someone else's request 10 s before alice's session has
    been idle 30 minutes, then alice's own, 20 s later."""
    clock.advance(30 * 60 - 10)
    app.test_client().get("/login")
    clock.advance(20)
    assert not logged_in(signed_in.client), "a session idle for 30 minutes and 10 s still opened the dashboard"


def test_a_session_ends_twelve_hours_after_its_login(signed_in, clock):
    end = clock() + 12 * 3600  # signed_in has just logged alice in
    while clock() + 20 * 60 < end:  # busy all along: a request every 20 minutes
        clock.advance(20 * 60)
        assert logged_in(signed_in.client), "ended before 12 hours"
    clock.advance(end - 5 - clock())
    assert logged_in(signed_in.client), "ended before 12 hours"
    clock.advance(10)
    assert not logged_in(signed_in.client), "still open 12 hours after the login"


def test_the_session_limits_are_settings(target, environment, tmp_path, clock):
    environment.set("FLASK_SESSION_IDLE_SECONDS", "60")
    app = make_app(target[0], app_config(tmp_path, clock))
    user = AuthActions(app.test_client(), Authenticator(clock))
    user.enrol()
    clock.advance(59)
    assert logged_in(user.client)
    clock.advance(61)
    assert not logged_in(user.client), "FLASK_SESSION_IDLE_SECONDS=60 was ignored"


# ----------------------------------------------------------------- the guessing ceiling

def guess_as_fast_as_allowed(user, clock, days, stop_after):
    """Mallory's script: she knows the password, not the phone. The seconds at which she got a guess in
    (she stops once she has had ``stop_after`` + 1: the test has failed by then)."""
    mallory = AuthActions(user.client.application.test_client(), user.phone)
    start, guesses = clock(), []
    while clock() - start < days * DAY and len(guesses) <= stop_after:
        page = mallory.client.get("/verify-2fa")
        if page.status_code != 200:  # the pending login expired
            page = None
            response = mallory.login()
            if response.status_code == 429:  # the password step waits too
                clock.advance(int(response.headers.get("Retry-After", 60)))
                continue
        response = submit_form(mallory.client, "/verify-2fa", {"otp": user.phone.wrong_code()}, page=page)
        if response.status_code == 429:
            # No Retry-After: closed for good. She checks back every week.
            clock.advance(int(response.headers.get("Retry-After", 7 * DAY)))
        else:
            assert response.status_code == 401
            guesses.append(clock() - start)
            clock.advance(1)
    return guesses


def test_thirty_days_of_guessing_give_at_most_thirty_guesses(signed_in, clock):
    signed_in.logout()
    guesses = guess_as_fast_as_allowed(signed_in, clock, days=30, stop_after=30)
    assert len(guesses) <= 30, f"{len(guesses)} code guesses in 30 days"


def test_thirty_days_of_guessing_count_the_failures_before_the_owners_login_too(signed_in, app, clock):
    """Someone with alice's password guesses codes in a browser her account does not trust; then alice
    logs in, with the right code, in another browser it does not trust (a new laptop). Her success
    changes nothing for the guesser: the 29 guesses before it still count, so one more is all the
    30 days give."""
    signed_in.logout()
    start = clock()
    before = guess_as_fast_as_allowed(signed_in, clock, days=30, stop_after=28)
    assert len(before) == 29, f"the guesser got {len(before)} guesses in, not 29: the test guessed too little"
    clock.advance(15 * 60)  # the strangers' pause after her last guess: 15 minutes at most
    laptop = second_browser(app, signed_in)
    assert location(laptop.login()) == "/verify-2fa"
    assert is_redirect_to(verify(laptop.client, laptop.phone.code()), "/dashboard"), "alice could not log in"
    after = guess_as_fast_as_allowed(signed_in, clock, days=30 - (clock() - start) / DAY, stop_after=30)
    assert len(before) + len(after) <= 30, (
        f"{len(before)} code guesses, alice's login, then {len(after)} more in the same 30 days: "
        "her success wiped the failures before it")


def test_thirty_days_of_guessing_end_thirty_days_after_the_first_failure(signed_in, app, clock):
    """Once the ceiling stops a guesser, she waits until the first of her 30 failures is 30 days old: at
    that second she gets one guess checked (a 401), not another 429. Retry-After tells her so."""
    signed_in.logout()
    start = clock()
    guesses = guess_as_fast_as_allowed(signed_in, clock, days=1, stop_after=29)
    assert len(guesses) == 30, f"{len(guesses)} guesses in a day, not 30: the test guessed too little"
    mallory = second_browser(app, signed_in)
    for _pause in range(3):  # first the pause after her last guess, 15 minutes at most; then the ceiling
        assert location(mallory.login()) == "/verify-2fa"
        response = verify(mallory.client, signed_in.phone.wrong_code())
        assert response.status_code == 429 and "Retry-After" in response.headers, "30 guesses, and no ceiling"
        wait = int(response.headers["Retry-After"])
        if wait > 15 * 60:
            break
        clock.advance(wait)
    first_leaves = start + guesses[0] + 30 * DAY
    assert abs(clock() + wait - first_leaves) <= 1, (
        f"Retry-After {wait} s, but the first failure leaves the 30 days in {first_leaves - clock():.0f} s")
    clock.advance(first_leaves - clock())
    assert location(mallory.login()) == "/verify-2fa"
    response = verify(mallory.client, signed_in.phone.wrong_code())
    assert response.status_code == 401, (
        f"30 days after her first failure, the guess got {response.status_code}: a failure 30 days old still counts")


def test_an_owner_who_logs_in_often_is_never_refused(signed_in, clock):
    """alice logs in twice a day for 20 days in her own browser: 40 successes in 30 days, and no ceiling
    closes her way in (the ceilings count failures only)."""
    for day in range(40):
        signed_in.logout()
        clock.advance(12 * 3600)
        response = signed_in.login()
        assert location(response) == "/verify-2fa", f"login {day + 1}: the password step answered {response.status_code}"
        response = verify(signed_in.client, signed_in.phone.code())
        assert is_redirect_to(response, "/dashboard"), f"login {day + 1}: the right code got {response.status_code}"


def most_in_any_window(times, window):
    return max((sum(1 for t in times if start <= t < start + window) for start in times), default=0)


@pytest.mark.slow  # a year of requests: make test runs it, make test-fast does not
def test_never_more_than_a_hundred_failures_in_a_year(signed_in, clock):
    """Round three: the ceilings count failures in rolling windows (30 in 30 days, 100 in 365)."""
    signed_in.logout()
    guesses = guess_as_fast_as_allowed(signed_in, clock, days=400, stop_after=200)
    assert most_in_any_window(guesses, 365 * DAY) <= 100, f"{len(guesses)} failures over 400 days"
    assert most_in_any_window(guesses, 30 * DAY) <= 30
    assert len(guesses) >= 40, "the ceiling should slow guessing down, not stop the owner's typos at once"


# ----------------------------------------------------------------- the owner cannot be locked out

def test_a_recovery_code_works_while_the_code_step_is_throttled(signed_in, clock):
    signed_in.logout()
    clock.advance(30)
    signed_in.login()
    for _ in range(6):
        verify(signed_in.client, signed_in.phone.wrong_code())
    assert verify(signed_in.client, signed_in.phone.code()).status_code == 429, "the code step is throttled"
    assert is_redirect_to(use_recovery(signed_in.client, signed_in.recovery_codes[0]), "/dashboard"), (
        "a recovery code enrolment showed did not get the owner past the throttled code step")
    signed_in.logout()
    clock.advance(30)
    signed_in.login()
    assert is_redirect_to(verify(signed_in.client, signed_in.phone.code()), "/dashboard"), \
        "the owner came back with a recovery code, and her codes are still refused"


def test_replace_phone_failures_end_the_session_not_the_account(signed_in, app, clock):
    """A stolen session (no password) guesses at /replace-phone: it ends, and the owner is not locked out."""
    thief = copy_of_cookie(signed_in.client, app)
    replayed = copy_of_cookie(signed_in.client, app)  # a second copy, to replay once the first is spent
    for attempt in range(10):
        response = submit_form(thief, "/replace-phone", {"password": f"guess number {attempt}", "otp": signed_in.phone.code()})
        if not logged_in(thief):
            break
        assert response.status_code == 401
    assert not logged_in(thief), "ten wrong tries and the session still lives"
    assert attempt <= 5, f"{attempt + 1} tries before the session ended"
    assert not logged_in(replayed), "a copy of the cookie starts the count again"
    clock.advance(30)
    owner = second_browser(app, signed_in)
    owner.login()
    assert is_redirect_to(verify(owner.client, signed_in.phone.code()), "/dashboard"), "the owner was locked out"


def test_replace_phone_failures_end_the_session_they_were_made_in_and_no_other(signed_in, app, clock):
    """alice's wrong tries at /replace-phone on her laptop leave the session in her other browser its own
    three."""
    clock.advance(30)
    laptop = second_browser(app, signed_in)
    assert location(laptop.login()) == "/verify-2fa"
    assert is_redirect_to(verify(laptop.client, signed_in.phone.code()), "/dashboard")
    for browser in (laptop.client, signed_in.client):
        for attempt in range(2):
            response = submit_form(browser, "/replace-phone", {"password": f"not it {attempt}", "otp": "123456"})
            assert response.status_code == 401 and logged_in(browser), (
                "two wrong tries in one session, two in another, and that session ended: the count is the account's")


# ----------------------------------------------------------------- a lost phone

def test_a_lost_phone_is_recoverable_with_a_recovery_code(signed_in, app, clock):
    old_secret = signed_in.phone.account.secret
    response = submit_form(signed_in.client, "/replace-phone", {"password": PASSWORD, "recovery_code": "aaaa-bbbb-cccc-dddd-eeee-ffff"})
    assert response.status_code == 401 and logged_in(signed_in.client), "a made-up recovery code was taken"
    response = submit_form(signed_in.client, "/replace-phone",
                           {"password": "not the password", "recovery_code": signed_in.recovery_codes[0]})
    assert response.status_code == 401 and logged_in(signed_in.client), "a recovery code without the password was taken"
    new_phone = replace_phone(signed_in, clock, recovery_code=signed_in.recovery_codes[0])
    assert new_phone.account.secret != old_secret
    signed_in.logout()
    clock.advance(30)
    assert location(signed_in.login()) == "/verify-2fa"
    assert is_redirect_to(verify(signed_in.client, new_phone.code()), "/dashboard")


def test_a_used_recovery_code_does_not_replace_the_phone(signed_in, clock):
    signed_in.logout()
    clock.advance(30)
    signed_in.login()
    assert is_redirect_to(use_recovery(signed_in.client, signed_in.recovery_codes[0]), "/dashboard"), (
        "a recovery code enrolment showed did not get alice past the code step")
    response = submit_form(signed_in.client, "/replace-phone", {"password": PASSWORD, "recovery_code": signed_in.recovery_codes[0]})
    assert response.status_code == 401 and logged_in(signed_in.client)
    assert not pages.parse(response.data).data_uri_images()


# ----------------------------------------------------------------- the enrolment secret per session

def test_two_sessions_enrolling_see_different_secrets(auth, app, client, clock):
    auth.register()
    alice_secret = auth.phone.scan(client.get("/enable-2fa").data).secret
    assert auth.phone.scan(client.get("/enable-2fa").data).secret == alice_secret, "a reload changed the secret"
    mallory = second_browser(app, auth)
    assert 400 <= mallory.register().status_code < 500, "round three: the name is reserved for alice's session"
    assert location(mallory.register("mallory")) == "/enable-2fa"
    mallory_phone = Authenticator(clock)
    assert mallory_phone.scan(mallory.client.get("/enable-2fa").data).secret != alice_secret


def test_a_code_confirms_only_its_own_sessions_secret(auth, app, client, clock):
    auth.register()
    mallory = second_browser(app, auth)
    mallory.register("mallory")
    mallory_phone = Authenticator(clock)
    mallory_phone.scan(mallory.client.get("/enable-2fa").data)
    auth.phone.scan(client.get("/enable-2fa").data)
    response = submit_form(client, "/enable-2fa", {"otp": mallory_phone.code()})
    assert 400 <= response.status_code < 500, "mallory's phone confirmed alice's enrolment"
    assert is_redirect_to(submit_form(client, "/enable-2fa", {"otp": auth.phone.code()}), "/recovery-codes")
    # Later, mallory logs in with the password: her phone's codes open nothing.
    clock.advance(30)
    mallory.login()
    assert 400 <= verify(mallory.client, mallory_phone.code()).status_code < 500


# ----------------------------------------------------------------- recovery codes stay until saved

def test_reading_the_recovery_codes_uses_nothing(auth, client):
    auth.enrol()
    assert client.head("/recovery-codes").status_code == 200
    first = recovery_codes_on_page(client)
    assert len(first) == 10
    assert recovery_codes_on_page(client) == first, "a reload (or a prefetch) lost the codes"
    assert "codes" in pages.parse(client.get("/dashboard").data).text.lower()
    assert is_redirect_to(confirm_saved(client), "/dashboard")
    assert recovery_codes_on_page(client) == []


def test_unsaved_recovery_codes_are_hidden_after_ten_minutes(auth, client, clock):
    auth.enrol()
    clock.advance(9 * 60)
    assert len(recovery_codes_on_page(client)) == 10
    clock.advance(2 * 60)
    response = client.get("/recovery-codes")
    assert recovery_codes_on_page(client) == []
    assert not re.search(rb"[a-z2-7]{4}(-[a-z2-7]{4}){5}", response.data)


def test_the_codes_can_be_downloaded_as_a_text_file(auth, client):
    auth.enrol()
    codes = recovery_codes_on_page(client)
    page = pages.parse(client.get("/recovery-codes").data)
    assert "/recovery-codes.txt" in page.html, "the page links to the download"
    response = client.get("/recovery-codes.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in response.headers["Cache-Control"]
    assert all(code in response.get_data(as_text=True) for code in codes)
    confirm_saved(client)
    after = client.get("/recovery-codes.txt")
    assert not any(code.encode() in after.data for code in codes), "downloadable after they were saved"


def test_the_codes_page_prints_well_without_inline_script_or_style(auth, client, app):
    auth.enrol()
    html = client.get("/recovery-codes").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and " style=" not in html and "<style" not in html
    sheets = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', html)
    css = "".join(client.get(urljoin("/recovery-codes", href)).get_data(as_text=True) for href in sheets)
    assert "@media print" in css, "no print stylesheet"


# ----------------------------------------------------------------- headers

def test_every_page_behind_the_password_is_no_store(signed_in, client, clock):
    urls = ["/dashboard", "/recovery-codes", "/replace-phone", "/change-password"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.headers.get("Cache-Control", ""), url
    signed_in.logout()
    clock.advance(30)
    signed_in.login()
    assert "no-store" in client.get("/verify-2fa").headers.get("Cache-Control", "")


def test_the_csp_closes_base_and_object(client):
    policy = client.get("/login").headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives.get("base-uri") == ["'none'"], policy
    assert directives.get("object-src") == ["'none'"], policy


def test_hsts_when_cookies_are_secure(target, tmp_path, clock):
    secure = make_app(target[0], app_config(tmp_path, clock, SESSION_COOKIE_SECURE=True))
    header = secure.test_client().get("/login", base_url="https://localhost").headers.get("Strict-Transport-Security", "")
    match = re.search(r"max-age=(\d+)", header)
    assert match and int(match[1]) >= 180 * DAY, f"Strict-Transport-Security: {header!r}"


# ----------------------------------------------------------------- start-up

@pytest.mark.parametrize("key", [None, 123456, "weak", "x" * 31])
def test_start_up_refuses_a_bad_secret_key(target, tmp_path, environment, key):
    environment.delete("FLASK_SECRET_KEY")
    environment.delete("FLASK_DEBUG")
    config = {"DATABASE": str(tmp_path / "key.sqlite")}
    if key is not None:
        config["SECRET_KEY"] = key
    try:
        make_app(target[0], config)
    except SystemExit:  # not an Exception subclass: caught on its own
        pytest.fail("SystemExit: gunicorn answers it by restarting the worker, forever")
    except Exception as error:
        assert "FLASK_SECRET_KEY" in str(error), f"the message should say what to set: {error}"
    else:
        pytest.fail(f"started with the key {key!r}")


def test_a_numeric_key_is_refused_even_in_debug_mode(target, tmp_path, environment):
    environment.set("FLASK_DEBUG", "1")
    environment.set("FLASK_SECRET_KEY", "123456")  # read as the number 123456
    with pytest.raises(Exception, match="FLASK_SECRET_KEY"):
        make_app(target[0], {"DATABASE": str(tmp_path / "key.sqlite")})


def test_start_up_accepts_a_long_random_key(target, tmp_path, environment):
    key = secrets.token_hex(32)
    environment.delete("FLASK_DEBUG")
    environment.set("FLASK_SECRET_KEY", key)
    environment.set("FLASK_TOTP_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    app = make_app(target[0], {"DATABASE": str(tmp_path / "key.sqlite")})
    assert app.secret_key == key


# ----------------------------------------------------------------- passwords and names

@pytest.mark.parametrize("password", ["12345678", " " * 8, "password1", "iloveyou", "qwertyuiop", "alicealice"])
def test_common_or_trivial_passwords_are_refused(auth, password):
    response = auth.register("alice", password)
    assert 400 <= response.status_code < 500, f"{password!r} was accepted"
    assert auth.login("alice", password).status_code >= 400, "the account exists"


def test_usernames_are_unique_whatever_their_case(auth):
    auth.register("alice")
    for name in ("ALICE", "Alice"):
        response = auth.register(name, "another long passphrase")
        assert 400 <= response.status_code < 500, f"{name} became a second account"


def test_password_guessing_on_one_account_is_throttled(enrolled, clock):
    """From a browser the account does not trust (round three: a trusted one counts on its own)."""
    for attempt in range(5):
        assert enrolled.login(password=f"wrong guess number {attempt}").status_code == 401
    response = enrolled.login()
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0, "the right password got in"
    clock.advance(int(response.headers["Retry-After"]))
    assert location(enrolled.login()) == "/verify-2fa"


def test_the_database_file_is_readable_by_its_owner_only(app, auth):
    auth.register()
    mode = stat.S_IMODE(os.stat(app.config["DATABASE"]).st_mode)
    assert mode & 0o077 == 0, f"database file mode {mode:o}"


# ----------------------------------------------------------------- behind a proxy

@pytest.mark.stages(6, 7)
def test_x_forwarded_prefix_is_trusted_only_behind_a_proxy(target, tmp_path, clock, stage):
    """Any client can send the header: believed, it points links and redirects at another site."""
    def login_page(behind_proxy):
        app = make_app(target[0], app_config(tmp_path, clock, BEHIND_PROXY=behind_proxy,
                                             DATABASE=str(tmp_path / f"proxy{behind_proxy}.sqlite")))
        return app.test_client().get("/login", headers={"X-Forwarded-Prefix": "//evil.example"})

    assert "evil.example" not in login_page(False).get_data(as_text=True)
    if stage >= 7:  # round three: the prefix must be a path, never //host
        assert "evil.example" not in login_page(True).get_data(as_text=True)
        return
    assert "//evil.example/" in login_page(True).get_data(as_text=True), \
        "with FLASK_BEHIND_PROXY=1 the prefix is used: the test sends the right header"
