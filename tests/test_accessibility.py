"""Every stage page works for people who use a keyboard alone or a screen reader.

axe-core (Deque's accessibility engine, pinned in package.json, installed by
``make test`` with ``npm ci``) checks every page a stage shows, error pages,
throttling and the recovery codes included: a serious or critical violation fails
(a field without a label, text without enough contrast, a page without a language...).
The same walk takes the screenshot of each stage's key page for docs/screenshots/ (the README
shows them; WORKBOOK_UPDATE_SCREENSHOTS=1 rewrites the committed ones).
Then a keyboard-only walk of the latest stage in Chromium: Tab, typing and Enter, nothing
else, from registering to logging in with a recovery code (from stage 8 on, adding a passkey
and logging in with it too, with Chromium's virtual authenticator), with the focus visible
at every stop and each error announced (``role="alert"``).
"""
import os
import re
import shutil
import time

import pytest
from test_browser import VIEWPORT, expect, scan_qr, screenshot, type_code

from workbook import ROOT
from workbook.phone import Phone
from workbook.stages import STAGES
from workbook.testing.accounts import PASSWORD, USERNAME
from workbook.testing.servers import free_port, running, stage_command, stage_environment

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")
STAGE_NUMBERS = [s.number for s in STAGES]
KEYBOARD_STAGE = STAGE_NUMBERS[-1]
WRONG_CODE = "000000"  # wrong unless the phone shows it, one time in a million: checked below

RUN_AXE = """async () => {
    if (typeof axe === "undefined") throw new Error("axe-core is not in this page: check it with the axe_page fixture");
    const results = await axe.run(document, {resultTypes: ["violations"]});
    return results.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5),
    }));
}"""


@pytest.fixture(scope="session")
def axe_script():
    if not AXE.exists():
        reason = (f"axe-core is not installed at {AXE}: run `make test` (or `npm ci`) first" if shutil.which("npm") else
                  "no npm, so no axe-core, the accessibility checker: install it (Debian/Ubuntu: apt-get install npm), "
                  "then run `make test`")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true, so the accessibility tests must run: {reason}", pytrace=False)
        pytest.skip(reason)
    return AXE


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def axe_page(page, axe_script):
    """A page with axe in every document it loads, run before the page's own scripts (as the browser
    runs an extension's, so stage 7's Content-Security-Policy does not apply): sent to Chromium once,
    not with each check."""
    page.add_init_script(path=str(axe_script))
    return page


class Checker:
    """Runs axe on the page the browser shows; remembers what it checked."""

    def __init__(self, page):
        self.page, self.checked = page, []

    def __call__(self, what, alert=None):
        """Check the current page (``what`` names it); with ``alert``, an announced error must say it."""
        self.page.wait_for_load_state()
        violations = self.page.evaluate(RUN_AXE)
        failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
        assert not failing, f"{what} ({self.page.url}):\n" + "\n".join(
            f"  {v['impact']}: {v['id']}: {v['help']} at {', '.join(v['nodes'])}" for v in failing)
        if alert:
            alerts = self.page.get_by_role("alert")
            assert alerts.count() >= 1, f"{what}: no role=alert announces the error"
            assert re.search(alert, alerts.first.inner_text(), re.I), f"{what}: {alerts.first.inner_text()!r}"
        self.checked.append(what)


@pytest.fixture(params=STAGE_NUMBERS, ids=[f"stage{n}" for n in STAGE_NUMBERS])
def stage_app(request, tmp_path):
    number = request.param
    port = free_port()
    with running(stage_command(number, "python", port), port, stage_environment(port, tmp_path / "users.sqlite")) as url:
        yield number, browser_address(number, url) + "/"


def browser_address(number, url):
    """Where a person opens the stage: from stage 8 on, localhost (browsers refuse passkeys on an IP address,
    and `python app.py` sets the origin to http://localhost:<port>)."""
    return url.replace("//127.0.0.1:", "//localhost:") if number >= 8 else url


