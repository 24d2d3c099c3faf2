"""How to start a stage app, and the address to open, on a laptop or on a JupyterHub.

On a hub (or Binder) the browser cannot reach 127.0.0.1 on the server, so
jupyter-server-proxy forwards ``<jupyter base>/proxy/<port>/`` to the app.
"""
import json
import os
import sys
from pathlib import Path

from .stages import existing_stages
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


def how_to_run(number):
    """Print the commands that start stage ``number`` and where to open it."""
    folder = stage_by_number(number).folder
    relative = f"app_steps/{folder.name}/app.py"
    port = 5000 + number
    lines = [
        f"Start stage {number} in a terminal, from the repository folder:",
        f"    flask --app {relative} run --port {port}" + (" --debug" if number == 7 else ""),
        f"or: FLASK_RUN_PORT={port} python {relative}",
        f"Then open http://127.0.0.1:{port}/ in your browser.",
    ]
    through_proxy = proxy_url(port)
    if through_proxy:
        lines.append(f"On JupyterHub or Binder, open {through_proxy} instead (same server, through Jupyter's proxy).")
    lines.append("Stop the app with Ctrl+C in that terminal.")
    print("\n".join(lines))


def jupyter_launcher_app():
    """The JupyterLab launcher tile that starts the most complete stage app.

    jupyter-server-proxy reads this through the ``jupyter_serverproxy_servers``
    entry point in pyproject.toml, so it is there wherever the workbook is
    installed (``make lab``, Binder, a hub): click the tile and the app starts on
    a free port and opens at ``<jupyter base>/flask-2fa-app/``.
    """
    latest = existing_stages()[-1]
    return {
        "command": [sys.executable, str(latest.folder / "app.py")],
        "environment": {"FLASK_RUN_PORT": "{port}", "PYTHONUNBUFFERED": "1"},
        "timeout": 60,  # seconds for the app to answer, on a busy shared server
        "launcher_entry": {"title": f"Flask 2FA app (stage {latest.number})"},
    }
