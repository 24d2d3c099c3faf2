"""How fast is a stage-7 login under gunicorn? Password step plus code step, many users at once.

    .venv/bin/python bench/bench_login.py [--users 60] [--clients 8] [--workers 4]

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
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from workbook import pages
from workbook.phone import Phone
from workbook.stages import stage

STAGE7 = stage(7).folder
GUNICORN = Path(sys.executable).with_name("gunicorn")
PASSWORD = "correct horse battery"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(folder, workers):
    port = free_port()
    env = {**os.environ, "FLASK_SECRET_KEY": secrets.token_hex(32),
           "FLASK_SESSION_COOKIE_SECURE": "false", "FLASK_DATABASE": str(folder / "users.sqlite")}
    env.pop("FLASK_DEBUG", None)
    log = open(folder / "gunicorn.log", "wb")
    process = subprocess.Popen(
        [str(GUNICORN), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--chdir", str(STAGE7), "app:create_app()"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        booted = (folder / "gunicorn.log").read_text().count("Booting worker")
        try:
            if booted >= workers and requests.get(f"{base_url}/login", timeout=2).ok:
                return process, base_url
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    stop_server(process)
    sys.exit("gunicorn did not start:\n" + (folder / "gunicorn.log").read_text())


def stop_server(process):
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def post_form(browser, url, **fields):
    page = pages.parse(browser.get(url).text)
    form = next(f for f in page.forms if f.method == "post" and set(fields) & set(f.fields))
    return browser.post(url, data=form.data(**fields), allow_redirects=False)


def enrol(base_url, username):
    browser = requests.Session()
    post_form(browser, f"{base_url}/register", username=username, password=PASSWORD)
    post_form(browser, f"{base_url}/login", username=username, password=PASSWORD)
    phone = Phone()
    phone.scan(browser.get(f"{base_url}/enable-2fa").text)
    response = post_form(browser, f"{base_url}/enable-2fa", otp=phone.code())
    if response.status_code != 302:
        raise RuntimeError(f"enrolment of {username} failed: {response.status_code}")
    return username, phone


def timed(call):
    start = time.perf_counter()
    response = call()
    return response, time.perf_counter() - start


def log_in(base_url, username, phone):
    """One full login; the latency of each request, and whether it reached the dashboard."""
    browser = requests.Session()
    started = time.perf_counter()
    page, get_login = timed(lambda: browser.get(f"{base_url}/login"))
    form = pages.parse(page.text).form("username")
    _, post_login = timed(lambda: browser.post(f"{base_url}/login", allow_redirects=False,
                                               data=form.data(username=username, password=PASSWORD)))
    page, get_verify = timed(lambda: browser.get(f"{base_url}/verify-2fa"))
    form = pages.parse(page.text).form("otp")
    code = phone.code(at=time.time() + 30)  # the next step: the enrolment used this one
    response, post_verify = timed(lambda: browser.post(f"{base_url}/verify-2fa", allow_redirects=False,
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
    args = parser.parse_args()
    users = max(1, min(args.users, 500))

    with tempfile.TemporaryDirectory(prefix="bench_login_") as folder:
        process, base_url = start_server(Path(folder), args.workers)
        try:
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.clients) as pool:
                enrolled = list(pool.map(lambda i: enrol(base_url, f"user{i:03d}"), range(users)))
            enrol_seconds = time.perf_counter() - started

            deadline = time.monotonic() + args.max_seconds
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.clients) as pool:
                futures = [pool.submit(lambda u=u, p=p: log_in(base_url, u, p) if time.monotonic() < deadline else None)
                           for u, p in enrolled]
                results = [f.result() for f in futures if f.result() is not None]
            seconds = time.perf_counter() - started
        finally:
            stop_server(process)

    requests_sent = 4 * len(results)
    print(f"stage 7 under gunicorn -w {args.workers}, {args.clients} clients, {os.cpu_count()} CPUs, "
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
