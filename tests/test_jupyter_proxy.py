"""The stage apps behind a real Jupyter server's proxy, as on JupyterHub and Binder.

A student there cannot open 127.0.0.1:5007: the browser reaches the app at
``<jupyter base>/proxy/<port>/`` through jupyter-server-proxy. These tests start
a real ``jupyter server`` with a hub-like base URL (/user/test/), start the apps,
and walk every page, link, form post and redirect through that prefix. They also
check the JupyterLab launcher tile (workbook.run_commands.jupyter_launcher_app) and that
workbook.run_commands finds the running server's base URL.
"""
import os
import re
import time
from urllib.parse import urljoin, urlsplit

import pytest

from workbook import ROOT, pages, run_commands
from workbook.phone import Phone
from workbook.stages import STAGES
from workbook.testing.accounts import PASSWORD
from workbook.testing.servers import free_port, jupyter_server, running, stage_command, stage_environment
from workbook.visitor import Visitor

pytestmark = pytest.mark.slow

BASE = "/user/test/"  # what JupyterHub gives user "test"
LOGIN_STAGES = [s.number for s in STAGES if s.number >= 6]
# The apps trust X-Forwarded-Prefix only when told they run behind a proxy (the launcher sets it too).
BEHIND_THE_PROXY = {"FLASK_BEHIND_PROXY": "1"}
URL_ATTRIBUTE = re.compile(r"""\b(href|src|action)\s*=\s*["']([^"']*)["']""")


@pytest.fixture(scope="module")
def jupyter(tmp_path_factory):
    """A real Jupyter server (jupyter-server-proxy enabled) on loopback, at /user/test/."""
    root = tmp_path_factory.mktemp("jupyter")
    # Inherited by the app the launcher tile starts (which gets its own port from the launcher).
    for_the_launched_app = {**stage_environment(0, root / "launcher.sqlite"), **BEHIND_THE_PROXY}
    del for_the_launched_app["FLASK_RUN_PORT"]
    with jupyter_server(root, BASE, for_the_launched_app) as server:
        yield server


@pytest.fixture
def stage_app(tmp_path):
    """Start stage ``number`` on a free port; return that port (stopped after the test)."""
    with_servers = []

    def start(number):
        port = free_port()
        server = running(stage_command(number, "python", port), port,
                         stage_environment(port, tmp_path / f"stage{number}.sqlite", behind_proxy=True))
        server.__enter__()
        with_servers.append(server)
        return port

    yield start
    for server in reversed(with_servers):
        server.__exit__(None, None, None)


class ProxiedVisitor(Visitor):
    """A browser that has logged in to Jupyter and uses an app under ``prefix``."""

    def __init__(self, jupyter, prefix):
        super().__init__(jupyter.url + prefix)
        self.prefix = prefix
        self.redirects = []  # (page address, Location header) of every redirect
        self.http.hooks["response"].append(self._record)
        # As a student does: the token once in the address, then Jupyter's cookie.
        self.http.get(jupyter.login_url, timeout=30)
        assert self.http.cookies, "Jupyter set no login cookie for the token"

    def _record(self, response, *args, **kwargs):
        if response.is_redirect:
            self.redirects.append((response.url, response.headers["Location"]))

    def assert_under_prefix(self, address, what):
        path = urlsplit(address).path
        assert path.startswith(self.prefix), f"{what} leaves the proxy prefix {self.prefix}: {address}"
        assert path.count(BASE) == 1, f"{what} has the prefix twice: {address}"

    def check_page(self, response):
        """Every link, image, stylesheet and form action on the page stays under the prefix and works."""
        assert response.status_code < 500, response.text[:500]
        self.assert_under_prefix(response.url, "the page")
        for attribute, value in URL_ATTRIBUTE.findall(response.text):
            if value.startswith("data:"):
                continue  # the inline QR code
            address = urljoin(response.url, value)
            self.assert_under_prefix(address, f'{attribute}="{value}"')
            if attribute in ("href", "src"):
                linked = self.http.get(address, timeout=30)
                assert linked.status_code == 200, f"{address}: {linked.status_code}"
                if value.endswith(".css"):
                    assert linked.headers["Content-Type"].startswith("text/css")
                    # The app's own stylesheet (style.css sets the font; stage 8's passkeys.css only adds rules).
                    assert ("font-family" if value.endswith("style.css") else "{") in linked.text, linked.text[:200]
        return response

    def check_redirects(self):
        assert self.redirects, "no redirect was checked"
        for page, location in self.redirects:
            # The proxy puts its prefix in front of any Location that starts with "/":
            # an app that sends url_for()'s full path gets the prefix twice.
            self.assert_under_prefix(urljoin(page, location), f"the redirect from {page} to {location}")

    def at(self, response, path):
        assert urlsplit(response.url).path == self.prefix + path, f"{response.url} is not {path}"
        return self.check_page(response)


