"""The terminal commands the lessons print, and a terminal as a student opens one.

A fresh terminal (the system's, JupyterLab's, VS Code's) has activated nothing:
its PATH does not hold .venv/bin, so a bare ``python`` or ``flask`` there is some
other Python, or none. The tests run the printed commands exactly so.
"""
import contextlib
import io
import os
import re
import sys
from pathlib import Path
from unittest import mock

from workbook import ROOT, run_commands

# The two command lines how_to_run prints: "    <command>" and "or: <command>".
COMMAND_LINE = re.compile(r"^(?:    |or: )(.+)$", re.M)


def printed_by_how_to_run(number, port, environ=None):
    """What ``how_to_run(number, port)`` prints on a laptop, or in Codespaces with its ``environ``.

    No Jupyter server counts (one a developer runs would add its proxy address).
    """
    cleared = {"CODESPACE_NAME": "", "GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN": ""}
    with mock.patch.dict(os.environ, {**cleared, **(environ or {})}), \
            mock.patch.object(run_commands, "jupyter_base_url", lambda: None), \
            contextlib.redirect_stdout(io.StringIO()) as out:
        run_commands.how_to_run(number, port)
    return out.getvalue()


def commands_in(printed):
    return COMMAND_LINE.findall(printed)


def plain_terminal(command):
    """``command`` (a shell line) as a fresh terminal runs it, from the repository folder.

    PATH without the workbook's .venv/bin (nor the folder of the interpreter running
    the tests), and no VIRTUAL_ENV: nothing is activated.
    """
    venv_bins = {str(ROOT / ".venv" / "bin"), str(Path(sys.executable).parent)}
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p not in venv_bins)
    return ["env", "-u", "VIRTUAL_ENV", "-u", "PYTHONPATH", f"PATH={path}", "sh", "-c", command]
