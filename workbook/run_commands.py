"""How to start a stage app, and the address to open: on a laptop, a JupyterHub or in Codespaces.

On a hub (or Binder) the browser cannot reach 127.0.0.1 on the server, so
jupyter-server-proxy forwards ``<jupyter base>/proxy/<port>/`` to the app. In
GitHub Codespaces each port has its own HTTPS address,
``https://<codespace>-<port>.<forwarding domain>/``. Behind either, the app must
trust the proxy's X-Forwarded-* headers, which it does only with FLASK_BEHIND_PROXY=1.
"""
import json
import os
import shlex
import sys
from pathlib import Path
from urllib.parse import urlsplit

from . import ROOT
from .stages import STAGES
from .stages import stage as stage_by_number

# The JupyterLab launcher tile's address: <jupyter base>/flask-2fa-app/ (pyproject.toml names it).
LAUNCHER_NAME = "flask-2fa-app"


def jupyter_base_url():
    """The running Jupyter server's base path (``/user/ana/`` on a hub), or None outside Jupyter."""
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if prefix:
        return prefix if prefix.endswith("/") else prefix + "/"
    # What jupyter_server's list_running_servers() reads, without importing the
    # whole server (seconds) into every lesson: the jpserver-*.json info files.
    from jupyter_core.paths import jupyter_runtime_dir

    for info_file in sorted(Path(jupyter_runtime_dir()).glob("jpserver-*.json")):
        try:
            info = json.loads(info_file.read_text(encoding="utf-8"))
            if os.name != "nt":  # on Windows os.kill() would end the process, not ask about it
                os.kill(info["pid"], 0)  # signal 0: only asks whether that server still runs
        except (OSError, ValueError, KeyError, TypeError):
            continue
        return info.get("base_url", "/")
    return None


def proxy_url(port, base_url=None):
    """The address of an app on ``port`` through the Jupyter server's proxy, or None outside Jupyter."""
    base_url = base_url if base_url is not None else jupyter_base_url()
    return None if base_url is None else f"{base_url}proxy/{port}/"


def codespaces_url(port):
    """The app's forwarded HTTPS address when this runs in GitHub Codespaces, else None.

    Codespaces sets both variables in every process of the codespace (terminals,
    kernels); the address is the one its Ports tab shows.
    """
    name = os.environ.get("CODESPACE_NAME")
    domain = os.environ.get("GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN")
    return f"https://{name}-{port}.{domain}/" if name and domain else None


def python_command():
    """This interpreter, as a terminal command that works without activating anything.

    A terminal (the system's, JupyterLab's, VS Code's) has its own PATH, where
    ``python`` and ``flask`` may be another Python without the workbook's
    libraries. The interpreter running this code knows its own path: relative to
    the repository folder when it is the workbook's .venv, the commands stay short.
    """
    executable = Path(sys.executable)
    try:
        path = str(executable.relative_to(ROOT))
    except ValueError:  # an interpreter outside the repository: its full path
        path = str(executable)
    return f'"{path}"' if on_windows() else shlex.quote(path)


# From this stage on the app has passkeys, which browsers tie to the address they show.
PASSKEY_STAGE = 8


def passkey_settings(number, port):
    """Stage 8's FLASK_RP_ID / FLASK_ORIGIN for the printed commands, as (name, value) pairs ([] when its defaults fit).

    A passkey belongs to a host name (the RP ID) and the server checks the exact origin the
    browser shows. Browsers refuse an IP address as an RP ID: so http://localhost:<port>, never
    127.0.0.1; in Codespaces, the forwarded host. (The app's defaults: localhost, http://localhost:5008.)
    """
    if number < PASSKEY_STAGE:
        return []
    forwarded = codespaces_url(port)
    if forwarded:
        host = urlsplit(forwarded).hostname
        return [("FLASK_RP_ID", host), ("FLASK_ORIGIN", f"https://{host}")]
    return [] if port == 5000 + PASSKEY_STAGE else [("FLASK_ORIGIN", f"http://localhost:{port}")]