def walk_login_flow(visitor, number, username):
    """Register, log in, enrol, dashboard, log out, log in, verify: all through the proxy."""
    visitor.at(visitor.get(""), "login")
    response = visitor.submit("register", {"username": username, "password": PASSWORD}, allow_redirects=True)
    if number < 7:  # stage 7 (round three) goes straight on to enrolment, in the same session
        visitor.at(response, "login")
        response = visitor.submit("login", {"username": username, "password": PASSWORD}, allow_redirects=True)
    visitor.at(response, "enable-2fa")
    phone = Phone()
    phone.scan(response.text)
    response = visitor.submit("enable-2fa", {"otp": phone.code()}, allow_redirects=True)
    if number >= 7:
        visitor.at(response, "recovery-codes")
        assert len(pages.parse(response.text).list_items) == 10
    response = visitor.get("dashboard")
    visitor.at(response, "dashboard")
    assert f"Welcome, {username}" in response.text

    response = visitor.submit("dashboard", {}, action="/logout", allow_redirects=True)
    visitor.at(response, "login")
    visitor.at(visitor.get("dashboard"), "login")

    response = visitor.submit("login", {"username": username, "password": PASSWORD}, allow_redirects=True)
    visitor.at(response, "verify-2fa")
    assert pages.parse(response.text).data_uri_images() == []
    # The next step's code: inside the window, and never the one used to enrol (stage 7 refuses replays).
    response = visitor.submit("verify-2fa", {"otp": phone.code(at=time.time() + 30)}, allow_redirects=True)
    visitor.at(response, "dashboard")
    visitor.check_redirects()


@pytest.mark.parametrize("number", LOGIN_STAGES, ids=[f"stage{n}" for n in LOGIN_STAGES])
def test_login_flow_through_the_proxy(jupyter, stage_app, number):
    port = stage_app(number)
    walk_login_flow(ProxiedVisitor(jupyter, urlsplit(jupyter.proxy_url(port)).path), number, "alice")


def test_the_code_form_posts_through_the_proxy(jupyter, stage_app):
    for number in (4, 5):
        port = stage_app(number)
        visitor = ProxiedVisitor(jupyter, urlsplit(jupyter.proxy_url(port)).path)
        page = visitor.at(visitor.get(""), "")
        phone = Phone()
        phone.scan(page.text)
        response = visitor.submit("", {"otp": phone.code()}, allow_redirects=True)
        visitor.at(response, "")
        if number == 4:
            assert response.status_code == 405 and "stage 5 adds the route" in response.text
        else:
            assert response.status_code == 200 and "2FA is enabled" in response.text


def test_the_launcher_tile_starts_the_app_under_the_proxy(jupyter):
    visitor = ProxiedVisitor(jupyter, f"{BASE}{run_commands.LAUNCHER_NAME}/")
    listed = visitor.http.get(jupyter.url + BASE + "server-proxy/servers-info", timeout=30).json()
    tile = next(s for s in listed["server_processes"] if s["name"] == run_commands.LAUNCHER_NAME)
    latest = STAGES[-1].number
    assert tile["launcher_entry"]["title"] == f"Flask 2FA app (stage {latest})"
    # The first request starts the app (jupyter-server-proxy waits until it answers).
    walk_login_flow(visitor, latest, "bob")


def test_launch_finds_the_running_jupyter_server(jupyter, monkeypatch, capsys):
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(jupyter.runtime_dir))
    monkeypatch.delenv("JUPYTERHUB_SERVICE_PREFIX", raising=False)
    assert run_commands.jupyter_base_url() == BASE
    assert run_commands.proxy_url(5007) == f"{BASE}proxy/5007/"
    monkeypatch.delenv("CODESPACE_NAME", raising=False)
    run_commands.how_to_run(7)
    printed = capsys.readouterr().out
    assert f"{BASE}proxy/5007/" in printed
    # Both printed commands tell the app it is behind Jupyter's proxy.
    assert printed.count("FLASK_BEHIND_PROXY=1 ") == 2

    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", os.fspath(jupyter.runtime_dir / "nothing-here"))
    assert run_commands.jupyter_base_url() is None


def test_binder_builds_from_the_files_at_the_root():
    """repo2docker (Binder) installs requirements.txt, `-e .` included, so the launcher tile is there.

    It reads only binder/ (or .binder/) when such a folder exists, so there must be none.
    """
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists()
    requirements = (ROOT / "requirements.txt").read_text()
    assert re.search(r"^jupyter-server-proxy==", requirements, re.M)
    assert re.search(r"^-e \.$", requirements, re.M)
    python = (ROOT / "runtime.txt").read_text().strip().removeprefix("python-")
    assert f"Python {python}" in requirements  # the version everything was tested together on
