"""Stage 7, round three: what the second penetration test still did (issue 21).

Each test is one rule of the contract's "Round three" list, attacked as the issue's three people
would: a stranger who knows only a username, someone who has the password, and a thief with a copy
of the database file. Weeks and months are simulated with the fixed clock (nothing sleeps), and
every app hashes passwords cheaply here (``PASSWORD_HASH_METHOD``) except in the tests of the hash.

Where round three changes a rule of rounds one and two, round three stands; these tests apply to
stage 7 and to stage 8, which keeps every stage 7 promise.
"""
import os
import random
import re
import secrets
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from workbook import pages
from workbook.cookies import session_cookie
from workbook.testing.app_under_test import copy_database, hand_over, make_app
from workbook.visitor import submit_form

from round_three_helpers import (
    DAY,
    KEY_A,
    KEY_B,
    KEY_THIEF,
    NEW_PASSWORD,
    PASSWORD,
    USERNAME,
    Authenticator,
    NotifyRecorder,
    Person,
    as_text,
    browser,
    change_password,
    config,
    cookies,
    csrf_token,
    every_value,
    failed_counts,
    file_bytes,
    is_redirect_to,
    is_trusted,
    location,
    logged_in,
    new_app,
    new_qr,
    owner,
    pause_strangers,
    refers_to,
    replace_phone,
    replace_phone_confirm,
    replace_phone_start,
    start_registration,
    stolen_copy,
    stranger_fails_password,
    table_rows,
    trusted_second_browser,
    verify,
    where_secret_is,
    wrong_recovery_code,
)
from stage_helpers import save_recovery_codes, use_recovery

pytestmark = pytest.mark.stages(7, 8)


@pytest.fixture
def app(target, tmp_path, clock):
    """The app under test, with a key for its TOTP secrets (round three requires one)."""
    return new_app(target[0], tmp_path, clock)


@pytest.fixture
def simulated_app(target, tmp_path, clock):
    """The app for the simulations of weeks and months, its database in memory (/dev/shm) when the
    machine has room there: their thousands of requests each commit, and SQLite's syncs to a busy
    disk made them ten times slower (the grader already keeps its tests' folders there)."""
    memory = Path("/dev/shm")
    if str(tmp_path).startswith(str(memory)) or not os.access(memory, os.W_OK) \
            or shutil.disk_usage(memory).free < 256 * 2**20:
        yield new_app(target[0], tmp_path, clock)
        return
    folder = Path(tempfile.mkdtemp(prefix="round-three-", dir=memory))
    hand_over(folder)
    try:
        yield new_app(target[0], folder, clock)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def folder(target):
    return target[0]


def retry_after(response, default):
    value = response.headers.get("Retry-After")
    return int(value) if value and value.isdigit() else default


def move_to(clock, when):
    clock.advance(when - clock())


# ================================================================= 1. nobody can keep the owner out

# Stage 7's three attackers make 158 attempts in the week; an app that slows nobody lets them make thousands.
MOST_ATTEMPTS_IN_A_WEEK = 2000


def test_a_week_of_attacks_never_keeps_the_owners_trusted_browser_out(simulated_app, clock):
    """The issue's first finding: a stranger failing passwords each time Retry-After ran out got the
    owner 429 on every login of a simulated week. Here, for 7 days, a stranger (fresh browser and
    address each time) fails alice's password as soon as he is let; someone who has her password fails
    codes and recovery codes as fast as allowed; alice logs in from her usual browser at random times.
    Every one of her logins must open the dashboard."""
    app = simulated_app
    alice = owner(app, clock)
    alice.logout()  # logging out keeps the device cookie: it marks the browser, not a session
    rng = random.Random(21)
    start = clock() + 60
    owner_times, last = [], 0
    for moment in sorted(start + rng.uniform(0, 7 * DAY) for _ in range(30)):
        if moment - last >= 120:  # two logins in one 30-second step would reuse a code
            owner_times.append(int(moment))
            last = moment
    code_guesser = Person(browser(app), alice.phone)       # has the password, not the phone
    recovery_guesser = Person(browser(app), alice.phone)   # has the password, guesses recovery codes
    fake_code = wrong_recovery_code(alice.recovery_codes[0])
    next_turn = {"stranger": start, "code": start, "recovery": start, "owner": owner_times.pop(0)}
    refused, stranger_429s, guesser_429s, attempts, owner_logins = [], 0, 0, 0, 0

    def guess(person, fields):
        """One guess at the code step: the seconds until the next allowed one."""
        nonlocal guesser_429s
        page = person.client.get("/verify-2fa")
        if page.status_code != 200:  # no pending login (expired, or ended): log in again
            page = None
            response = person.login()
            if response.status_code == 429:
                return retry_after(response, 3600)
            assert location(response) == "/verify-2fa", f"the password holder's login got {response.status_code}"
        response = submit_form(person.client, "/verify-2fa", fields, page=page)
        if response.status_code == 429:
            guesser_429s += 1
            return retry_after(response, DAY)
        if 300 <= response.status_code < 400:  # a pending login that ended leads back; a guess that got in, on
            assert location(response) in ("/login", "/verify-2fa"), (
                f"a wrong {', '.join(fields)} was let in: it led to {location(response)}")
        return 1

    while min(next_turn.values()) < start + 7 * DAY:
        who = min(next_turn, key=next_turn.get)
        move_to(clock, next_turn[who])
        attempts += 1
        assert attempts <= MOST_ATTEMPTS_IN_A_WEEK, (
            f"{attempts} attempts in {(clock() - start) / DAY:.2f} days and nothing slowed the attackers: "
            f"{stranger_429s} 429s for the stranger, {guesser_429s} for the two guessers")
        if who == "owner":
            owner_logins += 1
            response = alice.login()
            if location(response) != "/verify-2fa":
                refused.append(f"day {(clock() - start) / DAY:.2f}: password step {response.status_code}")
            else:
                response = verify(alice.client, alice.phone.code())
                if is_redirect_to(response, "/dashboard"):
                    alice.logout()
                else:
                    refused.append(f"day {(clock() - start) / DAY:.2f}: code step {response.status_code}")
            next_turn["owner"] = owner_times.pop(0) if owner_times else float("inf")
        elif who == "stranger":
            response = stranger_fails_password(app, attempt=attempts)
            if response.status_code == 429:
                stranger_429s += 1
                next_turn["stranger"] = clock() + retry_after(response, 3600)
            else:
                next_turn["stranger"] = clock() + 1
        elif who == "code":
            next_turn["code"] = clock() + guess(code_guesser, {"otp": alice.phone.wrong_code()})
        else:
            next_turn["recovery"] = clock() + guess(recovery_guesser, {"recovery_code": fake_code})

    assert not refused, (f"{len(refused)} of alice's {owner_logins} logins from her own browser were "
                         f"refused during the attack: {refused[:6]}")
    assert stranger_429s > 0 and guesser_429s > 0, "the attackers were never throttled: the test attacked nothing"


