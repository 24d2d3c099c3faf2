"""How long does a stage-8 passkey login take, beside a TOTP login on the same server? Both in one run.

    .venv/bin/python bench/bench_passkey_login.py [--logins 30] [--workers 4] [--app-dir DIR]

Starts the stage 8 app under gunicorn on 127.0.0.1 (a free port, a fresh database, a temporary
folder; ORIGIN http://localhost:<port>, RP ID localhost). It registers and enrols --logins users
over HTTP (register, scan the QR code, confirm a code, save the recovery codes) and adds a passkey
for each with the workbook's stand-in (workbook.passkey: a P-256 key, signing in this process, as
a phone or a security key would). Then each user logs in twice, in fresh browsers, in turn:

- with the password and a code: GET /login, POST /login, GET /verify-2fa, POST /verify-2fa
  (the same four requests as bench_login.py; the password is checked with Argon2id);
- with the passkey: GET /login, POST /passkeys/login/options, the stand-in signs,
  POST /passkeys/login/verify (py_webauthn checks an ECDSA P-256 signature; no password hash).

The two kinds alternate (TOTP first for even users, passkey first for odd ones), so that both see
the same moments of a shared machine. It prints p50/p95 latencies per step and for the whole login.
Loopback only; the server is always stopped. Reuses bench_login.py's enrolment and TOTP login.
"""
import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_login, beside this file

from bench_login import GUNICORN, TOTP_KEY, browser, enrol, log_in, percentile, timed  # noqa: E402

from workbook.passkey import Authenticator, Browser  # noqa: E402
from workbook.stages import stage  # noqa: E402
from workbook.testing.servers import free_port, running, stage_environment  # noqa: E402

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
TOTP_STEPS = ("GET /login", "POST /login", "GET /verify-2fa", "POST /verify-2fa", "whole login (4 requests)")
PASSKEY_STEPS = ("GET /login", "POST /passkeys/login/options", "the stand-in signs", "POST /passkeys/login/verify",
                 "whole login (3 requests)")


def csrf_header(page_text):
    return {"X-CSRFToken": CSRF_META.search(page_text)[1]}


def enrol_with_passkey(base_url, origin, number):
    """Register and enrol user ``number``, then, still signed in from enrolling, add a passkey on a
    stand-in: (username, phone, address number), and the stand-in's Browser."""
    visitor = browser(base_url, number)
    user = enrol(base_url, number, visitor)
    username = user[0]
    headers = csrf_header(visitor.get("/passkeys").text)
    options = visitor.http.post(visitor.url("/passkeys/register/options"), json={}, headers=headers)
    passkey = Browser(Authenticator())
    credential = passkey.create(origin, options.json())
    response = visitor.http.post(visitor.url("/passkeys/register/verify"), headers=headers,
                                 json={"credential": credential, "nickname": "bench"})
    if response.status_code != 201:
        raise RuntimeError(f"adding {username}'s passkey failed: {response.status_code} {response.text[:200]}")
    return user, passkey


def passkey_log_in(base_url, origin, passkey, number):
    """One passkey login in a fresh browser: the latency of each step, and whether it reached the dashboard."""
    visitor = browser(base_url, number)
    started = time.perf_counter()
    page, get_login = timed(lambda: visitor.get("/login"))
    headers = csrf_header(page.text)
    options, post_options = timed(lambda: visitor.http.post(visitor.url("/passkeys/login/options"), json={},
                                                            headers=headers))
    credential, sign = timed(lambda: passkey.get(origin, options.json()))
    response, post_verify = timed(lambda: visitor.http.post(visitor.url("/passkeys/login/verify"), headers=headers,
                                                            json={"credential": credential}))
    return {
        "GET /login": get_login, "POST /passkeys/login/options": post_options, "the stand-in signs": sign,
        "POST /passkeys/login/verify": post_verify, "whole login (3 requests)": time.perf_counter() - started,
        "ok": response.status_code == 200 and response.json().get("redirect", "").endswith("dashboard"),
    }


def table(title, steps, results):
    print(f"| {title:<32} | p50 ms | p95 ms |")
    print(f"|{'-' * 34}|--------|--------|")
    for step in steps:
        values = [r[step] * 1000 for r in results]
        print(f"| {step:<32} | {statistics.median(values):6.1f} | {percentile(values, 0.95):6.1f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--logins", type=int, default=30, help="users to enrol; each logs in once each way (at most 300)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--app-dir", default=str(stage(8).folder),
                        help="the stage-8 app to measure (default app_steps/step_08_passkeys)")
    args = parser.parse_args()
    logins = max(1, min(args.logins, 300))

    with tempfile.TemporaryDirectory(prefix="bench_passkey_login_") as folder:
        port = free_port()
        origin = f"http://localhost:{port}"
        environment = {**stage_environment(port, Path(folder) / "users.sqlite", behind_proxy=True),
                       "FLASK_TOTP_ENCRYPTION_KEYS": TOTP_KEY, "FLASK_ORIGIN": origin, "FLASK_RP_ID": "localhost"}
        command = [str(GUNICORN), "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
                   "--chdir", args.app_dir, "app:create_app()"]
        with running(command, port, environment, path="/login") as url:
            started = time.perf_counter()
            users, passkeys = zip(*(enrol_with_passkey(url, origin, number) for number in range(logins)), strict=True)
            setup_seconds = time.perf_counter() - started

            totp, passkey = [], []
            started = time.perf_counter()
            for (username, phone, number), key in zip(users, passkeys, strict=True):
                for kind in (("totp", "passkey") if number % 2 == 0 else ("passkey", "totp")):
                    if kind == "totp":
                        totp.append(log_in(url, username, phone, number))
                    else:
                        passkey.append(passkey_log_in(url, origin, key, number))
            seconds = time.perf_counter() - started

    print(f"{args.app_dir}: one server under gunicorn -w {args.workers}, one login at a time, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]}")
    print(f"setup: {logins} users enrolled, each with a passkey, in {setup_seconds:.1f} s; "
          f"{len(totp) + len(passkey)} logins in {seconds:.1f} s; reached the dashboard: "
          f"{sum(r['ok'] for r in totp)}/{len(totp)} with a code, {sum(r['ok'] for r in passkey)}/{len(passkey)} "
          "with a passkey")
    print()
    table("password + TOTP code", TOTP_STEPS, totp)
    print()
    table("passkey", PASSKEY_STEPS, passkey)


if __name__ == "__main__":
    main()
