"""Every terminal command the lessons and the README print starts its app in a plain terminal.

A student copies the command into a fresh terminal, the system's or JupyterLab's,
where nothing is activated: a bare ``flask`` or ``python`` there is another Python
(ModuleNotFoundError) or none. Each command here runs exactly as printed, from the
repository folder, with .venv/bin off the PATH, and the app must answer.
"""
import re
import shlex

import pytest
import requests

from printed_commands import commands_in, plain_terminal, printed_by_how_to_run
from workbook import ROOT, launch
from workbook.servers import free_port, running
from workbook.stages import existing_stages

pytestmark = pytest.mark.slow

STAGES = [s.number for s in existing_stages()]
README_RUN_LINE = re.compile(r"^(\.venv/bin/python .*app_steps/\S+/app\.py.*?)(?:\s+#.*)?$", re.M)


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


@pytest.mark.parametrize("number", STAGES, ids=[f"stage{n}" for n in STAGES])
def test_the_commands_how_to_run_prints_work_without_activation(number, tmp_path):
    port = free_port()
    commands = commands_in(printed_by_how_to_run(number, port))
    assert len(commands) == 2, "how_to_run prints a flask command and a python command"
    for command in commands:
        # The program is the workbook's own interpreter, by its path, never a name looked up on PATH.
        program = next(word for word in shlex.split(command) if "=" not in word)
        assert program == shlex.split(launch.python_command())[0], command
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