def test_every_stage_page_passes_axe(axe_page, stage_app):
    page = axe_page
    number, app_url = stage_app
    check = Checker(page)
    if number <= 5:
        walk_single_page_stage(page, check, number, app_url)
    else:
        walk_login_stage(page, check, number, app_url)
    page.goto(app_url + "no-such-page")
    check("the 404 page")
    assert len(check.checked) >= {4: 3, 5: 6, 6: 10, 7: 15, 8: 17}.get(number, 2)  # no page was skipped


def submit(page, button):
    """Click a submit button; return the response to the POST, once the browser shows the page it led to."""
    with page.expect_navigation(), \
            page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.get_by_role("button", name=button).click()
    return posted.value


def wrong(code):
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def walk_single_page_stage(page, check, number, app_url):
    assert page.goto(app_url).status == 200
    check("the home page")
    screenshot(page, number)
    if number == 4:
        type_code(page, "123456")
        assert submit(page, "Enable 2FA").status == 405
        check("the 405 page", alert="stage 5 adds the route")
    elif number == 5:
        phone = scan_qr(page)
        type_code(page, "12 34")
        page.locator("#otp").evaluate("field => field.removeAttribute('pattern')")  # the server's check, not the browser's
        assert submit(page, "Enable 2FA").status == 400
        check("a malformed code", alert="6 digits")
        type_code(page, wrong(phone.code()))
        assert submit(page, "Enable 2FA").status == 401
        check("a wrong code", alert="not right")
        page.context.clear_cookies()  # a session that never saw a QR code
        type_code(page, phone.code())
        assert submit(page, "Enable 2FA").status == 400
        check("the error page for a session without a secret", alert="scan the new QR code")
        page.goto(app_url)
        phone = scan_qr(page)
        type_code(page, phone.code())
        assert submit(page, "Enable 2FA").status == 200
        check("2FA is enabled")


def fill(page, **fields):
    """Fill fields by their visible labels (which every field must have)."""
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)


def walk_login_stage(page, check, number, app_url):
    page.goto(app_url + "register")
    check("register")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label(re.compile("^Password")).fill(PASSWORD)
    assert submit(page, "Register").status in (302, 303)
    check("enable-2fa, after registering" if number >= 7 else "login, after registering")
    page.goto(app_url + "register")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label(re.compile("^Password")).fill(PASSWORD)
    assert submit(page, "Register").status in (400, 409)
    check("register with a taken name", alert="taken|exists|another")

    page.goto(app_url + "login")
    fill(page, Username=USERNAME, Password="not the password")
    assert submit(page, "Next").status in (400, 401, 403)
    check("a wrong password", alert="wrong username or password")
    if number >= 7:  # round three: the registering session enrols; no account before its phone
        page.goto(app_url + "enable-2fa")
    else:
        fill(page, Username=USERNAME, Password=PASSWORD)
        assert submit(page, "Next").status in (302, 303)
    check("enable-2fa")
    phone = scan_qr(page)
    if number == 6:
        screenshot(page, 6)
    type_code(page, wrong(phone.code()))
    assert submit(page, "Turn on 2FA").status in (400, 401)
    check("enable-2fa with a wrong code", alert="not right")
    type_code(page, phone.code())
    assert submit(page, "Turn on 2FA").status in (302, 303)
    if number >= 7:
        check("the recovery codes")
        assert page.locator("ol li").count() == 10
        if number == 7:
            screenshot(page, 7)
        page.goto(app_url + "recovery-codes")
        check("the recovery codes, once they were shown")
    page.goto(app_url + "dashboard")
    check("the dashboard")
    if number >= 8:
        add_virtual_authenticator(page)
        page.goto(app_url + "passkeys")
        check("the passkeys page, none yet")
        page.get_by_label(re.compile("^A name for it")).fill("Laptop")
        page.get_by_role("button", name="Add a passkey").click()  # the script reloads the page with it listed
        expect(page.locator("table.passkeys").or_(page.locator("#passkey-add-message:not(:empty)"))).to_be_visible()
        expect(page.locator("table.passkeys")).to_contain_text("Laptop")
        check("the passkeys page, with a passkey")
        screenshot(page, 8)
        page.goto(app_url + "dashboard")
    if number >= 7:
        page.goto(app_url + "replace-phone")
        check("replace-phone")
        # A form whose CSRF token was tampered with: the error page. (The page has a second
        # form, with a recovery code instead, folded away: this is the one with the code field.)
        code_form = page.locator("form", has=page.locator("#otp"))
        code_form.locator("input[name=csrf_token]").evaluate("field => field.value = 'forged'")
        code_form.get_by_label("Password", exact=True).fill(PASSWORD)
        type_code(page, phone.code(at=time.time() + 30))
        assert submit(page, "Next: scan the new QR code").status == 400
        check("the CSRF error page", alert="nothing was changed")
        page.goto(app_url + "dashboard")

    assert submit(page, "Log out").status in (302, 303)
    fill(page, Username=USERNAME, Password=PASSWORD)
    assert submit(page, "Next").status in (302, 303)
    check("verify-2fa")
    assert phone.code() != WRONG_CODE and phone.code(at=time.time() + 30) != WRONG_CODE
    type_code(page, WRONG_CODE)
    assert submit(page, "Verify").status == 401
    check("verify-2fa with a wrong code", alert="not right")
    if number >= 7:
        for _ in range(10):  # past the free attempts: throttled
            type_code(page, WRONG_CODE)
            if submit(page, "Verify").status == 429:
                break
        else:
            pytest.fail("ten wrong codes in a row were never throttled")
        check("verify-2fa, throttled", alert="wait")
    else:
        type_code(page, phone.code(at=time.time() + 30))
        assert submit(page, "Verify").status in (302, 303)
        check("the dashboard after verifying")


