"""How long does a whole stage-7 login take, with Argon2id and with scrypt? Both in one run.

    .venv/bin/python bench/bench_login.py [--logins 30] [--clients 1] [--workers 4] [--app-dir DIR]

Starts the stage 7 app twice under gunicorn on 127.0.0.1 (free ports, a fresh database each, in a
temporary folder): once with its default password hash (Argon2id at round three) and once with
``FLASK_PASSWORD_HASH_METHOD=scrypt:32768:8:1`` (werkzeug's scrypt, stage 7's hash before round three).
On each it registers and enrols --logins users over HTTP (register, scan the QR code, confirm a
code, save the recovery codes), then logs each of them in once (GET /login, POST /login,
GET /verify-2fa, POST /verify-2fa), alternating between the two servers so that both see the same
moments of a shared machine. It prints p50/p95 latencies per request and for the whole login, and
the hash each database really holds. Loopback only; the servers are always stopped.

Each user logs in once: a code is accepted once per 30-second step, and the enrolment used the
current one, so the login sends the next step's code (one step ahead is inside the window).
The servers run with FLASK_BEHIND_PROXY=1 and each user comes from an address of its own
(X-Forwarded-For): the per-address limit on /register is not what is measured here.
"""
import argparse
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing
from pathlib import Path

from workbook import pages
from workbook.phone import Phone
from workbook.stages import stage
from workbook.testing.accounts import PASSWORD
from workbook.testing.servers import free_port, running, stage_environment
from workbook.visitor import Visitor

GUNICORN = Path(sys.executable).with_name("gunicorn")
TOTP_KEY = "Dqs7SqdJIOed4JFFVzrnkbEEuL-F8t_WcO1bUtAufCc="  # a Fernet key for this benchmark only
# werkzeug's scrypt written out with its default parameters (N=2^15, r=8, p=1): the hash then starts
# with the method's own name, so an app that replaces hashes made another way keeps these as they are.
HASHES = {"default": {}, "scrypt": {"FLASK_PASSWORD_HASH_METHOD": "scrypt:32768:8:1"}}
REQUESTS = ("GET /login", "POST /login", "GET /verify-2fa", "POST /verify-2fa", "whole login (4 requests)")


def browser(base_url, number):
    visitor = Visitor(base_url)
    visitor.http.headers["X-Forwarded-For"] = f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"
    return visitor


def enrol(base_url, number, visitor=None):
    """Register user ``number`` and confirm the first code: (username, phone, address number).
    ``visitor``: the browser to do it in (then signed in as that user), else a new one."""
    username = f"user{number:03d}"
    visitor = visitor or browser(base_url, number)
    response = visitor.submit("/register", {"username": username, "password": PASSWORD})
    if not response.headers.get("Location", "").endswith("enable-2fa"):  # stage 7 before round three
        visitor.submit("/login", {"username": username, "password": PASSWORD})
    phone = Phone()
    phone.scan(visitor.get("/enable-2fa").text)
    response = visitor.submit("/enable-2fa", {"otp": phone.code()})
    if response.status_code != 302:
        raise RuntimeError(f"enrolment of {username} failed: {response.status_code}")
    if pages.parse(visitor.get("/recovery-codes").text).post_form(action="recovery-codes"):
        visitor.submit("/recovery-codes", {}, action="recovery-codes")  # "I have saved them"
    return username, phone, number


def timed(call):
    start = time.perf_counter()
    response = call()
    return response, time.perf_counter() - start