def test_a_strangers_password_guesses_are_paused_then_capped(simulated_app, clock):
    """A stranger (a new browser and address each time) who waits out every Retry-After for a week:
    the first 429 comes after a few failures, carries Retry-After, and the failures stop at a ceiling."""
    app = simulated_app
    owner(app, clock).logout()
    start, failures, first_429, attempt = clock(), [], None, 0
    while clock() - start < 7 * DAY and len(failures) <= 100:
        attempt += 1
        response = stranger_fails_password(app, attempt=attempt)
        if response.status_code == 429:
            if first_429 is None:
                first_429 = response
                assert len(failures) <= 10, f"{len(failures)} wrong passwords before the first 429"
            clock.advance(retry_after(response, 6 * 3600))
        else:
            assert response.status_code == 401, f"a wrong password got {response.status_code}"
            failures.append(clock())
            clock.advance(1)
    assert first_429 is not None, "a week of wrong passwords, never a 429"
    assert retry_after(first_429, 0) > 0, "the first 429 has no Retry-After: how long should one wait?"
    assert len(failures) <= 100, f"{len(failures)} wrong passwords by strangers in 7 days: no ceiling"


def test_a_trusted_browser_gets_in_while_strangers_are_paused(app, clock):
    alice = owner(app, clock)
    alice.logout()
    pause_strangers(app)
    assert stranger_fails_password(app).status_code == 429, "strangers are paused"
    assert location(alice.login()) == "/verify-2fa", "the owner's own browser was refused for strangers' guesses"
    newcomer = alice.in_another_browser(app)  # her password, from a browser that never completed a login
    assert newcomer.login().status_code == 429, "an untrusted browser skipped the strangers' pause"


def test_a_browser_another_account_trusts_is_a_stranger_to_yours(app, clock):
    """mallory's browser is trusted for an account of her own: against alice's it is a stranger's, paused with
    the other strangers (else each account she made would give her a count of her own against alice)."""
    alice = owner(app, clock)
    alice.logout()
    mallory = Person(browser(app), Authenticator(clock), username="mallory").enrol()
    mallory.logout()
    clock.advance(30)
    assert mallory.sign_in(), "mallory could not log in to her own account"
    mallory.logout()
    pause_strangers(app)
    response = submit_form(mallory.client, "/login", {"username": USERNAME, "password": "mallory's guess"})
    assert response.status_code == 429, (
        f"a browser trusted for mallory's account got {response.status_code} at alice's paused password step")


def test_a_trusted_browser_is_a_strangers_once_its_ninety_days_are_over_even_just_after_a_sweep(app, clock):
    """alice's browser is trusted for 90 days after her last full login, not a moment longer, whether or
    not a sweep of expired trust (stage 7 runs one at most once a minute) came since."""
    alice = owner(app, clock)
    alice.logout()
    clock.advance(90 * DAY - 5)
    browser(app).get("/login")  # someone else's request, 5 s before her trust ends: the sweep runs
    clock.advance(15)
    pause_strangers(app)
    assert alice.login().status_code == 429, "alice's browser was still trusted 90 days and 10 s after her last login"


def test_a_trusted_browsers_own_typos_do_not_close_it_for_good(app, clock):
    """Each trusted browser counts its own failures: alice's typos pause her browser, never strangers'."""
    alice = owner(app, clock)
    alice.logout()
    for attempt in range(5):
        alice.login(password=f"a typo {attempt}")
    response = alice.login()
    if response.status_code == 429:
        clock.advance(retry_after(response, 60))
        response = alice.login()
    assert location(response) == "/verify-2fa", f"alice's own browser, after her typos and a wait: {response.status_code}"


def test_the_device_cookie_is_httponly_lax_secure_lasts_ninety_days_and_is_kept_hashed(folder, tmp_path, clock):
    app = new_app(folder, tmp_path, clock, SESSION_COOKIE_SECURE=True)
    app.https = True  # its browsers speak HTTPS, so that Secure cookies travel
    alice = owner(app, clock)
    alice.logout()  # logging out keeps it: it marks the browser, not a session
    session_name = app.config["SESSION_COOKIE_NAME"]
    devices = [cookie for cookie in cookies(alice.client) if cookie.key != session_name]
    assert devices, "after a full login and a logout the browser holds no cookie but the session's"
    data = file_bytes(app)
    for cookie in devices:
        assert cookie.secure and cookie.http_only, f"{cookie.key}: Secure {cookie.secure}, HttpOnly {cookie.http_only}"
        assert (cookie.same_site or "").lower() == "lax", f"{cookie.key}: SameSite={cookie.same_site}"
        if cookie.max_age is not None:
            lifetime = cookie.max_age
        else:
            assert cookie.expires is not None, f"{cookie.key} ends with the browser session, not in 90 days"
            lifetime = (cookie.expires - datetime.now(timezone.utc)).total_seconds()
        assert 89 * DAY <= lifetime <= 91 * DAY, f"{cookie.key} lasts {lifetime / DAY:.1f} days, not 90"
        assert len(cookie.decoded_value) >= 16 and cookie.decoded_value.encode() not in data, \
            f"{cookie.key}'s value is stored as it is in the database file"
    assert is_trusted(app, alice), "the browser is not trusted after logging out"


# ================================================================= 2. the ceiling counts failures, not streaks

class Guesser:
    """Someone with alice's password guessing ``field`` (otp or recovery_code) from a browser alice never
    used, as fast as the app allows: she obeys Retry-After, but checks back every ``poll_every`` seconds
    at most (alice may have logged in since, and a count that a success resets opens again), and no more
    than hourly while the app keeps refusing her with shorter waits."""

    def __init__(self, app, alice, field, poll_every, start):
        self.person = Person(browser(app), alice.phone)
        self.field, self.poll_every, self.start = field, poll_every, start
        self.fake_recovery_code = wrong_recovery_code(alice.recovery_codes[-1])
        self.guesses, self.next, self.refusals_in_a_row = [], start, 0
        self.logged_in_at = -float("inf")  # when her pending login began (it lasts 10 minutes)

    def refused(self, clock, response):
        self.refusals_in_a_row += 1
        wait = min(retry_after(response, self.poll_every), self.poll_every)
        self.next = clock() + (wait if self.refusals_in_a_row < 3 else max(wait, 3600))

    def turn(self, clock):
        page = self.person.client.get("/verify-2fa") if clock() - self.logged_in_at < 9 * 60 else None
        if page is None or page.status_code != 200:  # no pending login (expired after 10 minutes, or ended)
            page = None
            response = self.person.login()
            if response.status_code == 429:
                return self.refused(clock, response)
            assert location(response) == "/verify-2fa", f"the password holder's login: {response.status_code}"
            self.logged_in_at = clock()
        value = self.person.phone.wrong_code() if self.field == "otp" else self.fake_recovery_code
        response = submit_form(self.person.client, "/verify-2fa", {self.field: value}, page=page)
        if response.status_code == 429:
            return self.refused(clock, response)
        self.next = clock() + 1
        if 300 <= response.status_code < 400:  # her pending login ended (she logs in again), or the guess got in
            assert location(response) in ("/login", "/verify-2fa"), (
                f"a wrong {self.field} was let in: it led to {location(response)}")
            return None
        assert 400 <= response.status_code < 500, f"a wrong {self.field} got {response.status_code}"
        self.refusals_in_a_row = 0
        self.guesses.append(clock() - self.start)
        return None


