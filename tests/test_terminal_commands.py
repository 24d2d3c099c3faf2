"""Every terminal command the lessons and the README print starts its app in a plain terminal.

A student copies the command into a fresh terminal, the system's or JupyterLab's,
where nothing is activated: a bare ``flask`` or ``python`` there is another Python
(ModuleNotFoundError) or none. Each command here runs exactly as printed, from the
repository folder, with .venv/bin off the PATH, and the app must answer.
"""
import concurrent.futures
import json
import re
import secrets
import shlex
from pathlib import Path

import pytest
import requests

from workbook import ROOT, run_commands
from workbook.stages import STAGES
from workbook.testing.servers import free_port, running

from printed_commands import commands_in, plain_terminal, printed_by_how_to_run

pytestmark = pytest.mark.slow

STAGE_NUMBERS = [s.number for s in STAGES]
# (A stage 7 line may set a variable first: FLASK_LOCAL_RUN=1 .venv/bin/python -m flask ...)
README_RUN_LINE = re.compile(r"^((?:[A-Z_]+=\S+ )*\.venv/bin/python .*app_steps/\S+/app\.py.*?)(?:\s+#.*)?$", re.M)


def app_environment(tmp_path):
    """What a student sets besides the printed command: a key (stage 7 requires one) and a scratch database."""
    return {"FLASK_SECRET_KEY": "a key for this test run only, 32+ characters long",
            "FLASK_DATABASE": str(tmp_path / "users.sqlite"),
            "FLASK_SESSION_COOKIE_SECURE": "false"}


def assert_app_answers(command, port, tmp_path):
    with running(plain_terminal(command), port, app_environment(tmp_path)) as url:
        page = requests.get(url + "/", timeout=30)  # stages 6-7 redirect to their login page
        assert page.status_code == 200, f"{command}: {page.status_code}"
        assert "<h1>" in page.text


@pytest.mark.parametrize("number", STAGE_NUMBERS, ids=[f"stage{n}" for n in STAGE_NUMBERS])
def test_the_commands_how_to_run_prints_work_without_activation(number, tmp_path):
    port = free_port()
    commands = commands_in(printed_by_how_to_run(number, port))
    assert len(commands) == 2, "how_to_run prints a flask command and a python command"
    for command in commands:
        # The program is the workbook's own interpreter, by its path, never a name looked up on PATH.
        program = next(word for word in shlex.split(command) if "=" not in word)
        assert program == shlex.split(run_commands.python_command())[0], command
        assert (ROOT / program).exists()
        assert_app_answers(command, port, tmp_path)


READMES = ["README.md"] + sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("app_steps/*/README.md"))


@pytest.mark.parametrize("readme", READMES)
def test_the_readme_run_commands_work_without_activation(readme, tmp_path):
    text = (ROOT / readme).read_text(encoding="utf-8")
    # (The README's "without make" steps activate .venv first; a stage command must not need that.)
    bare = re.findall(r"^(?:python3?|flask|gunicorn) .*(?:app_steps|--app).*$", text, re.M)
    assert not bare, f"found on whatever PATH the terminal has, maybe not the workbook's: {bare}"
    commands = README_RUN_LINE.findall(text)
    assert len(commands) >= 2, "the README shows how to run a stage both ways"
    for command in commands:
        port = free_port()
        # The README's ports (5000, 5005) may be taken on this machine: the same command on a free one.
        if "--port" in command:
            command = re.sub(r"--port \d+", f"--port {port}", command)
        else:
            command = f"FLASK_RUN_PORT={port} {command}"
        assert_app_answers(command, port, tmp_path)


