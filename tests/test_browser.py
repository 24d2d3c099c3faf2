"""Every stage app, in a real browser, used the way a student uses it.

Playwright drives Debian's Chromium (never a downloaded one). Where a page shows
a QR code, the workbook's phone stand-in decodes the image the browser shows and
the test types its code into the form, as a person would.

``use_stage`` is that walk, for one stage: tests/test_codespaces.py takes it through
every stage at its forwarded Codespaces address, and the test here takes the latest
stage through the Jupyter proxy. At each stage's own address, tests/test_accessibility.py
walks the same pages with axe-core checking each one, and takes the screenshots the
README shows (``screenshot`` below).

Without Chromium these tests are skipped, with the reason; with CI=true a missing
browser is a failure instead, so CI never passes by skipping them.
"""
import os
import re
import time

import pytest

from workbook import ROOT
from workbook.phone import Phone
from workbook.stages import STAGES
from workbook.testing.accounts import PASSWORD, USERNAME
from workbook.testing.servers import free_port, jupyter_server, running, stage_command, stage_environment

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 900, "height": 600}
STAGE_NUMBERS = [s.number for s in STAGES]

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect
except ImportError:  # then the browser fixture skips every test, and says why
    PlaywrightTimeout, expect = TimeoutError, None
STYLESHEET_RULES = "[...document.styleSheets].reduce((n, sheet) => n + sheet.cssRules.length, 0)"


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def screenshot(page, number):
    """Take the stage's screenshot; save it to docs/screenshots/ when it is missing or
    WORKBOOK_UPDATE_SCREENSHOTS=1 (its QR code is new every run, so an unchanged page
    is not rewritten and `make test` leaves the committed pictures alone)."""
    picture = page.screenshot(full_page=True)
    assert picture.startswith(b"\x89PNG") and len(picture) > 5_000, "the page rendered as an empty picture"
    path = SCREENSHOTS / f"step_{number:02d}.png"
    if not path.exists() or os.environ.get("WORKBOOK_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path.write_bytes(picture)


def assert_at(page, app_url, path):
    """The browser shows the app's page ``path`` (under the app's prefix, if it has one)."""
    target = app_url + path
    try:  # a redirect may still be under way: wait for it, up to the default timeout
        page.wait_for_url(lambda url: url.split("?")[0] == target)
    except PlaywrightTimeout as error:
        raise AssertionError(f"the browser is at {page.url}, not {target}") from error


def submit(page, button):
    """Click a submit button; return the response to the POST the browser sent."""
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.get_by_role("button", name=button).click()
    page.wait_for_load_state()
    return posted.value


def type_code(page, code, field="#otp"):
    """Type the code key by key, grouped as authenticator apps show it: 123 456."""
    page.locator(field).fill("")  # a page sent back after a wrong code may keep it
    page.locator(field).click()
    page.keyboard.type(f"{code[:3]} {code[3:]}")


def scan_qr(page):
    """Point the phone at the QR code the browser shows."""
    images = page.locator("img")
    assert images.count() == 1
    phone = Phone()
    account = phone.scan(images.first.get_attribute("src"))
    assert account.issuer == "Flask 2FA Workbook"
    # The manual-entry key, for people who cannot scan, is the same secret.
    assert account.secret in re.sub(r"\s", "", page.locator("body").inner_text())
    return phone


def use_stage(page, number, app_url, screenshots=True):
    """Use stage ``number`` at ``app_url`` as a student does; take its screenshot with ``screenshots``."""
    response = page.goto(app_url)
    assert response.status == 200
    if number == 1:
        text = page.locator("body").inner_text()
        assert "Everything is installed" in text
        assert all(name in text.lower() for name in ("flask", "pyotp", "pyqrcode", "pypng"))
        if screenshots:
            screenshot(page, 1)
    elif number == 2:
        shown = page.locator("code").inner_text()
        phone = Phone()
        phone.scan("otpauth://totp/Flask%202FA%20Workbook:student?secret=" + shown.replace(" ", ""))
        now = time.time()
        assert page.locator("strong").inner_text() in (phone.code(at=now), phone.code(at=now - 30))
        page.reload()
        assert page.locator("code").inner_text() == shown  # one secret per browser session
        if screenshots:
            screenshot(page, 2)
    elif number in (3, 4, 5):
        phone = scan_qr(page)
        page.reload()
        assert scan_qr(page).accounts[0].secret == phone.accounts[0].secret
        if screenshots:
            screenshot(page, number)
        if number == 4:
            type_code(page, phone.code())
            assert submit(page, "Enable 2FA").status == 405
            expect(page.locator("body")).to_contain_text("stage 5 adds the route")
        elif number == 5:
            type_code(page, f"{(int(phone.code()) + 500_000) % 1_000_000:06d}")
            assert submit(page, "Enable 2FA").status == 401
            expect(page.get_by_role("alert")).to_contain_text("not right")  # and the form, to try again
            type_code(page, phone.code())
            assert submit(page, "Enable 2FA").status == 200
            expect(page.get_by_role("heading", name="2FA is enabled")).to_be_visible()
    else:
        login_flow(page, app_url, number, screenshots)


def log_in(page, app_url):
    page.goto(app_url + "login")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    assert submit(page, "Next").status in (302, 303)


def login_flow(page, app_url, number, screenshots=True):
    page.goto(app_url)
    assert_at(page, app_url, "login")
    page.get_by_role("link", name="Register").first.click()
    assert_at(page, app_url, "register")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    assert submit(page, "Register").status in (302, 303)
    if number < 7:  # stage 7 (round three) goes straight on to enrolment, in the same session
        assert_at(page, app_url, "login")
        log_in(page, app_url)
    assert_at(page, app_url, "enable-2fa")
    phone = scan_qr(page)
    if number == 6 and screenshots:
        screenshot(page, 6)
    type_code(page, phone.code())
    assert submit(page, "Turn on 2FA").status in (302, 303)
    if number >= 7:
        assert_at(page, app_url, "recovery-codes")
        expect(page.locator("ol li")).to_have_count(10)
        if screenshots and number == 7:  # stage 8's picture is its passkeys page (test_accessibility.py)
            screenshot(page, 7)
        page.get_by_role("button", name=re.compile("I have saved them")).click()
    assert_at(page, app_url, "dashboard")
    expect(page.get_by_role("heading", name=f"Welcome, {USERNAME}")).to_be_visible()
    assert page.evaluate(STYLESHEET_RULES) > 0  # static/style.css loaded

    assert submit(page, "Log out").status in (302, 303)
    assert_at(page, app_url, "login")
    page.goto(app_url + "dashboard")
    assert_at(page, app_url, "login")  # logged out: the dashboard sends you back

    log_in(page, app_url)
    assert_at(page, app_url, "verify-2fa")
    expect(page.locator("img")).to_have_count(0)  # the QR code is never shown again
    # The next step's code: inside the window, and never the one just used (stage 7 refuses replays).
    type_code(page, phone.code(at=time.time() + 30))
    assert submit(page, "Verify").status in (302, 303)
    assert_at(page, app_url, "dashboard")
    expect(page.get_by_role("heading", name=f"Welcome, {USERNAME}")).to_be_visible()


def test_latest_stage_in_a_browser_through_the_jupyter_proxy(page, tmp_path):
    """As on JupyterHub or Binder: the app at <jupyter base>/proxy/<port>/, in a browser."""
    number = STAGE_NUMBERS[-1]
    port = free_port()
    environment = stage_environment(port, tmp_path / "users.sqlite", behind_proxy=True)
    with jupyter_server(tmp_path, "/user/test/") as jupyter, \
            running(stage_command(number, "python", port), port, environment):
        assert page.goto(jupyter.login_url).ok  # the student's first visit, with the token
        app_url = jupyter.proxy_url(port)
        login_flow(page, app_url, number, screenshots=False)