def on_windows():
    return os.name == "nt"


def command_line(settings, program, arguments):
    """One command with its environment ``settings`` ((name, value) pairs), for this machine's terminal:
    POSIX shells take ``NAME=value program ...``; Windows' PowerShell sets ``$env:NAME`` first, and runs a
    quoted program with ``&``."""
    if not on_windows():
        return "".join(f"{name}={value} " for name, value in settings) + f"{program} {arguments}"
    return "".join(f'$env:{name}="{value}"; ' for name, value in settings) + f"& {program} {arguments}"


def how_to_run(number, port=None):
    """Print the commands that start stage ``number`` (on ``port``, 5000 + number by default)
    and where to open it: 127.0.0.1, Jupyter's proxy on a hub, or the forwarded address in Codespaces."""
    folder = stage_by_number(number).folder
    relative = f"app_steps/{folder.name}/app.py"
    port = port or 5000 + number
    remote = codespaces_url(port) or proxy_url(port)
    # Behind a proxy the app must trust its X-Forwarded-* headers; locally it must not.
    env = ([("FLASK_BEHIND_PROXY", "1")] if remote else []) + passkey_settings(number, port)
    # Stage 7 refuses to start without its keys, unless told it runs on your own machine
    # (FLASK_LOCAL_RUN=1; `python app.py` sets it): then it makes them. Never the debugger.
    local = [("FLASK_LOCAL_RUN", "1")] if number >= 7 else []
    python = python_command()
    terminal = "a PowerShell terminal" if on_windows() else "a terminal"
    lines = [
        f"Start stage {number} in {terminal}, from the repository folder (nothing to activate first):",
        f"    {command_line(env + local, python, f'-m flask --app {relative} run --port {port}')}",
        f"or: {command_line(env + [('FLASK_RUN_PORT', str(port))], python, relative)}",
    ]
    if codespaces_url(port):
        lines.append(f"Then open {remote} (this codespace's forwarded address for port {port}; "
                     "the Ports tab lists it too).")
    elif remote:
        lines.append(f"Then open {remote} (on JupyterHub or Binder: the same server, through Jupyter's proxy).")
        if number >= PASSKEY_STAGE:
            lines.append("Passkeys there: every app behind the hub shares the hub's address, so they are a "
                         "demonstration on one machine; put FLASK_RP_ID=<the hub's host name> and "
                         "FLASK_ORIGIN=<https://that host> in front of the command for them to work.")
    elif number >= PASSKEY_STAGE:
        lines.append(f"Then open http://localhost:{port}/ in your browser (localhost, not 127.0.0.1: "
                     "browsers refuse passkeys on an IP address).")
    else:
        lines.append(f"Then open http://127.0.0.1:{port}/ in your browser.")
    lines.append("Stop the app with Ctrl+C in that terminal.")
    print("\n".join(lines))


def jupyter_launcher_app():
    """The JupyterLab launcher tile that starts the most complete stage app.

    jupyter-server-proxy reads this through the ``jupyter_serverproxy_servers``
    entry point in pyproject.toml, so it is there wherever the workbook is
    installed (``make lab``, Binder, a hub): click the tile and the app starts on
    a free port and opens at ``<jupyter base>/flask-2fa-app/``.
    """
    latest = STAGES[-1]
    return {
        "command": [sys.executable, str(latest.folder / "app.py")],
        # FLASK_BEHIND_PROXY=1: the app trusts the X-Forwarded-Prefix that Jupyter's proxy sends.
        "environment": {"FLASK_RUN_PORT": "{port}", "FLASK_BEHIND_PROXY": "1", "PYTHONUNBUFFERED": "1"},
        "timeout": 60,  # seconds for the app to answer, on a busy shared server
        "launcher_entry": {"title": f"Flask 2FA app (stage {latest.number})"},
    }