def add_virtual_authenticator(page):
    """A platform authenticator (resident keys, user verification) in this page's browser: DevTools' WebAuthn domain."""
    devtools = page.context.new_cdp_session(page)
    devtools.send("WebAuthn.enable", {"enableUI": False})
    devtools.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True}})


def test_a_planted_violation_fails_the_check(axe_page):
    """The check can fail: a field with no label (axe: critical) and grey-on-white text (serious)."""
    planted = ('<!doctype html><html lang="en"><head><title>Planted</title></head><body><main>'
               '<h1>Enter your code</h1><form><input name="otp"><button>Verify</button></form>'
               '<p style="color:#bbb">Hard to read</p></main></body></html>')
    axe_page.route("http://planted.test/", lambda route: route.fulfill(content_type="text/html", body=planted))
    axe_page.goto("http://planted.test/")
    with pytest.raises(AssertionError) as failure:
        Checker(axe_page)("the planted page")
    assert "critical: label" in str(failure.value)
    assert "serious: color-contrast" in str(failure.value)


# --- the latest stage with the keyboard alone -------------------------------------------------------

FOCUSED = "element => element === document.activeElement"
FOCUS_RING = """element => {
    const style = getComputedStyle(element);
    return (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 1) || style.boxShadow !== "none";
}"""


class Keyboard:
    """Tab to a control, as a person does, checking the focus ring at each stop; then type or press Enter."""

    def __init__(self, page):
        self.page = page

    def tab_to(self, control, most=40):
        """Press Tab until ``control`` (a Playwright locator) has the focus."""
        for _ in range(most):
            self.page.keyboard.press("Tab")
            if control.count() and control.first.evaluate(FOCUSED):
                return control.first
            focused = self.page.locator(":focus")
            if focused.count():
                assert focused.evaluate(FOCUS_RING), \
                    f"no visible focus on {focused.evaluate('e => e.outerHTML')[:120]} at {self.page.url}"
        raise AssertionError(f"Tab never reached {control} on {self.page.url}")

    def field(self, label, text):
        field = self.tab_to(self.page.get_by_label(label))
        assert field.evaluate(FOCUS_RING), f"the focused field {label!r} shows no focus ring"
        self.page.keyboard.type(text)

    def activate(self, name):
        """Tab to the link or button named ``name`` (a regex) and press Enter."""
        control = self.page.get_by_role("link", name=name).or_(self.page.get_by_role("button", name=name))
        self.tab_to(control)
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")

    def submit(self):
        """Enter in a text field sends its form."""
        with self.page.expect_navigation(), \
                self.page.expect_response(lambda response: response.request.method == "POST") as posted:
            self.page.keyboard.press("Enter")
        return posted.value