def guessing_against_an_owner(app, clock, alice, days, owner_every, recovery_every, enough):
    """Two guessers (codes, recovery codes) for ``days`` while alice logs in every ``owner_every`` seconds
    from her own browser, with a recovery code every ``recovery_every`` seconds. Returns {field: the
    seconds of that guesser's checked (not 429) guesses}, and {way: [logins that opened alice's dashboard,
    logins]} for each way she signs in. A guesser stops after ``enough`` guesses: the test has failed by then."""
    start = clock()
    # Checking back twice a day is enough to find a count that alice's logins reset.
    poll_every = max(owner_every, 12 * 3600)
    guessers = [Guesser(app, alice, field, poll_every, start) for field in ("otp", "recovery_code")]
    logins = {"with her authenticator's code": [0, 0], "with a recovery code": [0, 0]}
    next_owner, next_recovery = start + owner_every, start + recovery_every
    while True:
        active = [g for g in guessers if len(g.guesses) <= enough]
        if not active or min(next_owner, *(g.next for g in active)) >= start + days * DAY:
            break
        guesser = min(active, key=lambda g: g.next)
        if next_owner <= guesser.next:
            move_to(clock, next_owner)
            if next_recovery <= clock() and alice.recovery_codes:
                way, got_in = "with a recovery code", alice.sign_in_with_recovery_code()
                next_recovery += recovery_every
            else:
                way, got_in = "with her authenticator's code", alice.sign_in()
            logins[way][0] += bool(got_in)
            logins[way][1] += 1
            next_owner += owner_every
        else:
            move_to(clock, guesser.next)
            guesser.turn(clock)
    return {g.field: g.guesses for g in guessers}, logins


def owner_got_in_often_enough(logins):
    """Nine logins in ten opened alice's dashboard, or why not: how often, each way she signed in."""
    ok, tries = sum(got for got, _ in logins.values()), sum(tried for _, tried in logins.values())
    ways = ", ".join(f"{way} {got} of {tried}" for way, (got, tried) in logins.items())
    return ok >= 0.9 * tries, f"alice got in {ok} times out of {tries} ({ways})"


def most_in_any_window(times, window):
    times = sorted(times)
    most, first = 0, 0
    for last, moment in enumerate(times):
        while moment - times[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


@pytest.mark.slow  # months of requests: make test runs it, make test-fast does not
def test_ninety_days_give_at_most_thirty_guesses_a_month_whatever_successes_come_between(simulated_app, clock):
    """The issue: a right code reset the count, so a password holder got 29 guesses per owner login.
    alice logs in every day (with a recovery code every 9 days); over 90 days, someone with her
    password gets at most 30 checked guesses in any 30-day window, at the code step and at the
    recovery step alike. (Daily, not more often: 90 resets are as many chances as a reset-on-success
    app needs to fail, tests/test_stage7_round_three_weakened.py "rolling ceiling", at a third of the
    requests of logging in every 6 hours.)"""
    app = simulated_app
    alice = owner(app, clock)
    guesses, logins = guessing_against_an_owner(
        app, clock, alice, days=90, owner_every=DAY, recovery_every=9 * DAY,
        enough=90)  # more than 90 in 90 days: some 30-day window holds more than 30
    for field, times in guesses.items():
        worst = most_in_any_window(times, 30 * DAY)
        assert worst <= 30, f"{worst} wrong {field} guesses checked in one 30-day window ({len(times)} in 90 days)"
        assert len(times) >= 10, f"only {len(times)} {field} guesses in 90 days: the test guessed nothing"
    often_enough, how_often = owner_got_in_often_enough(logins)
    assert often_enough, f"{how_often}: no successes came between"


@pytest.mark.slow
def test_at_most_a_hundred_guesses_a_year_whatever_successes_come_between(simulated_app, clock):
    """The same two guessers for 400 days, alice logging in every fourth day (a recovery code every 40
    days): at most 100 checked guesses in any 365 days, at each step. (An app with the 30-day ceiling
    and no yearly one lets 201 through here, measured for issue 25.)"""
    app = simulated_app
    alice = owner(app, clock)
    guesses, logins = guessing_against_an_owner(
        app, clock, alice, days=400, owner_every=4 * DAY, recovery_every=40 * DAY,
        enough=200)  # more than 200 in 400 days: some 365-day window holds more than 100
    for field, times in guesses.items():
        worst = most_in_any_window(times, 365 * DAY)
        assert worst <= 100, f"{worst} wrong {field} guesses checked in one year"
    often_enough, how_often = owner_got_in_often_enough(logins)
    assert often_enough, how_often


# ================================================================= 3. binding a phone needs every factor

def test_register_goes_straight_to_enrolment_in_the_same_session(app, clock):
    newcomer = Person(browser(app), Authenticator(clock))
    response = newcomer.register()
    assert location(response) == "/enable-2fa", f"/register sent the browser to {location(response)!r}"
    page = newcomer.client.get("/enable-2fa")
    assert page.status_code == 200 and new_qr(page) is not None, "no QR code in the registering session"


def test_the_account_exists_only_once_its_phone_is_confirmed(app, clock):
    alice = Person(browser(app), Authenticator(clock))
    page = start_registration(alice)
    # Someone who knows the name and password she chose, before she confirmed a code:
    early = Person(browser(app), None).login()
    unknown = Person(browser(app), None, username="nobody-here").login()
    assert 400 <= early.status_code < 500, f"a login to the unconfirmed account got {early.status_code}"
    assert (early.status_code, pages.parse(early.data).text) == (unknown.status_code, pages.parse(unknown.data).text), \
        "the login page tells an unconfirmed account from an unknown name"
    squatter = Person(browser(app), None).register(password="another long passphrase")
    assert 400 <= squatter.status_code < 500, "the name alice is registering was given to someone else"
    response = submit_form(alice.client, "/enable-2fa", {"otp": alice.phone.code()}, page=page)
    assert location(response) == "/recovery-codes"
    clock.advance(30)
    later = Person(browser(app), alice.phone)
    assert later.sign_in(), "once the phone is confirmed, the account logs in with it"


def test_a_password_only_session_never_sees_an_enrolment_qr(app, clock):
    """The issue: after /disable-2fa, whoever polled /login with the password enrolled his own phone.
    Neither while alice registers, nor once she has 2FA, does her password alone show a QR code."""
    registering = Person(browser(app), Authenticator(clock), username="carol")
    start_registration(registering)
    early = Person(browser(app), Authenticator(clock), username="carol")
    early.login()
    assert new_qr(early.client.get("/enable-2fa")) is None, "carol's password alone showed an enrolment QR code"
    alice = owner(app, clock)
    mallory = Person(browser(app), Authenticator(clock))  # the password, not the phone
    assert location(mallory.login()) == "/verify-2fa"
    fake_code = wrong_recovery_code(alice.recovery_codes[0])
    pages_seen = [mallory.client.get("/enable-2fa"), mallory.client.get("/replace-phone"),
                  replace_phone_start(mallory), replace_phone_start(mallory, otp=alice.phone.wrong_code()),
                  replace_phone_start(mallory, recovery_code=fake_code)]
    for page in pages_seen:
        assert new_qr(page) is None, f"{page.request.path}: a QR code for a session with the password only"
        assert not re.search(r"[A-Z2-7]{32}", pages.parse(page.data).compact_text()), "a secret on the page"
    clock.advance(30)
    assert Person(browser(app), alice.phone).sign_in(), "alice's own phone no longer works"


def test_disable_2fa_is_gone(app, clock):
    alice = owner(app, clock)
    assert alice.client.get("/disable-2fa").status_code in (404, 405)
    token = csrf_token(alice.client, "/dashboard")
    clock.advance(30)
    response = alice.client.post("/disable-2fa", data={"password": PASSWORD, "otp": alice.phone.code(),
                                                       "recovery_code": alice.recovery_codes[0], "csrf_token": token})
    assert response.status_code in (404, 405), f"POST /disable-2fa: {response.status_code}"
    alice.logout()
    clock.advance(30)
    assert location(alice.login()) == "/verify-2fa", "2FA is still on"


def test_replacing_the_phone_needs_password_and_code_then_swaps_in_the_same_session(app, clock):
    alice = owner(app, clock)
    old_phone, old_codes = alice.phone, list(alice.recovery_codes)
    clock.advance(30)
    refused = replace_phone_start(alice, password="not the password", otp=alice.phone.code())
    assert new_qr(refused) is None, "a wrong password showed a new QR code"
    assert new_qr(replace_phone_start(alice)) is None, "the password alone showed a new QR code"
    clock.advance(30)
    qr_page = replace_phone_start(alice, otp=alice.phone.code())
    account = new_qr(qr_page)
    assert account is not None, f"password and a fresh code, and no new QR code ({qr_page.status_code})"
    assert account.secret != old_phone.account.secret
    new_phone = Authenticator(clock)
    new_phone.account = account
    response = replace_phone_confirm(alice, qr_page, new_phone)
    assert response.status_code < 400, f"the new phone's code: {response.status_code}"
    new_codes = pages.parse(alice.client.get("/recovery-codes").data).list_items
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes), "no new recovery codes"
    alice.logout()
    clock.advance(30)
    assert location(alice.login()) == "/verify-2fa"
    assert verify(alice.client, old_phone.code()).status_code >= 400, "the old phone still logs in"
    assert is_redirect_to(verify(alice.client, new_phone.code()), "/dashboard"), "the new phone does not"