def log_in(base_url, username, phone, number):
    """One full login in a fresh browser: the latency of each request, and whether it reached the dashboard."""
    visitor = browser(base_url, number)
    started = time.perf_counter()
    page, get_login = timed(lambda: visitor.get("/login"))
    form = pages.parse(page.text).form("username")
    _, post_login = timed(lambda: visitor.http.post(visitor.url("/login"), allow_redirects=False,
                                                    data=form.data(username=username, password=PASSWORD)))
    page, get_verify = timed(lambda: visitor.get("/verify-2fa"))
    form = pages.parse(page.text).form("otp")
    code = phone.code(at=time.time() + 30)  # the next step: the enrolment used this one
    response, post_verify = timed(lambda: visitor.http.post(visitor.url("/verify-2fa"), allow_redirects=False,
                                                            data=form.data(otp=code)))
    return {
        "GET /login": get_login, "POST /login": post_login,
        "GET /verify-2fa": get_verify, "POST /verify-2fa": post_verify,
        "whole login (4 requests)": time.perf_counter() - started,
        "ok": response.status_code == 302 and response.headers["Location"].endswith("dashboard"),
    }


def stored_hash(database):
    """The kind and parameters of the password hash a database holds, e.g. "argon2id m=19456,t=2,p=1"."""
    with closing(sqlite3.connect(database)) as db:
        value = db.execute("SELECT password_hash FROM users LIMIT 1").fetchone()[0]
    argon2 = re.match(r"\$(argon2\w*)\$v=\d+\$([^$]+)\$", value)
    return f"{argon2[1]} {argon2[2]}" if argon2 else value.split("$", 1)[0]


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--logins", type=int, default=30, help="users to enrol and log in on each server (at most 300)")
    parser.add_argument("--clients", type=int, default=1,
                        help="logins at once (1: one after the other, latency without queueing)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes per server")
    parser.add_argument("--app-dir", default=str(stage(7).folder),
                        help="the stage-7 app to measure (default app_steps/step_07_hardening)")
    args = parser.parse_args()
    logins = max(1, min(args.logins, 300))

    with tempfile.TemporaryDirectory(prefix="bench_login_") as folder, ExitStack() as servers:
        urls, databases = {}, {}
        for name, extra in HASHES.items():
            port = free_port()
            databases[name] = Path(folder) / f"{name}.sqlite"
            environment = {**stage_environment(port, databases[name], behind_proxy=True),
                           "FLASK_TOTP_ENCRYPTION_KEYS": TOTP_KEY, **extra}
            command = [str(GUNICORN), "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
                       "--chdir", args.app_dir, "app:create_app()"]
            urls[name] = servers.enter_context(running(command, port, environment, path="/login"))

        started = time.perf_counter()
        users = {name: [enrol(url, number) for number in range(logins)] for name, url in urls.items()}
        enrol_seconds = time.perf_counter() - started

        # A, B, A, B, ...: each server's logins spread over the same minutes.
        plan = [(name, user) for pair in zip(*(users[n] for n in HASHES), strict=True)
                for name, user in zip(HASHES, pair, strict=True)]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            results = list(pool.map(lambda item: (item[0], log_in(urls[item[0]], *item[1])), plan))
        seconds = time.perf_counter() - started
        hashes = {name: stored_hash(databases[name]) for name in HASHES}

    print(f"{args.app_dir}: two servers under gunicorn -w {args.workers}, {args.clients} client(s), "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]}")
    print(f"setup: {2 * logins} users registered and enrolled in {enrol_seconds:.1f} s; "
          f"{len(results)} logins in {seconds:.1f} s, "
          f"{sum(r['ok'] for _, r in results)} reached the dashboard")
    print()
    header = " | ".join(f"{name}: {hashes[name]}, p50 / p95 ms" for name in HASHES)
    print(f"| {'request':<26} | {header} |")
    print(f"|{'-' * 28}|" + "|".join("-" * (len(f" {name}: {hashes[name]}, p50 / p95 ms ")) for name in HASHES) + "|")
    for request in REQUESTS:
        cells = []
        for name in HASHES:
            values = [r[request] * 1000 for n, r in results if n == name]
            cell = f"{statistics.median(values):.0f} / {percentile(values, 0.95):.0f}"
            cells.append(cell.rjust(len(f"{name}: {hashes[name]}, p50 / p95 ms")))
        print(f"| {request:<26} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
