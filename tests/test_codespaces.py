"""The workbook in GitHub Codespaces: the dev container, the printed addresses, the forwarding.

Codespaces itself cannot run here, so the tests check what can be checked of
.devcontainer/devcontainer.json, and run every stage behind a stand-in for its
port forwarding (tests/codespaces_forwarding.py): HTTPS at
``https://<codespace>-<port>.app.github.dev/`` in Chromium, plain HTTP with
``Host: localhost:<port>`` and X-Forwarded-* headers behind it.
"""
import json
import os
import re
import subprocess

import pytest
from test_browser import VIEWPORT, use_stage

from workbook import ROOT
from workbook.stages import STAGES
from workbook.testing.servers import free_port, running

import codespaces_forwarding as codespaces
from chromium import CHROMIUM_ARGS, chromium_path
from printed_commands import commands_in, plain_terminal, printed_by_how_to_run

STAGE_NUMBERS = [s.number for s in STAGES]
DEVCONTAINER = ROOT / ".devcontainer" / "devcontainer.json"


@pytest.fixture(scope="module")
def devcontainer():
    return json.loads(DEVCONTAINER.read_text(encoding="utf-8"))  # strict JSON: no comments to trip a tool


def plain_make(*arguments):
    """``make`` as the container runs it: nothing inherited from a make that runs these tests
    (CI's `make test-fast VENV=.venv-3.10` would pass its VENV down through MAKEFLAGS)."""
    inherited = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "VENV", "PYTHON"}
    environment = {key: value for key, value in os.environ.items() if key not in inherited}
    return subprocess.run(["make", *arguments], cwd=ROOT, capture_output=True, text=True, env=environment)


def make_variable(name):
    """A variable's value as make computes it from the Makefile (``make -p`` prints the database)."""
    database = plain_make("-pn", "setup").stdout
    values = re.findall(rf"^{name} :?= (.*)$", database, re.M)
    assert values, f"the Makefile defines no {name}"
    return values[-1]


def test_the_container_is_the_python_the_workbook_is_tested_on(devcontainer):
    python = (ROOT / "runtime.txt").read_text().strip().removeprefix("python-")
    assert re.search(rf"/python:\d+-{re.escape(python)}-", devcontainer["image"]), devcontainer["image"]


def test_the_container_runs_make_setup_and_uses_the_venv_it_creates(devcontainer):
    command = devcontainer["postCreateCommand"].split()
    assert command[0] == "make"
    targets = plain_make("-n", *command[1:])
    assert targets.returncode == 0, targets.stderr  # every target it names exists in the Makefile
    assert command[1:] == ["setup"]
    # The interpreter VS Code uses is the one `make setup` installs everything into.
    interpreter = devcontainer["customizations"]["vscode"]["settings"]["python.defaultInterpreterPath"]
    python = make_variable("PY").replace("$(VENV)", make_variable("VENV"))
    assert interpreter == "${containerWorkspaceFolder}/" + python
    assert (ROOT / python).exists(), "make setup (run before the tests) creates it"


def test_make_test_finds_npm_in_the_container(devcontainer):
    """`make test` installs axe-core with npm, which the Python image lacks: a dev container feature adds Node."""
    assert "npm ci" in (ROOT / "Makefile").read_text(encoding="utf-8")
    assert any(feature.startswith("ghcr.io/devcontainers/features/node:") for feature in devcontainer["features"])


def test_the_stage_ports_and_jupyter_are_forwarded_with_labels(devcontainer):
    ports = [5000 + n for n in STAGE_NUMBERS] + [8888]  # 8888: JupyterLab's default, for `make lab`
    assert sorted(devcontainer["forwardPorts"]) == ports
    for port in ports:
        assert devcontainer["portsAttributes"][str(port)]["label"]


def test_vs_code_gets_what_the_lessons_need(devcontainer):
    extensions = devcontainer["customizations"]["vscode"]["extensions"]
    assert {"ms-python.python", "ms-toolsai.jupyter"} <= set(extensions)
    # VS Code's notebook editor draws no Mermaid diagram by itself; the lessons have some.
    if any("```mermaid" in cell for cell in lesson_markdown()):
        assert "bierner.markdown-mermaid" in extensions
    opened = devcontainer["customizations"]["codespaces"]["openFiles"]
    assert opened == ["notebooks/00_start_here.ipynb"] and (ROOT / opened[0]).exists()


# What each IPython.display class the lessons use sends, and whether VS Code's notebook
# editor shows it with its built-in renderers (no extension): all of these it does.
RENDERED_BY_VS_CODE = {"display": "any of these", "HTML": "text/html", "Image": "image/png",
                       "Markdown": "text/markdown"}
DISPLAY_IMPORT = re.compile(r"from IPython\.display import ([\w, ]+)")


def test_every_kind_of_output_the_lessons_make_renders_in_vs_code():
    """A lesson (or a workbook helper it calls) that starts using, say, a widget or Javascript fails here."""
    sources = [cell for lesson in sorted((ROOT / "solutions").glob("*.ipynb"))
               for cell in lesson_cells(lesson, "code")]
    sources += [path.read_text(encoding="utf-8") for path in (ROOT / "workbook").rglob("*.py")]
    used = {name.strip() for source in sources for names in DISPLAY_IMPORT.findall(source)
            for name in names.split(",")}
    assert used, "the lessons show pictures and HTML through IPython.display"
    assert used <= set(RENDERED_BY_VS_CODE), f"not shown by VS Code's notebook editor: {used - set(RENDERED_BY_VS_CODE)}"
    assert not any(re.search(r"^\s*%%(javascript|js|html)\b|ipywidgets", s, re.M) for s in sources)