def test_a_lost_phone_is_replaced_with_password_and_a_recovery_code(app, clock):
    alice = owner(app, clock)
    alice.logout()
    clock.advance(30)
    assert alice.sign_in_with_recovery_code(), "an unused recovery code, after the password, did not get alice in"
    qr_page = replace_phone_start(alice, recovery_code=alice.recovery_codes.pop(0))
    account = new_qr(qr_page)
    assert account is not None, f"password and an unused recovery code, and no new QR code ({qr_page.status_code})"
    new_phone = Authenticator(clock)
    new_phone.account = account
    assert replace_phone_confirm(alice, qr_page, new_phone).status_code < 400


def test_replace_phone_failures_end_the_session_only_after_six_wrong_codes_of_the_new_phone(app, clock):
    """Setting up the new phone, alice may get its code wrong five times (twice the three tries of the
    password step): the sixth is still hers, and the right code then replaces the phone."""
    alice = owner(app, clock)
    clock.advance(30)
    qr_page = replace_phone_start(alice, otp=alice.phone.code())
    new_phone = Authenticator(clock)
    new_phone.account = new_qr(qr_page)
    assert new_phone.account is not None, f"no new QR code after password and code ({qr_page.status_code})"
    form = pages.parse(qr_page.data).post_form({"otp"})
    for attempt in range(5):
        response = alice.client.post(form.action or "/replace-phone", data=form.data(otp=new_phone.wrong_code()))
        assert response.status_code == 401 and logged_in(alice.client), (
            f"wrong code {attempt + 1} of the new phone ended the session: 6 are allowed")
    assert replace_phone_confirm(alice, qr_page, new_phone).status_code < 400, "the right code after 5 wrong ones"


def test_new_recovery_codes_come_with_a_new_phone_and_the_old_ones_stop_working(app, clock):
    """A new phone brings ten new recovery codes: the sheet of old ones (maybe lost with the phone) opens
    nothing any more."""
    alice = owner(app, clock)
    old_codes = list(alice.recovery_codes)
    replace_phone(alice, clock)
    new_codes = save_recovery_codes(alice.client)
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes), "no new recovery codes with the new phone"
    alice.logout()
    clock.advance(30)
    assert location(alice.login()) == "/verify-2fa"
    assert use_recovery(alice.client, old_codes[0]).status_code == 401, "a recovery code from before the new phone works"
    assert is_redirect_to(use_recovery(alice.client, new_codes[0]), "/dashboard"), "a new recovery code does not"


def test_another_accounts_recovery_codes_leave_yours_working(app, clock):
    """bob enrols, and gets recovery codes of his own: alice's still open her account."""
    alice = owner(app, clock)
    alice.logout()
    Person(browser(app), Authenticator(clock), username="bob").enrol()
    clock.advance(30)
    assert alice.sign_in_with_recovery_code(), "alice's recovery code stopped working once bob enrolled"


def test_recovery_codes_are_random_in_every_character(app, clock):
    """Each of the 24 characters of a code is drawn at random: a code does not repeat a few characters
    (24 draws from 32 give fewer than 8 different ones once in billions), and no place holds the same
    character in all ten codes."""
    codes = [code.replace("-", "") for code in owner(app, clock).recovery_codes]
    for code in codes:
        assert len(set(code)) >= 8, f"{code!r}: {len(set(code))} different characters in 24, far from random"
    for place in range(24):
        assert len({code[place] for code in codes}) > 1, f"character {place + 1} is the same in all ten codes"


def test_two_replacements_at_once_swap_only_one_phone(app, clock):
    """alice opens /replace-phone in two browsers: each shows its own QR code; the first confirmed wins,
    the second finds the old phone gone and changes nothing."""
    alice = owner(app, clock)
    laptop = trusted_second_browser(app, alice, clock)
    clock.advance(30)
    first = replace_phone_start(alice, otp=alice.phone.code())
    clock.advance(30)
    second = replace_phone_start(laptop, otp=alice.phone.code())
    phones = []
    for page in (first, second):
        account = new_qr(page)
        assert account is not None, "no QR code after password and code"
        phone = Authenticator(clock)
        phone.account = account
        phones.append(phone)
    assert phones[0].account.secret != phones[1].account.secret
    assert replace_phone_confirm(alice, first, phones[0]).status_code < 400
    late = replace_phone_confirm(laptop, second, phones[1])
    assert late.status_code >= 300, "the second replacement reported success"
    clock.advance(30)
    assert not Person(browser(app), phones[1]).sign_in(), "the second new phone logs in: two swaps"
    assert Person(browser(app), phones[0]).sign_in(), "the first new phone does not log in"


def test_a_replaced_phone_ends_every_other_session_and_device_cookie(app, clock):
    alice = owner(app, clock)
    laptop = trusted_second_browser(app, alice, clock)
    replace_phone(alice, clock)
    assert logged_in(alice.client), "the browser that replaced the phone was logged out"
    assert not logged_in(laptop.client), "another session of alice lives on after the phone was replaced"
    laptop.phone = alice.phone
    assert not is_trusted(app, laptop), "the other browser's device cookie still counts"
    assert is_trusted(app, alice), "the browser that replaced the phone lost its trust"


# ================================================================= 4. the password can be changed

