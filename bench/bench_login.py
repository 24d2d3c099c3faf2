"""How fast is a stage-7 login under gunicorn? Password step plus code step, many users at once.

    .venv/bin/python bench/bench_login.py [--users 60] [--clients 8] [--workers 4] [--app-dir DIR]

Starts stage 7 under gunicorn on 127.0.0.1 (a free port, a fresh database in
a temporary folder), registers and enrols --users users over HTTP, then logs
each of them in once (GET /login, POST /login, GET /verify-2fa, POST /verify-2fa)
from --clients threads, and prints requests per second and p50/p95 latencies.
Loopback only; bounded by --users and by --max-seconds; the server is always stopped.

Each user logs in once: a code is accepted once per 30-second step, and the
enrolment used the current one, so the login sends the next step's code (one
step ahead is inside the window, like a phone whose clock runs a little fast).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from workbook import pages
from workbook.phone import Phone
from workbook.stages import stage
from workbook.testing.accounts import PASSWORD
from workbook.testing.servers import free_port, running, stage_environment
from workbook.visitor import Visitor

GUNICORN = Path(sys.executable).with_name("gunicorn")


def enrol(base_url, username):
    visitor = Visitor(base_url)
    visitor.submit("/register", {"username": username, "password": PASSWORD})
    visitor.submit("/login", {"username": username, "password": PASSWORD})
    phone = Phone()
    phone.scan(visitor.get("/enable-2fa").text)
    response = visitor.submit("/enable-2fa", {"otp": phone.code()})
    if response.status_code != 302:
        raise RuntimeError(f"enrolment of {username} failed: {response.status_code}")
    return username, phone


def timed(call):
    start = time.perf_counter()
    response = call()
    return response, time.perf_counter() - start


def log_in(base_url, username, phone):
    """One full login; the latency of each request, and whether it reached the dashboard."""
    visitor = Visitor(base_url)
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


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=60, help="users to enrol and log in (at most 500)")
    parser.add_argument("--clients", type=int, default=8, help="threads sending requests at once")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--max-seconds", type=float, default=60, help="stop starting new logins after this")
    parser.add_argument("--app-dir", default=str(stage(7).folder),
                        help="the stage-7 app to measure (default app_steps/step_07_hardening), to compare two versions")
    args = parser.parse_args()
    users = max(1, min(args.users, 500))

    port = free_port()
    command = [str(GUNICORN), "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
               "--chdir", args.app_dir, "app:create_app()"]
    with tempfile.TemporaryDirectory(prefix="bench_login_") as folder, \
            running(command, port, stage_environment(port, Path(folder) / "users.sqlite"), path="/login") as base_url:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            enrolled = list(pool.map(lambda i: enrol(base_url, f"user{i:03d}"), range(users)))
        enrol_seconds = time.perf_counter() - started

        deadline = time.monotonic() + args.max_seconds

        def one_login(user):
            return log_in(base_url, *user) if time.monotonic() < deadline else None

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            results = [r for r in pool.map(one_login, enrolled) if r is not None]
        seconds = time.perf_counter() - started

    requests_sent = 4 * len(results)
    print(f"{args.app_dir} under gunicorn -w {args.workers}, {args.clients} clients, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}")
    print(f"setup: {users} users registered and enrolled in {enrol_seconds:.1f} s")
    print(f"{len(results)} logins, {sum(r['ok'] for r in results)} reached the dashboard, in {seconds:.2f} s: "
          f"{requests_sent / seconds:.0f} requests/s, {len(results) / seconds:.1f} logins/s")
    print()
    print(f"| {'request':<26} | {'p50 ms':>7} | {'p95 ms':>7} |")
    print(f"|{'-' * 28}|{'-' * 9}|{'-' * 9}|")
    for name in ("GET /login", "POST /login", "GET /verify-2fa", "POST /verify-2fa", "whole login (4 requests)"):
        values = [r[name] * 1000 for r in results]
        print(f"| {name:<26} | {statistics.median(values):7.1f} | {percentile(values, 0.95):7.1f} |")


if __name__ == "__main__":
    main()
