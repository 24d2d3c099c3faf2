"""Stage 7 under gunicorn, 4 workers, one SQLite file: one code sent by a dozen sessions at once.

Each worker is its own process, so nothing in memory is shared: only the
database can decide who was first, and exactly one request may win.
"""
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from totp_reference import totp
from workbook import pages
from workbook.phone import Phone
from workbook.stages import stage

pytestmark = pytest.mark.slow

STAGE7 = stage(7).folder
GUNICORN = Path(sys.executable).with_name("gunicorn")
WORKERS = 4
SESSIONS = 12
PASSWORD = "correct horse battery"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_ready(base_url, process, log_path, timeout=30):
    """Poll until every worker has booted and the app answers; fail with gunicorn's log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn stopped with code {process.returncode}:\n{log_path.read_text()}")
        booted = log_path.read_text().count("Booting worker")
        try:
            if booted >= WORKERS and requests.get(f"{base_url}/login", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.05)  # the polling interval, not a guess at how long start-up takes
    pytest.fail(f"gunicorn was not ready after {timeout} s:\n{log_path.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gunicorn")
    port = free_port()
    env = {
        **os.environ,
        "FLASK_SECRET_KEY": secrets.token_hex(32),
        "FLASK_SESSION_COOKIE_SECURE": "false",  # plain HTTP on the loopback
        "FLASK_DATABASE": str(folder / "users.sqlite"),
    }
    env.pop("FLASK_DEBUG", None)
    log_path = folder / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(GUNICORN), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}",
             "--chdir", str(STAGE7), "app:create_app()"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base_url, process, log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def post_form(session, url, **fields):
    """Fill in the form on the page at ``url``, hidden csrf_token included, and send it."""
    page = pages.parse(session.get(url).text)
    form = next(f for f in page.forms if f.method == "post" and set(fields) & set(f.fields))
    return session.post(url, data=form.data(**fields), allow_redirects=False)


def enrol(base_url, username):
    """Register, log in, scan the QR code and confirm a code, over HTTP: (secret, recovery codes)."""
    browser = requests.Session()
    assert post_form(browser, f"{base_url}/register", username=username, password=PASSWORD).status_code == 302
    assert post_form(browser, f"{base_url}/login", username=username, password=PASSWORD).status_code == 302
    account = Phone().scan(browser.get(f"{base_url}/enable-2fa").text)
    response = post_form(browser, f"{base_url}/enable-2fa", otp=totp(account.secret, time.time()))
    assert response.status_code == 302, response.text
    codes = pages.parse(browser.get(f"{base_url}/recovery-codes").text).list_items
    assert len(codes) == 10
    return account.secret, codes


def sessions_at_the_code_step(base_url, username, field):
    """SESSIONS browsers past the password step, each holding the code form's csrf_token."""
    def one(_):
        browser = requests.Session()
        response = post_form(browser, f"{base_url}/login", username=username, password=PASSWORD)
        assert response.status_code == 302
        form = pages.parse(browser.get(f"{base_url}/verify-2fa").text).form(field)
        return browser, form

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(SESSIONS)))


def all_at_once(base_url, sessions, **fields):
    """POST the same fields to /verify-2fa from every session, released together by a barrier."""
    barrier = threading.Barrier(len(sessions))
    results = [None] * len(sessions)

    def send(index):
        browser, form = sessions[index]
        barrier.wait()
        try:
            results[index] = browser.post(f"{base_url}/verify-2fa", data=form.data(**fields),
                                          allow_redirects=False, timeout=30)
        except requests.RequestException as error:
            results[index] = error

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(sessions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def assert_exactly_one_winner(results):
    assert all(isinstance(r, requests.Response) for r in results), results
    statuses = sorted(r.status_code for r in results)
    winners = [r for r in results if r.status_code == 302]
    assert len(winners) == 1, statuses
    assert winners[0].headers["Location"].endswith("dashboard")
    assert all(400 <= r.status_code < 500 for r in results if r is not winners[0]), statuses


def test_one_code_from_a_dozen_sessions_wins_once(server):
    secret, _codes = enrol(server, "alice")
    sessions = sessions_at_the_code_step(server, "alice", "otp")
    # The enrolment used this step's code; the next step's is in the window and fresh.
    code = totp(secret, time.time() + 30)
    results = all_at_once(server, sessions, otp=code)
    assert_exactly_one_winner(results)
    on_dashboard = [b.get(f"{server}/dashboard", allow_redirects=False).status_code for b, _ in sessions]
    assert on_dashboard.count(200) == 1, on_dashboard


def test_one_recovery_code_from_a_dozen_sessions_wins_once(server):
    _secret, codes = enrol(server, "bob")
    sessions = sessions_at_the_code_step(server, "bob", "recovery_code")
    results = all_at_once(server, sessions, recovery_code=codes[0])
    assert_exactly_one_winner(results)