def test_changing_the_password_needs_password_and_a_second_factor(app, clock):
    alice = owner(app, clock)
    clock.advance(30)
    assert change_password(alice, NEW_PASSWORD).status_code >= 400, "changed with the password alone"
    assert change_password(alice, NEW_PASSWORD, otp=alice.phone.wrong_code()).status_code >= 400
    wrong = Person(alice.client, alice.phone, password="not the password")
    assert change_password(wrong, NEW_PASSWORD, otp=alice.phone.code()).status_code >= 400
    clock.advance(30)
    assert change_password(alice, "password1", otp=alice.phone.code()).status_code >= 400, "a common password"
    clock.advance(30)
    assert change_password(alice, NEW_PASSWORD, otp=alice.phone.code()).status_code < 400
    alice.logout()
    clock.advance(30)
    assert location(alice.login()) != "/verify-2fa", "the old password still logs in"
    alice.password = NEW_PASSWORD
    assert alice.sign_in(), "the new password does not log in"


def test_changing_the_password_with_a_recovery_code(app, clock):
    alice = owner(app, clock)
    response = change_password(alice, NEW_PASSWORD, recovery_code=alice.recovery_codes.pop(0))
    assert response.status_code < 400, (
        f"/change-password answered {response.status_code} to the password with an unused recovery code")
    alice.logout()
    clock.advance(30)
    alice.password = NEW_PASSWORD
    assert alice.sign_in()


def test_changing_the_password_ends_every_other_session_and_device_cookie(app, clock):
    alice = owner(app, clock)
    laptop = trusted_second_browser(app, alice, clock)
    thief = Person(browser(app), None)
    thief.client.set_cookie(app.config["SESSION_COOKIE_NAME"], session_cookie(laptop.client))
    assert logged_in(thief.client), "the copy works while the session lives"
    clock.advance(30)
    assert change_password(alice, NEW_PASSWORD, otp=alice.phone.code()).status_code < 400
    assert logged_in(alice.client), "the session that changed the password ended"
    assert not logged_in(laptop.client) and not logged_in(thief.client), "an earlier session lives on"
    laptop.password = alice.password = NEW_PASSWORD
    assert not is_trusted(app, laptop), "the other browser's device cookie still counts"
    assert is_trusted(app, alice)


# ================================================================= 5. the owner hears of it

EVENT_WORDS = {
    "new trusted browser": r"browser|device",
    "password failure from an unknown browser": r"password",
    "failed code": r"code|otp|totp|2fa|factor",
    "recovery code used": r"recovery",
    "password changed": r"password",
    "phone replaced": r"phone|authenticator|totp|2fa|secret",
}


def test_every_security_event_goes_to_notify(target, tmp_path, clock):
    notify = NotifyRecorder()
    app = new_app(target[0], tmp_path, clock, NOTIFY=notify)
    alice = owner(app, clock)
    secrets_seen = [PASSWORD, NEW_PASSWORD, alice.phone.account.secret, *alice.recovery_codes]

    def new_events(kind, action):
        before = len(notify.calls)
        action()
        calls = notify.since(before)
        assert calls, f"no NOTIFY call for: {kind}"
        assert all(refers_to(app, user) for user, _event in calls), f"{kind}: NOTIFY was not told the user: {calls}"
        texts = [as_text(event) for _user, event in calls]
        assert any(re.search(EVENT_WORDS[kind], text, re.IGNORECASE) for text in texts), f"{kind}: {texts}"

    laptop = alice.in_another_browser(app)
    clock.advance(30)
    new_events("new trusted browser", lambda: laptop.sign_in())
    new_events("password failure from an unknown browser", lambda: stranger_fails_password(app))
    mallory = Person(browser(app), alice.phone)
    clock.advance(30)
    mallory.login()
    new_events("failed code", lambda: verify(mallory.client, alice.phone.wrong_code()))
    clock.advance(30)
    new_events("recovery code used", lambda: laptop.sign_in_with_recovery_code())
    clock.advance(30)
    new_events("password changed", lambda: change_password(alice, NEW_PASSWORD, otp=alice.phone.code()))
    alice.password = NEW_PASSWORD
    secrets_seen.append(alice.phone.code())
    new_events("phone replaced", lambda: replace_phone(alice, clock))
    secrets_seen.append(alice.phone.account.secret)
    everything = " ".join(as_text(user) + as_text(event) for user, event in notify.calls)
    leaked = [value for value in secrets_seen if value in everything]
    assert not leaked, f"NOTIFY was given secrets: {leaked}"


def test_an_event_repeats_nothing_that_was_typed(target, tmp_path, clock):
    """Two wrong passwords, two wrong codes and two wrong recovery codes, each pair different in every
    character and in length: each pair tells the owner the same words, and an event is its kind, its words
    and its time, nothing more (not the form, not a piece of it, not its length)."""
    notify = NotifyRecorder()
    app = new_app(target[0], tmp_path, clock, NOTIFY=notify)
    alice = owner(app, clock)
    alice.logout()
    clock.advance(30)
    mallory = Person(browser(app), alice.phone)  # she has the password, not the phone
    assert location(mallory.login()) == "/verify-2fa"
    right = {alice.phone.code(step) for step in (-1, 0, 1)}
    codes = [alice.phone.wrong_code()]
    codes.append(next(code for shift in range(1, 10) if (code := "".join(str((int(d) + shift) % 10) for d in codes[0]))
                      not in right))
    tries = {
        "password": [lambda: stranger_fails_password(app, attempt=7), lambda: stranger_fails_password(app, attempt=123456)],
        "code": [lambda code=code: verify(mallory.client, code) for code in codes],
        "recovery code": [lambda code=code: use_recovery(mallory.client, wrong_recovery_code(code))
                          for code in alice.recovery_codes[:2]],
    }
    for what, pair in tries.items():
        events = []
        for action in pair:
            before = len(notify.calls)
            assert action().status_code == 401
            events += [event for _user, event in notify.since(before)]
        assert len(events) == 2, f"a wrong {what} should tell the owner once, not {len(events) // 2} times"
        assert all(set(event) == {"kind", "detail", "time"} for event in events), f"a wrong {what}: {events}"
        assert events[0]["detail"] == events[1]["detail"], (
            f"two wrong {what}s told the owner different things, so the words repeat what was typed: {events}")


def test_the_dashboard_says_how_many_failed_attempts_since_the_last_sign_in(app, clock):
    alice = owner(app, clock)
    alice.logout()
    mallory = Person(browser(app), alice.phone)
    for batch in (3, 2):
        clock.advance(30)
        failed = 0
        while failed < batch:
            if mallory.client.get("/verify-2fa").status_code != 200:
                assert location(mallory.login()) == "/verify-2fa"
            response = verify(mallory.client, alice.phone.wrong_code())
            if response.status_code == 429:  # paused: she waits, as the app says
                clock.advance(retry_after(response, 60))
                continue
            assert response.status_code == 401, f"a wrong code got {response.status_code}"
            failed += 1
        clock.advance(30)
        assert alice.sign_in()
        dashboard = alice.client.get("/dashboard").data
        counts = failed_counts(dashboard)
        assert batch in counts, (f"after {batch} failed codes, the dashboard's numbers next to 'failed' are "
                                 f"{sorted(counts)}: {pages.parse(dashboard).text[:400]}")
        alice.logout()


