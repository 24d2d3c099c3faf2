"""Every stage app, started both documented ways, works over real HTTP.

A real QR decoder (zxing-cpp) reads the QR code from the served page and the
tests' own RFC 6238 code (not pyotp) makes the codes, at the real time.
"""
import re
import time
from urllib.parse import urlsplit

import pytest

from workbook import pages, qr
from workbook.phone import parse_otpauth_uri
from workbook.stages import STAGES
from workbook.testing.accounts import PASSWORD, USERNAME
from workbook.testing.servers import free_port, running, stage_command, stage_environment
from workbook.visitor import Visitor

from totp_reference import totp

pytestmark = pytest.mark.slow

CASES = [(s.number, way) for s in STAGES for way in ("python", "flask")]


@pytest.fixture(params=CASES, ids=[f"stage{n}-{way}" for n, way in CASES])
def served(request, tmp_path):
    number, way = request.param
    port = free_port()
    log = tmp_path / "server.log"
    with running(stage_command(number, way, port), port, stage_environment(port, tmp_path / "users.sqlite"),
                 log=log) as url:
        yield number, Visitor(url), log


def scan(html):
    images = pages.parse(html).data_uri_images()
    assert len(images) == 1
    return parse_otpauth_uri(qr.decode_data_uri(images[0]))


def now_code(secret, steps=0):
    return totp(secret, time.time() + 30 * steps)


def test_stage_over_http(served):
    number, visitor, log = served
    home = visitor.get("/")
    assert home.status_code == 200
    if number == 1:
        assert "pyotp" in pages.parse(home.text).text
    elif number == 2:
        secret = re.findall(r"[A-Z2-7]{32}", pages.parse(home.text).compact_text())
        assert secret and secret == re.findall(r"[A-Z2-7]{32}", pages.parse(visitor.get("/").text).compact_text())
    elif number in (3, 4, 5):
        account = scan(home.text)
        assert account.issuer == "Flask 2FA Workbook"
        assert scan(visitor.get("/").text).secret == account.secret
        if number == 5:
            wrong = visitor.submit("/", {"otp": f"{(int(now_code(account.secret)) + 500_000) % 1_000_000:06d}"})
            assert wrong.status_code in (400, 401, 403)
            right = visitor.submit("/", {"otp": now_code(account.secret)}, allow_redirects=True)
            assert right.status_code == 200 and "enabled" in right.text.lower()
    else:
        secrets = login_flow(visitor)
        # The server's own output (request log, messages): no password, key or code in it, not even in a URL.
        printed = log.read_text(errors="replace")
        assert "POST /login" in printed, f"the server log was not captured:\n{printed[-2000:]}"
        for secret in secrets:
            assert secret not in printed, f"the server printed a secret ({secret[:3]}...)"


def login_flow(visitor):
    alice = {"username": USERNAME, "password": PASSWORD}
    response = visitor.submit("/register", alice, allow_redirects=True)
    if urlsplit(response.url).path != "/enable-2fa":  # stage 7 goes there in the same session
        response = visitor.submit("/login", alice, allow_redirects=True)
    assert urlsplit(response.url).path == "/enable-2fa"
    account = scan(response.text)
    first_code = now_code(account.secret)
    response = visitor.submit("/enable-2fa", {"otp": first_code}, allow_redirects=True)
    assert response.status_code == 200
    assert visitor.get("/dashboard").status_code == 200

    visitor.submit("/dashboard", {}, action="/logout")
    assert urlsplit(visitor.get("/dashboard").url).path == "/login"

    response = visitor.submit("/login", alice, allow_redirects=True)
    assert urlsplit(response.url).path == "/verify-2fa"
    assert pages.parse(response.text).data_uri_images() == []
    # The next step's code: inside the window, and never the one just used (stage 7 refuses replays).
    second_code = now_code(account.secret, 1)
    response = visitor.submit("/verify-2fa", {"otp": second_code}, allow_redirects=True)
    assert urlsplit(response.url).path == "/dashboard" and response.status_code == 200
    return [PASSWORD, account.secret, first_code, second_code]


def test_two_stages_side_by_side_keep_their_own_sessions(tmp_path):
    """One browser, two stages on two ports of 127.0.0.1 (cookies ignore the port)."""
    five_port, three_port = free_port(), free_port()
    five_env = stage_environment(five_port, tmp_path / "5.sqlite", secret_key="key of stage 5")
    three_env = stage_environment(three_port, tmp_path / "3.sqlite", secret_key="key of stage 3")
    with running(stage_command(5, "python", five_port), five_port, five_env) as five_url, \
            running(stage_command(3, "python", three_port), three_port, three_env) as three_url:
        browser = Visitor(five_url)
        first = scan(browser.get(five_url + "/").text).secret
        scan(browser.get(three_url + "/").text)
        assert scan(browser.get(five_url + "/").text).secret == first, "visiting stage 3 reset stage 5's session"
