"""Stage 7, round three, over real HTTP under ``gunicorn -w 4``: the races that gave 500s (issue 21).

A double-clicked "turn on 2FA", three enrolments of one pending account at once, logout racing the
enrolment page, two replacements of one phone at once. Each worker is its own process: only the
database decides who was first. No answer may be a 5xx, and the server's log must hold no traceback.

The server is the stage 7 app (or ``--app-dir DIR``). It runs with ``FLASK_BEHIND_PROXY=1`` so that
each visitor can come from its own address (``X-Forwarded-For``): the per-address limit on
``/register`` is not what these tests are about.
"""
import itertools
import secrets
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from workbook import pages
from workbook.phone import Phone
from workbook.stages import stage
from workbook.testing.accounts import PASSWORD
from workbook.testing.servers import free_port, running, stage_environment
from workbook.visitor import Visitor

from totp_reference import totp

pytestmark = pytest.mark.slow

GUNICORN = Path(sys.executable).with_name("gunicorn")
TOTP_KEY = "Dqs7SqdJIOed4JFFVzrnkbEEuL-F8t_WcO1bUtAufCc="  # a Fernet key for these tests only
_addresses = itertools.count(1)


@pytest.fixture(scope="module")
def server(request, tmp_path_factory):
    """(base URL, log file): the app under gunicorn -w 4, one database, keys from the environment."""
    folder = request.config.getoption("--app-dir") or str(stage(7).folder)
    port = free_port()
    database = tmp_path_factory.mktemp("gunicorn") / "users.sqlite"
    log = database.with_name("gunicorn.log")
    environment = {**stage_environment(port, database, secret_key=secrets.token_hex(32), behind_proxy=True),
                   "FLASK_TOTP_ENCRYPTION_KEYS": TOTP_KEY}
    command = [str(GUNICORN), "-w", "4", "-b", f"127.0.0.1:{port}", "--chdir", folder, "app:create_app()"]
    with running(command, port, environment, path="/login", log=log) as base_url:
        yield base_url, log


@pytest.fixture
def base_url(server):
    """The server's URL; after the test, its log must show no traceback."""
    url, log = server
    before = log.stat().st_size
    yield url
    with open(log, "rb") as file:
        file.seek(before)
        printed = file.read().decode(errors="replace")
    assert "Traceback" not in printed and "Exception" not in printed, f"the server logged an error:\n{printed[-3000:]}"


def visitor(base_url):
    """A browser of its own, at an address of its own."""
    browser = Visitor(base_url)
    number = next(_addresses)
    browser.http.headers["X-Forwarded-For"] = f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"
    return browser


def copy_of(browser):
    """Another HTTP client with the same cookies and address: the same browser in another tab."""
    tab = Visitor(browser.base_url)
    tab.http.cookies.update(browser.http.cookies)
    tab.http.headers.update(browser.http.headers)
    return tab


def all_at_once(requests_to_send):
    """Send each (browser, method, path, data) at the same moment (a barrier): the responses, in order."""
    barrier = threading.Barrier(len(requests_to_send))
    results = [None] * len(requests_to_send)

    def send(index):
        browser, method, path, data = requests_to_send[index]
        barrier.wait()
        try:
            results[index] = browser.http.request(method, browser.url(path), data=data, allow_redirects=False,
                                                  timeout=30)
        except requests.RequestException as error:
            results[index] = error

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests_to_send))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def assert_no_server_error(results):
    assert all(isinstance(r, requests.Response) for r in results), results
    statuses = [r.status_code for r in results]
    assert all(status < 500 for status in statuses), statuses
    return statuses


def register(base_url, username):
    """A new browser registers ``username``: (the browser, its /enable-2fa page, the phone that scanned it)."""
    browser = visitor(base_url)
    response = browser.submit("/register", {"username": username, "password": PASSWORD})
    if not response.headers.get("Location", "").endswith("enable-2fa"):  # a round-two app: log in first
        browser.submit("/login", {"username": username, "password": PASSWORD})
    page = browser.get("/enable-2fa")
    assert page.status_code == 200, page.status_code
    phone = Phone()
    phone.scan(page.text)
    return browser, page, phone


def code_now(phone, steps=0):
    return totp(phone.accounts[-1].secret, time.time() + 30 * steps)