def lesson_cells(lesson, kind):
    for cell in json.loads(lesson.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == kind:
            yield "".join(cell["source"])


def lesson_markdown():
    for lesson in sorted((ROOT / "solutions").glob("*.ipynb")):
        yield from lesson_cells(lesson, "markdown")


@pytest.mark.parametrize("number", STAGE_NUMBERS, ids=[f"stage{n}" for n in STAGE_NUMBERS])
def test_how_to_run_prints_the_forwarded_address_in_codespaces(number):
    port = 5000 + number
    printed = printed_by_how_to_run(number, port, codespaces.environment())
    assert f"https://{codespaces.CODESPACE_NAME}-{port}.app.github.dev/" in printed
    assert "127.0.0.1" not in printed  # not reachable from the student's browser there
    commands = commands_in(printed)
    assert len(commands) == 2 and all(c.startswith("FLASK_BEHIND_PROXY=1 ") for c in commands)


# --- every stage through the stand-in forwarding, in Chromium ---------------------------------

@pytest.fixture(scope="module")
def forwarding(tmp_path_factory):
    with codespaces.CodespacesForwarding(tmp_path_factory.mktemp("codespaces")) as service:
        yield service


@pytest.fixture(scope="module")
def codespaces_browser(browser, forwarding):
    """Chromium that finds *.app.github.dev at the stand-in (the shared ``browser`` fixture checks Chromium)."""
    chromium = browser.browser_type.launch(
        executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS + [forwarding.chromium_argument()])
    yield chromium
    chromium.close()


@pytest.fixture
def codespaces_page(codespaces_browser):
    # The stand-in's certificate is self-signed; the real one is GitHub's.
    context = codespaces_browser.new_context(viewport=VIEWPORT, ignore_https_errors=True)
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("number", STAGE_NUMBERS, ids=[f"stage{n}" for n in STAGE_NUMBERS])
def test_every_stage_works_at_its_forwarded_address(number, forwarding, codespaces_page, tmp_path):
    """Started with the command how_to_run prints in a codespace; used in a browser at the forwarded address."""
    port = walk_through_forwarding(number, forwarding, codespaces_page, tmp_path)
    seen = [headers for headers in forwarding.seen if headers["Host"] == f"localhost:{port}"]
    assert seen, "the pages came through the forwarding, with Host: localhost:<port>"


@pytest.mark.slow
@pytest.mark.browser
def test_the_latest_stage_works_when_the_forwarding_keeps_the_host(forwarding, codespaces_page, tmp_path):
    forwarding.keep_host = True
    try:
        port = walk_through_forwarding(STAGE_NUMBERS[-1], forwarding, codespaces_page, tmp_path)
    finally:
        forwarding.keep_host = False
    assert any(h["Host"] == codespaces.forwarded_url(port).split("/")[2] for h in forwarding.seen)


def walk_through_forwarding(number, forwarding, codespaces_page, tmp_path):
    """Start stage ``number`` with the printed Codespaces command, use it at its forwarded address; return its port."""
    port = free_port()
    command = commands_in(printed_by_how_to_run(number, port, codespaces.environment()))[-1]  # the python way
    environment = {
        "FLASK_SECRET_KEY": "a key for this test run only, 32+ characters long",
        "FLASK_DATABASE": str(tmp_path / "users.sqlite"),
        # Stage 7's printed commands run in debug mode, where its cookie is not Secure by
        # default; behind Codespaces' HTTPS a Secure cookie must work, so ask for one.
        "FLASK_SESSION_COOKIE_SECURE": "true",
    }
    with running(plain_terminal(command), port, environment):
        app_url = codespaces.forwarded_url(port)
        use_stage(codespaces_page, number, app_url, screenshots=False)

    seen = [h for h in forwarding.seen if h["X-Forwarded-Host"] == app_url.split("/")[2]]
    assert seen and all(h["X-Forwarded-Proto"] == "https" for h in seen), "the pages came through the forwarding"
    cookies = codespaces_page.context.cookies()
    if number >= 2:
        assert cookies, "the session cookie was kept"
    for cookie in cookies:
        assert cookie["domain"] == app_url.split("/")[2]
        assert cookie["secure"], cookie  # FLASK_SESSION_COOKIE_SECURE=true, for every stage's session cookie
    return port


# --- X-Forwarded-* trusted only behind a proxy ---------------------------------------------

FORGED = {"X-Forwarded-Host": "attacker.example", "X-Forwarded-Proto": "https",
          "X-Forwarded-Prefix": "/elsewhere", "X-Forwarded-For": "203.0.113.9"}
PROXY_SWITCH_STAGES = STAGE_NUMBERS


def where_the_app_thinks_it_is(number, behind_proxy):
    """The page address and client the app computes for a request that carries forged X-Forwarded-* headers."""
    from flask import request

    from workbook.app_loader import make_stage_app

    config = {"TESTING": True, "SECRET_KEY": "x" * 32}
    if behind_proxy is not None:
        config["BEHIND_PROXY"] = behind_proxy
    app = make_stage_app(number, config)
    app.add_url_rule("/where", "where", lambda: f"{request.url} {request.remote_addr}")
    return app.test_client().get("/where", headers=FORGED).get_data(as_text=True)


@pytest.mark.parametrize("number", PROXY_SWITCH_STAGES, ids=[f"stage{n}" for n in PROXY_SWITCH_STAGES])
def test_forwarded_headers_count_only_behind_a_proxy(number):
    # Without a proxy in front anyone can send these headers: they must change nothing.
    assert where_the_app_thinks_it_is(number, None) == "http://localhost/where 127.0.0.1"
    # FLASK_BEHIND_PROXY=1 (config BEHIND_PROXY): the one proxy in front set them.
    assert where_the_app_thinks_it_is(number, 1) == "https://attacker.example/elsewhere/where 203.0.113.9"
