"""Stage 7 under gunicorn, 4 workers, one SQLite file: requests sent by a dozen sessions at once.

Each worker is its own process, so nothing in memory is shared: only the
database can decide who was first, how many tries were made, and which
sessions still count.
"""
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
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
SESSIONS = 12


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Stage 7 as the contract deploys it: gunicorn -w 4, one database, a key from the environment."""
    port = free_port()
    command = [str(GUNICORN), "-w", "4", "-b", f"127.0.0.1:{port}",
               "--chdir", str(stage(7).folder), "app:create_app()"]
    database = tmp_path_factory.mktemp("gunicorn") / "users.sqlite"
    # The server's own output (its errors, tracebacks) is kept beside the database, for a failure to show.
    with running(command, port, stage_environment(port, database), path="/login",
                 log=database.with_name("gunicorn.log")) as base_url:
        yield base_url


def enrol(base_url, username):
    """Register, scan the QR code and confirm a code in the same session, over HTTP: (secret, recovery codes)."""
    visitor = Visitor(base_url)
    assert visitor.submit("/register", {"username": username, "password": PASSWORD}).status_code == 302
    account = Phone().scan(visitor.get("/enable-2fa").text)
    response = visitor.submit("/enable-2fa", {"otp": totp(account.secret, time.time())})
    assert response.status_code == 302, response.text
    codes = pages.parse(visitor.get("/recovery-codes").text).list_items
    assert len(codes) == 10
    enrol.visitor = visitor  # logged in: the tests that need the session take it from here
    return account.secret, codes


def sessions_at_the_code_step(base_url, username, field):
    """SESSIONS visitors past the password step, each holding its code form (and csrf_token)."""
    def one(_):
        visitor = Visitor(base_url)
        assert visitor.submit("/login", {"username": username, "password": PASSWORD}).status_code == 302
        return visitor, pages.parse(visitor.get("/verify-2fa").text).form(field)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(SESSIONS)))


def all_at_once(sessions, path="/verify-2fa", **fields):
    """POST the same fields to ``path`` from every session, released together by a barrier."""
    barrier = threading.Barrier(len(sessions))
    results = [None] * len(sessions)

    def send(index):
        visitor, form = sessions[index]
        barrier.wait()
        try:
            results[index] = visitor.http.post(visitor.url(path), data=form.data(**fields),
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
    results = all_at_once(sessions, otp=code)
    assert_exactly_one_winner(results)
    on_dashboard = [v.get("/dashboard", allow_redirects=False).status_code for v, _ in sessions]
    assert on_dashboard.count(200) == 1, on_dashboard


def test_one_recovery_code_from_a_dozen_sessions_wins_once(server):
    _secret, codes = enrol(server, "bob")
    sessions = sessions_at_the_code_step(server, "bob", "recovery_code")
    results = all_at_once(sessions, recovery_code=codes[0])
    assert_exactly_one_winner(results)


def copy_of(visitor):
    """Another HTTP client holding the same cookies: a stolen copy of the session."""
    thief = Visitor(visitor.base_url)
    thief.http.cookies.update(visitor.http.cookies)
    return thief


def dashboard_statuses(visitor, times=12):
    """Several requests in a row: gunicorn hands them to different workers."""
    return [visitor.get("/dashboard", allow_redirects=False).status_code for _ in range(times)]


def test_logout_ends_the_session_in_every_worker(server):
    enrol(server, "carol")
    carol = enrol.visitor
    thief = copy_of(carol)
    assert dashboard_statuses(thief) == [200] * 12, "the copy works while the session lives"
    assert carol.submit("/dashboard", {}, action="/logout").status_code == 302
    assert 200 not in dashboard_statuses(thief), "a worker still let the copied cookie in"


def test_a_burst_of_password_guesses_gets_five_tries(server):
    enrol(server, "dave")
    visitor = Visitor(server)  # a browser dave's account does not trust: it shares the strangers' count

    def at_the_login_form(_):
        guesser = Visitor(server)
        return guesser, pages.parse(guesser.get("/login").text).form("password")

    with ThreadPoolExecutor(max_workers=4) as pool:
        sessions = list(pool.map(at_the_login_form, range(SESSIONS)))
    results = all_at_once(sessions, "/login", username="dave", password="a wrong guess")
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(401) <= 5 and set(statuses) <= {401, 429}, statuses
    right = visitor.submit("/login", {"username": "dave", "password": PASSWORD})
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0


def test_a_burst_at_replace_phone_gets_three_tries_then_the_session_ends(server):
    enrol(server, "erin")
    erin = enrol.visitor
    form = pages.parse(erin.get("/replace-phone").text).form("otp")
    copies = [(copy_of(erin), form) for _ in range(SESSIONS)]
    results = all_at_once(copies, "/replace-phone", password="a wrong guess", otp="123456")
    statuses = sorted(r.status_code for r in results)
    assert statuses.count(401) <= 3, statuses
    assert 200 not in dashboard_statuses(erin), "the session outlived its tries"


def test_gunicorn_without_a_key_stops_instead_of_rebooting_forever(tmp_path):
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("FLASK_SECRET_KEY", "FLASK_DEBUG")}
    environment["FLASK_DATABASE"] = str(tmp_path / "users.sqlite")
    command = [str(GUNICORN), "-w", "4", "-b", "127.0.0.1:0", "--chdir", str(stage(7).folder), "app:create_app()"]
    try:
        finished = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired as still_running:
        pytest.fail(f"gunicorn kept running without a key:\n{(still_running.stderr or b'')[-2000:]}")
    assert finished.returncode != 0
    assert "FLASK_SECRET_KEY" in finished.stderr
    assert finished.stderr.count("Booting worker") <= 4, "workers were restarted"


def test_a_login_that_succeeds_between_two_steps_of_another_login_breaks_nothing(tmp_path):
    """The interleaving behind a 500 this file's gunicorn run once met, replayed step by step.

    Two logins of one user at once: B starts counting its attempt against the password
    throttle, and just then A's login succeeds and ends the pause. B must still get an answer
    (go ahead, or wait), never an exception: the count is one transaction (BEGIN IMMEDIATE).
    """
    from workbook.app_loader import make_app

    app = make_app(stage(7).folder, {"TESTING": True, "SECRET_KEY": "test key, not a real one, long enough",
                                     "DATABASE": str(tmp_path / "users.sqlite")})
    module = sys.modules[app.import_name]  # this app's own copies of the stage's modules
    throttle, db = module.throttle, module.db
    subject = "user:1"
    with app.app_context():
        first = throttle.start_attempt(subject, "password", throttle.STRANGERS, time.time())

    def when_b_begins(statement):
        if statement.startswith("BEGIN") and not done:
            done.append(True)
            with app.app_context():  # A: another request, its own connection
                throttle.attempt_succeeded(first)

    done = []
    with app.app_context():
        db.get_db().set_trace_callback(when_b_begins)
        attempt = throttle.start_attempt(subject, "password", throttle.STRANGERS, time.time())
        assert attempt.wait is None, "B was refused for no reason"
    assert done, "the interleaving was not replayed: the throttle no longer starts a transaction"