def test_the_dashboard_lists_recent_security_events(app, clock):
    alice = owner(app, clock)
    alice.logout()
    clock.advance(30)
    assert alice.sign_in_with_recovery_code(), "an unused recovery code, after the password, did not get alice in"
    clock.advance(30)
    assert change_password(alice, NEW_PASSWORD, otp=alice.phone.code()).status_code < 400
    alice.client.get("/dashboard")  # anything flashed is shown once, here
    text = pages.parse(alice.client.get("/dashboard").data).text.lower()
    assert "recovery" in text, "the dashboard does not list the recovery code used"
    assert "password" in text and "chang" in text, "the dashboard does not list the password change"


# ================================================================= 6. secrets at rest

def test_a_stolen_database_file_holds_no_totp_secret(app, clock, tmp_path):
    alice = Person(browser(app), Authenticator(clock))
    page = start_registration(alice)
    secret = alice.phone.account.secret
    manual = re.sub(r"\s+", "", pages.parse(page.data).compact_text())
    assert secret in manual, "the enrolment page shows the secret as a manual key too"
    assert not where_secret_is(app, secret, tmp_path), "the pending secret, before the first code, is readable"
    assert location(submit_form(alice.client, "/enable-2fa", {"otp": alice.phone.code()}, page=page)) == "/recovery-codes"
    found = where_secret_is(app, secret, tmp_path)
    assert not found, f"a stolen copy of the database gives alice's TOTP secret: {found}"


def test_the_secret_is_useless_without_the_key(folder, app, clock, tmp_path):
    alice = owner(app, clock)
    alice.logout()
    stolen = stolen_copy(app, tmp_path / "stolen.sqlite")

    def sign_in_with(key):
        copy = tmp_path / f"copy-{key[:4]}.sqlite"
        copy_database(stolen, copy)
        thief_app = make_app(folder, config(tmp_path, clock, DATABASE=str(copy), TOTP_ENCRYPTION_KEYS=key))
        thief_app.testing = thief_app.config["TESTING"] = False  # an error is an error page, not an exception
        thief = Person(thief_app.test_client(), alice.phone)
        return thief.sign_in()

    clock.advance(30)
    assert sign_in_with(KEY_A), "with the app's own key the copy works: the test copies the right thing"
    assert not sign_in_with(KEY_THIEF), "with another key, the stolen file's secret still checks codes"


def test_the_first_key_encrypts_and_every_key_decrypts(folder, app, clock, tmp_path):
    """Rotation: alice enrolled under key A; the app restarts with "B,A". alice still logs in (A
    decrypts); bob, enrolled now, is encrypted with B: an app with B alone knows his secret, one with A
    alone does not."""
    alice = owner(app, clock)
    alice.logout()
    rotated = make_app(folder, config(tmp_path, clock, TOTP_ENCRYPTION_KEYS=f"{KEY_B},{KEY_A}"))
    alice.client = browser(rotated)
    clock.advance(30)
    assert alice.sign_in(), "after the rotation alice's secret (encrypted with A) no longer works"
    bob = Person(browser(rotated), Authenticator(clock), username="bob").enrol()
    bob.logout()

    def bob_signs_in_with(keys):
        other = make_app(folder, config(tmp_path, clock, TOTP_ENCRYPTION_KEYS=keys))
        other.testing = other.config["TESTING"] = False
        clock.advance(30)
        return Person(browser(other), bob.phone, username="bob").sign_in()

    assert bob_signs_in_with(KEY_B), "the first key did not encrypt bob's secret (B alone cannot read it)"
    assert not bob_signs_in_with(KEY_A), "bob's secret was encrypted with the second key"


def test_every_key_decrypts_a_secret_a_worker_not_yet_restarted_stored_under_the_old_key(folder, app, clock,
                                                                                          tmp_path):
    """Rotation on a running site: one worker restarts with "B,A" while another still runs with A alone.
    bob enrols on the old one, after the new one re-encrypted everything at its start-up: his secret is
    under A. He logs in on the new worker: its second key must open his secret."""
    rotated = make_app(folder, config(tmp_path, clock, TOTP_ENCRYPTION_KEYS=f"{KEY_B},{KEY_A}"))
    rotated.testing = rotated.config["TESTING"] = False  # an error is an error page, not an exception
    bob = Person(browser(app), Authenticator(clock), username="bob").enrol()
    bob.logout()
    clock.advance(30)
    assert Person(browser(rotated), bob.phone, username="bob").sign_in(), (
        "bob, enrolled by a worker with the old key, cannot log in on one with the keys B,A: only the first key "
        "was tried")


def test_the_keys_come_from_flask_totp_encryption_keys(folder, tmp_path, clock, environment):
    environment.set("FLASK_TOTP_ENCRYPTION_KEYS", f"{KEY_B},{KEY_A}")
    settings = config(tmp_path, clock)
    del settings["TOTP_ENCRYPTION_KEYS"]
    app = make_app(folder, settings)
    alice = owner(app, clock)
    alice.logout()
    environment.delete("FLASK_TOTP_ENCRYPTION_KEYS")
    only_a = make_app(folder, config(tmp_path, clock, TOTP_ENCRYPTION_KEYS=KEY_A))
    only_a.testing = only_a.config["TESTING"] = False
    clock.advance(30)
    assert not Person(browser(only_a), alice.phone).sign_in(), \
        "FLASK_TOTP_ENCRYPTION_KEYS was ignored: the secret was not encrypted with its first key"


def test_start_up_refuses_a_missing_encryption_key(folder, tmp_path, environment):
    environment.delete("FLASK_TOTP_ENCRYPTION_KEYS")
    environment.delete("FLASK_DEBUG")
    settings = {"SECRET_KEY": secrets.token_hex(32), "DATABASE": str(tmp_path / "users.sqlite")}
    try:
        make_app(folder, settings)
    except SystemExit:
        pytest.fail("SystemExit: gunicorn answers it by restarting the worker, forever")
    except Exception as error:
        assert "FLASK_TOTP_ENCRYPTION_KEYS" in str(error), f"the message should say what to set: {error}"
    else:
        pytest.fail("started without a key for the TOTP secrets")


# OWASP Password Storage Cheat Sheet: Argon2id with any of these (memory KiB, iterations), one lane.
OWASP_ARGON2ID = [(47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5)]
ARGON2_HASH = re.compile(r"\$argon2id\$v=\d+\$m=(\d+),t=(\d+),p=(\d+)\$")


def password_hashes(app):
    """Every value in the database that looks like a password hash (werkzeug's or argon2's)."""
    return [value for _table, _column, value in every_value(app.config["DATABASE"])
            if isinstance(value, str) and re.match(r"\$argon2|scrypt:|pbkdf2:", value)]


def test_passwords_are_hashed_with_argon2id_at_owasps_parameters(folder, tmp_path, clock):
    settings = config(tmp_path, clock)
    del settings["PASSWORD_HASH_METHOD"]  # the default
    app = make_app(folder, settings)
    Person(browser(app), Authenticator(clock)).enrol()
    hashes = password_hashes(app)
    assert len(hashes) == 1, f"password hashes in the database: {[h[:20] for h in hashes]}"
    match = ARGON2_HASH.match(hashes[0])
    assert match, f"not an Argon2id hash: {hashes[0][:30]}..."
    memory, iterations, _lanes = map(int, match.groups())
    assert any(memory >= m and iterations >= t for m, t in OWASP_ARGON2ID), \
        f"m={memory} KiB, t={iterations}: below every OWASP setting {OWASP_ARGON2ID}"