def signs_in(base_url, username, otp=None, recovery_code=None):
    """A fresh browser logs in with the password and ``otp`` or ``recovery_code``: it reached the dashboard."""
    browser = visitor(base_url)
    response = browser.submit("/login", {"username": username, "password": PASSWORD})
    if not response.headers.get("Location", "").endswith("verify-2fa"):
        return None
    fields = {"otp": otp} if otp else {"recovery_code": recovery_code}
    response = browser.submit("/verify-2fa", fields)
    return browser if response.status_code in (302, 303) and response.headers["Location"].endswith("dashboard") else None


ROUNDS = 3  # a race is won or lost by microseconds: each is run a few times


@pytest.mark.parametrize("clicks", [2, 3], ids=["double-click", "three-enrolments"])
def test_turning_2fa_on_several_times_at_once_is_never_a_500(base_url, clicks):
    """The right first code sent by ``clicks`` tabs of the registering browser at the same moment."""
    for attempt in range(ROUNDS):
        username = f"clicks{clicks}n{attempt}"
        browser, page, phone = register(base_url, username)
        data = pages.parse(page.text).form("otp").data(otp=code_now(phone))
        tabs = [browser] + [copy_of(browser) for _ in range(clicks - 1)]
        statuses = assert_no_server_error(all_at_once([(tab, "POST", "/enable-2fa", data) for tab in tabs]))
        assert any(300 <= status < 400 for status in statuses), f"no click turned 2FA on: {statuses}"
        assert signs_in(base_url, username, otp=code_now(phone, 1)), "the account does not log in with its phone"


def test_three_registrations_of_one_name_at_once_reserve_it_once(base_url):
    browsers = [visitor(base_url) for _ in range(3)]
    forms = [pages.parse(b.get("/register").text).form("username") for b in browsers]
    results = all_at_once([(b, "POST", "/register", f.data(username="samename", password=PASSWORD))
                           for b, f in zip(browsers, forms, strict=True)])
    statuses = assert_no_server_error(results)
    assert sum(300 <= status < 400 for status in statuses) == 1, f"the name went to several browsers: {statuses}"


def test_logout_racing_the_enrolment_page_is_never_a_500(base_url):
    for attempt in range(2 * ROUNDS):
        browser, page, _phone = register(base_url, f"racer{attempt}")
        logout = {"csrf_token": pages.parse(page.text).form("otp").fields["csrf_token"]}
        sends = [(copy_of(browser), "GET", "/enable-2fa", None) for _ in range(5)]
        sends.insert(2, (browser, "POST", "/logout", logout))
        assert_no_server_error(all_at_once(sends))


def enrol(base_url, username):
    """Register and confirm the first code over HTTP: (the phone, the recovery codes)."""
    browser, page, phone = register(base_url, username)
    response = browser.submit("/enable-2fa", {"otp": code_now(phone)})
    assert response.status_code in (302, 303), response.status_code
    codes = pages.parse(browser.get("/recovery-codes").text).list_items
    assert len(codes) == 10
    browser.submit("/recovery-codes", {}, action="recovery-codes")  # "I have saved them"
    return phone, codes


def test_two_replacements_of_one_phone_at_once_swap_it_once(base_url):
    _old_phone, codes = enrol(base_url, "replacer")
    sessions, new_phones = [], []
    for index in range(2):  # two browsers, each signed in with a recovery code and proving another
        browser = signs_in(base_url, "replacer", recovery_code=codes[2 * index])
        assert browser, "a recovery code did not log in"
        response = browser.submit("/replace-phone", {"password": PASSWORD, "recovery_code": codes[2 * index + 1]},
                                  allow_redirects=True)
        phone = Phone()
        phone.scan(response.text)
        sessions.append((browser, pages.parse(response.text).form("otp")))
        new_phones.append(phone)
    sends = [(browser, "POST", form.action or "/replace-phone", form.data(otp=code_now(phone)))
             for (browser, form), phone in zip(sessions, new_phones, strict=True)]
    statuses = assert_no_server_error(all_at_once(sends))
    working = [bool(signs_in(base_url, "replacer", otp=code_now(phone, 1))) for phone in new_phones]
    assert working.count(True) == 1, f"which new phones log in: {working} (statuses {statuses})"