@pytest.fixture
def keyboard_app(tmp_path):
    port = free_port()
    environment = stage_environment(port, tmp_path / "users.sqlite")
    with running(stage_command(KEYBOARD_STAGE, "python", port), port, environment) as url:
        yield browser_address(KEYBOARD_STAGE, url) + "/"


def test_the_latest_stage_with_the_keyboard_alone(page, keyboard_app):
    keys = Keyboard(page)
    page.goto(keyboard_app)  # the login page
    keys.activate(re.compile("^(Register|Create an account)$"))
    keys.field("Username", USERNAME)
    keys.field(re.compile("^Password"), PASSWORD)
    assert keys.submit().status in (302, 303)  # round three: straight on to enrolment

    # Enrol with the key typed by hand, as someone who cannot scan does.
    manual_key = page.locator("code").first.inner_text()
    phone = Phone()
    phone.scan("otpauth://totp/Flask%202FA%20Workbook:alice?secret=" + re.sub(r"\s", "", manual_key))
    keys.field("The six-digit code your app shows", phone.code())
    assert keys.submit().status in (302, 303)
    recovery_codes = [item.inner_text().strip() for item in page.locator("ol li").all()]
    assert len(recovery_codes) == 10
    # Stage 7's round two confirms with a button, round one had a link: either name does.
    keys.activate(re.compile("I have saved them"))
    page.wait_for_url(re.compile("/dashboard$"))
    keys.activate(re.compile("^Log out$"))

    keys.field("Username", USERNAME)
    keys.field("Password", "not the password")
    assert keys.submit().status in (400, 401, 403)
    assert page.get_by_role("alert").count() == 1  # announced: the screen reader says it at once
    keys.field("Username", USERNAME)
    keys.field("Password", PASSWORD)
    assert keys.submit().status in (302, 303)
    keys.field("Six-digit code", phone.code(at=time.time() + 30))
    assert keys.submit().status in (302, 303)
    page.wait_for_url(re.compile("/dashboard$"))
    if KEYBOARD_STAGE >= 8:  # add a passkey, then log in with it alone
        add_virtual_authenticator(page)
        keys.activate(re.compile("^Passkeys"))
        page.wait_for_url(re.compile("/passkeys$"))
        keys.field(re.compile("^A name for it"), "Laptop")
        keys.activate(re.compile("^Add a passkey$"))  # the script reloads the page with it listed
        expect(page.locator("table.passkeys")).to_contain_text("Laptop")
        keys.activate(re.compile("^Back to the dashboard$"))
        keys.activate(re.compile("^Log out$"))
        keys.activate(re.compile("^Log in with a passkey$"))
        page.wait_for_url(re.compile("/dashboard$"))
    keys.activate(re.compile("^Log out$"))

    # A lost phone: a recovery code, behind a disclosure opened with Enter.
    keys.field("Username", USERNAME)
    keys.field("Password", PASSWORD)
    assert keys.submit().status in (302, 303)
    keys.tab_to(page.locator("summary"))
    page.keyboard.press("Enter")
    keys.field("One of the recovery codes you saved", recovery_codes[0])
    assert keys.submit().status in (302, 303)
    page.wait_for_url(re.compile("/dashboard$"))
    assert page.get_by_role("status").filter(has_text="recovery code").count() == 1