@pytest.mark.parametrize("number", [7, 8])
def test_on_windows_how_to_run_prints_powershell_commands(number, monkeypatch):
    """PowerShell (Windows' terminal, and VS Code's there) takes no ``NAME=value command``: it sets
    ``$env:NAME`` first, and runs a program named in quotes only after ``&``."""
    monkeypatch.setattr(run_commands, "on_windows", lambda: True)
    monkeypatch.setattr(run_commands.sys, "executable", str(ROOT / ".venv" / "Scripts" / "python.exe"))
    port = 5000 + number + 100
    printed = printed_by_how_to_run(number, port)
    assert "in a PowerShell terminal" in printed, printed
    flask_command, python_command = commands_in(printed)
    python = f'& "{Path(".venv") / "Scripts" / "python.exe"}" '
    settings = f'$env:FLASK_ORIGIN="http://localhost:{port}"; ' if number >= 8 else ""
    assert flask_command == (f'{settings}$env:FLASK_LOCAL_RUN="1"; {python}-m flask --app '
                             f"app_steps/{stage_folder(number).name}/app.py run --port {port}"), flask_command
    assert python_command == f'{settings}$env:FLASK_RUN_PORT="{port}"; {python}app_steps/{stage_folder(number).name}/app.py'


def stage_folder(number):
    return next(each.folder for each in STAGES if each.number == number)


@pytest.mark.parametrize("number", [s.number for s in STAGES])
def test_each_stage_apps_own_run_commands_need_no_activation(number):
    """The docstring at the top of each stage's app.py says how to run it: with the workbook's Python, as the
    README does, never a bare python or flask (not on a plain terminal's PATH, or another Python's)."""
    import ast

    folder = stage_folder(number)
    docstring = ast.get_docstring(ast.parse((folder / "app.py").read_text(encoding="utf-8")))
    lines = docstring.replace("\\\n", " ").splitlines()  # a command continued on the next line is one
    commands = [re.sub(r"^(?:\S+=\S* )*", "", line.strip()).split()[0] for line in lines if "app_steps/" in line]
    assert commands, f"stage {number}'s app.py does not say how to run it"
    bare = [command for command in commands if command not in (".venv/bin/python", "gunicorn")]
    assert not bare, f"stage {number}'s app.py says to run {bare}: found on whatever PATH the terminal has"


async def _type_in_terminal(socket_url, line, answer, seconds=30):
    """Type ``line`` into a Jupyter terminal; return what it shows once ``answer`` (a regex) appears."""
    import asyncio

    from tornado.websocket import websocket_connect

    connection = await websocket_connect(socket_url)
    try:
        await connection.write_message(json.dumps(["stdin", line + "\r"]))
        shown = ""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not re.search(answer, shown):
            message = await asyncio.wait_for(connection.read_message(), max(0.1, deadline - loop.time()))
            assert message is not None, f"the terminal closed; it showed: {shown!r}"
            kind, *content = json.loads(message)
            if kind == "stdout":
                shown += content[0]
        return shown
    finally:
        connection.close()


def test_make_lab_terminals_use_the_workbook_python(tmp_path):
    """A terminal opened in the JupyterLab of `make lab` finds the workbook's python and flask first."""
    import asyncio

    port, token = free_port(), secrets.token_hex(16)
    options = (f"--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port} "
               f"--ServerApp.port_retries=0 --ServerApp.token={token}")
    environment = {"JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    # Started from a plain shell, not a terminal (as an IDE or a service starts it): stdout is a file.
    with running(plain_terminal(f"make lab LAB_OPTIONS='{options}'"), port, environment, path="/api") as url:
        created = requests.post(f"{url}/api/terminals", headers={"Authorization": f"token {token}"}, timeout=30)
        assert created.status_code == 200, created.text
        socket_url = f"ws://127.0.0.1:{port}/terminals/websocket/{created.json()['name']}?token={token}"
        # The quotes split each marker, so the echoed command line does not match it.
        typing = _type_in_terminal(
            socket_url, "echo \"PY\"\"THON=$(command -v python) FL\"\"ASK=$(command -v flask)\"",
            r"PYTHON=\S* FLASK=\S*\s")
        # In a thread of its own: the browser tests' Playwright may hold this thread's event loop.
        with concurrent.futures.ThreadPoolExecutor(1) as thread:
            shown = thread.submit(asyncio.run, typing).result()
    found = re.search(r"PYTHON=(\S*) FLASK=(\S*)", shown)
    venv_bin = ROOT / ".venv" / "bin"
    assert found.group(1) == str(venv_bin / "python"), shown
    assert found.group(2) == str(venv_bin / "flask"), shown