def test_an_older_hash_is_upgraded_at_the_next_right_login(folder, tmp_path, clock):
    before = make_app(folder, config(tmp_path, clock, PASSWORD_HASH_METHOD="scrypt"))
    alice = Person(browser(before), Authenticator(clock)).enrol()
    alice.logout()
    assert [h.split(":")[0] for h in password_hashes(before)] == ["scrypt"], "PASSWORD_HASH_METHOD=scrypt was ignored"
    settings = config(tmp_path, clock)
    del settings["PASSWORD_HASH_METHOD"]
    after = make_app(folder, settings)
    alice.client = browser(after)
    assert location(Person(browser(after), None, password="not the password").login()) != "/verify-2fa"
    assert password_hashes(after)[0].startswith("scrypt:"), "a wrong password replaced the hash"
    clock.advance(30)
    assert alice.sign_in(), "the scrypt hash no longer logs in"
    hashes = password_hashes(after)
    assert len(hashes) == 1 and hashes[0].startswith("$argon2id$"), f"still {hashes[0][:20]}... after a right login"
    alice.logout()
    clock.advance(30)
    assert alice.sign_in(), "the upgraded hash does not log in"


# ================================================================= 7. small holes

@pytest.mark.parametrize("length", [72, 73, 100, 256, 257])
def test_a_long_password_is_never_a_500(app, clock, length):
    """zxcvbn raises on passwords over 72 characters: the issue's /register answered 500."""
    rng = random.Random(length)
    password = "".join(rng.choice("abcdefghijkmnopqrstuvwxyz23456789") for _ in range(length))
    newcomer = Person(browser(app), Authenticator(clock), username=f"long{length}", password=password)
    response = newcomer.register()
    assert response.status_code < 500, f"/register with a {length}-character password: {response.status_code}"
    assert response.status_code < 400 or b"password" in response.data.lower(), "refused without saying why"
    if length <= 256 and location(response) == "/enable-2fa":
        page = newcomer.client.get("/enable-2fa")
        newcomer.phone.scan(page.data)
        assert submit_form(newcomer.client, "/enable-2fa", {"otp": newcomer.phone.code()}, page=page).status_code < 500
        clock.advance(30)
        newcomer.client = browser(app)
        assert newcomer.sign_in(), f"a {length}-character password does not log in"


def head(client, url, fields, token_from=None):
    """A HEAD request carrying a form body, as a script can send one (with a valid csrf_token)."""
    token = csrf_token(client, token_from or url)
    return client.open(url, method="HEAD", data={**fields, "csrf_token": token})


def test_head_to_register_creates_nothing(app, clock):
    newcomer = Person(browser(app), Authenticator(clock), username="bob")
    head(newcomer.client, "/register", {"username": "bob", "password": PASSWORD})
    assert newcomer.client.get("/enable-2fa").status_code != 200, "a HEAD started a registration"
    assert location(newcomer.register()) == "/enable-2fa", "after the HEAD, the name bob is taken"


def test_head_to_login_logs_nothing_in(app, clock):
    alice = owner(app, clock)
    alice.logout()
    other = Person(browser(app), alice.phone)
    head(other.client, "/login", {"username": USERNAME, "password": PASSWORD})
    assert other.client.get("/verify-2fa").status_code != 200, "a HEAD did the password step"


def test_head_to_verify_2fa_logs_nothing_in_and_uses_no_code(app, clock):
    alice = owner(app, clock)
    alice.logout()
    clock.advance(30)
    assert location(alice.login()) == "/verify-2fa"
    code = alice.phone.code()
    head(alice.client, "/verify-2fa", {"otp": code})
    assert not logged_in(alice.client), "a HEAD with the code logged in"
    assert is_redirect_to(verify(alice.client, code), "/dashboard"), "the HEAD used the code up"


def test_head_to_enable_2fa_turns_nothing_on(app, clock):
    alice = Person(browser(app), Authenticator(clock))
    start_registration(alice)
    head(alice.client, "/enable-2fa", {"otp": alice.phone.code()})
    assert not logged_in(alice.client), "a HEAD with the first code turned 2FA on"
    response = submit_form(alice.client, "/enable-2fa", {"otp": alice.phone.code()})
    assert location(response) == "/recovery-codes", "the HEAD used the first code up"


def test_head_to_logout_logs_nothing_out(app, clock):
    alice = owner(app, clock)
    head(alice.client, "/logout", {}, token_from="/dashboard")
    assert logged_in(alice.client), "a HEAD logged alice out"


def test_head_to_recovery_codes_does_not_mark_them_saved(app, clock):
    alice = Person(browser(app), Authenticator(clock))
    page = start_registration(alice)
    submit_form(alice.client, "/enable-2fa", {"otp": alice.phone.code()}, page=page)
    codes = pages.parse(alice.client.get("/recovery-codes").data).list_items
    assert len(codes) == 10
    head(alice.client, "/recovery-codes", {})
    assert pages.parse(alice.client.get("/recovery-codes").data).list_items == codes, "a HEAD hid the codes"


def test_head_to_change_password_changes_nothing(app, clock):
    alice = owner(app, clock)
    clock.advance(30)
    code = alice.phone.code()
    head(alice.client, "/change-password", {"password": PASSWORD, "new_password": NEW_PASSWORD, "otp": code})
    assert logged_in(alice.client)
    response = change_password(alice, NEW_PASSWORD, otp=code)
    assert response.status_code < 400, f"after the HEAD, the same form by POST: {response.status_code}"
    alice.logout()
    clock.advance(30)
    alice.password = NEW_PASSWORD
    assert alice.sign_in(), "the POST did change the password: the HEAD did not run first"


def test_head_to_replace_phone_uses_no_code(app, clock):
    alice = owner(app, clock)
    clock.advance(30)
    code = alice.phone.code()
    head(alice.client, "/replace-phone", {"password": PASSWORD, "otp": code})
    qr_page = replace_phone_start(alice, otp=code)
    assert new_qr(qr_page) is not None, "after the HEAD, the same code by POST shows no QR code: the HEAD used it"


def test_a_new_login_in_a_browser_ends_its_earlier_session(app, clock):
    alice = owner(app, clock)
    earlier = session_cookie(alice.client)
    clock.advance(30)
    assert alice.sign_in()
    copy = browser(app)
    copy.set_cookie(app.config["SESSION_COOKIE_NAME"], earlier)
    assert not logged_in(copy), "the browser's earlier session still opens the dashboard"


def test_what_nobody_comes_back_for_is_purged(app, clock, tmp_path):
    """carol enrolls and never saves her codes; dave registers and never confirms a code; alice leaves
    five sessions open. 30 days later, after one other person's visit, the database file holds none of it."""
    alice = owner(app, clock)
    for _ in range(4):
        clock.advance(30)
        assert alice.in_another_browser(app).sign_in()
    carol = Person(browser(app), Authenticator(clock), username="carol")
    page = start_registration(carol)
    submit_form(carol.client, "/enable-2fa", {"otp": carol.phone.code()}, page=page)
    carols_codes = pages.parse(carol.client.get("/recovery-codes").data).list_items
    assert len(carols_codes) == 10
    dave = Person(browser(app), Authenticator(clock), username="dave-who-left")
    dave.register()
    dave.client.get("/enable-2fa")
    sessions_before = table_rows(app.config["DATABASE"], "session")

    clock.advance(30 * DAY)
    visitor = Person(browser(app), Authenticator(clock), username="erin").enrol()
    visitor.logout()
    clock.advance(30)
    assert visitor.sign_in()

    data = file_bytes(app)
    kept = [code for code in carols_codes if code.encode() in data or code.replace("-", "").encode() in data]
    assert not kept, f"carol's unsaved recovery codes are still in the file after 30 days: {len(kept)}"
    values = [str(value) for _t, _c, value in every_value(stolen_copy(app, tmp_path / "purged.sqlite"))]
    assert not any("dave-who-left" in value for value in values), "dave's abandoned registration is still stored"
    assert Person(browser(app), Authenticator(clock), username="dave-who-left").register().status_code < 400, \
        "the abandoned name is still reserved"
    if sessions_before:  # an app that keeps server-side sessions in a table named so
        assert table_rows(app.config["DATABASE"], "session") <= 3, "expired sessions are kept"


@pytest.mark.parametrize("key", ["a" * 32, "changeme" * 4, "1" * 40, "ab" * 20, "0123456789" * 4])
def test_start_up_refuses_an_obviously_non_random_secret_key(folder, tmp_path, environment, key):
    environment.delete("FLASK_DEBUG")
    settings = {"SECRET_KEY": key, "DATABASE": str(tmp_path / "users.sqlite"), "TOTP_ENCRYPTION_KEYS": KEY_A}
    try:
        make_app(folder, settings)
    except SystemExit:
        pytest.fail("SystemExit: gunicorn answers it by restarting the worker, forever")
    except Exception as error:
        assert "FLASK_SECRET_KEY" in str(error), f"the message should say what to set: {error}"
    else:
        pytest.fail(f"started with the key {key!r}")


def test_start_up_accepts_a_random_secret_key(folder, tmp_path, environment):
    environment.delete("FLASK_DEBUG")
    key = secrets.token_hex(32)
    app = make_app(folder, {"SECRET_KEY": key, "DATABASE": str(tmp_path / "users.sqlite"), "TOTP_ENCRYPTION_KEYS": KEY_A})
    assert app.secret_key == key


@pytest.mark.parametrize("prefix", ["//evil.example", "/\\evil.example", "///evil.example"])
def test_x_forwarded_prefix_is_one_path_never_another_host(folder, tmp_path, clock, prefix):
    app = new_app(folder, tmp_path, clock, BEHIND_PROXY=True)
    client = browser(app)
    for url in ("/", "/dashboard", "/verify-2fa", "/enable-2fa"):
        response = client.get(url, headers={"X-Forwarded-Prefix": prefix})
        target = response.headers.get("Location", "")
        assert not target.startswith(("//", "/\\", "\\")), f"{url}: Location {target!r}"
        resolved = urlsplit(urljoin("http://localhost" + url, target.replace("\\", "/")))
        assert resolved.netloc == "localhost", f"{url}: Location {target!r} leads to {resolved.netloc}"
    html = client.get("/login", headers={"X-Forwarded-Prefix": prefix}).get_data(as_text=True)
    assert "evil.example" not in html, "the page links to another host"
    proxied = client.get("/login", headers={"X-Forwarded-Prefix": "/user/alice/proxy/5007"}).get_data(as_text=True)
    assert "/user/alice/proxy/5007/" in proxied, "a real one-path prefix is used: the header reaches the app"


def test_the_session_cookie_is_host_prefixed_when_secure(folder, tmp_path, clock):
    app = new_app(folder, tmp_path, clock, SESSION_COOKIE_SECURE=True)
    response = browser(app).get("/login", base_url="https://localhost")
    cookies = [value for name, value in response.headers.items() if name.lower() == "set-cookie"]
    session_cookies = [c for c in cookies if c.split("=", 1)[0] == app.config["SESSION_COOKIE_NAME"]]
    assert session_cookies, f"no session cookie among {cookies}"
    for cookie in session_cookies:
        assert cookie.startswith("__Host-"), f"the session cookie is {cookie.split('=', 1)[0]!r}"
        attributes = cookie.lower()
        assert "; secure" in attributes and "; path=/" in attributes and "domain=" not in attributes, cookie


@pytest.mark.parametrize("username, password", [
    ("bob", "Summer2024!"), ("bob", "Passw0rd!2024"), ("bob", "flask2fa"), ("alice", "Alice2024!"),
])
def test_passwords_need_zxcvbn_score_three(app, clock, username, password):
    response = Person(browser(app), Authenticator(clock), username=username, password=password).register()
    assert 400 <= response.status_code < 500, f"{password!r} was accepted for {username}"
    assert location(Person(browser(app), None, username, password).login()) not in ("/enable-2fa", "/verify-2fa")


def test_registrations_are_throttled_per_client_address(app, clock):
    for number in range(50):
        response = Person(browser(app, "10.8.8.8"), None, username=f"bulk{number:02d}").register()
        if response.status_code == 429:
            assert retry_after(response, 0) > 0, "429 without Retry-After"
            break
    else:
        pytest.fail("50 registrations from one address in a second, none refused")
    assert number >= 3, f"a class behind one address: registration {number + 1} was already refused"


def unknown_name_logins(app, headers_for=lambda number: {}, address="10.9.9.9", tries=50):
    """Logins to names that do not exist, from one address: the number of the first 429, or None."""
    for number in range(tries):
        client = browser(app, address)
        token = csrf_token(client, "/login")
        response = client.post("/login", data={"username": f"nobody{number:02d}", "password": "a guess at it",
                                               "csrf_token": token}, headers=headers_for(number))
        if response.status_code == 429:
            return number
    return None


def test_logins_to_unknown_names_are_throttled_per_client_address(app):
    first = unknown_name_logins(app)
    assert first is not None, "50 logins to unknown names from one address, none refused"


def test_x_forwarded_for_is_believed_only_behind_a_proxy(folder, tmp_path, clock):
    (tmp_path / "direct").mkdir()
    (tmp_path / "proxied").mkdir()
    hand_over(tmp_path / "direct", tmp_path / "proxied")  # the app's to write in, wherever it runs
    direct = new_app(folder, tmp_path / "direct", clock)
    spoofed = unknown_name_logins(direct, lambda number: {"X-Forwarded-For": f"192.0.2.{number}"})
    assert spoofed is not None, "a new X-Forwarded-For on each request escaped the per-address limit"
    proxied = new_app(folder, tmp_path / "proxied", clock, BEHIND_PROXY=True)
    first = unknown_name_logins(proxied, lambda number: {"X-Forwarded-For": "192.0.2.7"})
    assert first is not None, "behind the proxy, one client (one X-Forwarded-For) was never throttled"
    other_client = unknown_name_logins(proxied, lambda number: {"X-Forwarded-For": "198.51.100.9"}, tries=1)
    assert other_client is None, "behind the proxy, another client (another X-Forwarded-For) was refused too"

