"""Start a stage app (or any web server) on a free loopback port, wait until it answers, stop it.

Used by the tests that drive apps over real HTTP, the browser tests and the
benchmarks. Readiness is polled with a deadline, never guessed with a sleep.
"""
import contextlib
import dataclasses
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from .. import ROOT
from ..stages import stage as stage_by_number


class ServerError(RuntimeError):
    """The server did not start; the message includes what it printed."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answering(url, process, deadline_seconds=30.0):
    """Poll ``url`` until any HTTP answer comes back (or the process dies, or time runs out)."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"the server exited with code {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # an error page is still an answer
        except OSError:
            time.sleep(0.1)  # not up yet: poll again
    raise ServerError(f"nothing answered at {url} within {deadline_seconds:.0f} s")


@contextlib.contextmanager
def running(command, port, env=None, cwd=ROOT, path="/", log=None):
    """Run ``command`` (which serves on ``port``) for the duration of the block; yield its base URL.

    What it prints (its request log, its errors) goes to the file ``log`` when given, for a test to read.
    """
    with (open(log, "w+b") if log else tempfile.TemporaryFile()) as output:
        process = subprocess.Popen(
            command, cwd=cwd, env={**os.environ, **(env or {})}, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a reloader's child stops too
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            try:
                wait_until_answering(base_url + path, process)
            except ServerError as error:
                output.seek(0)
                printed = output.read().decode(errors="replace")[-3000:]
                raise ServerError(f"{' '.join(map(str, command))}: {error}. It printed:\n{printed}") from None
            yield base_url
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def stage_command(number, way, port):
    """The documented command for stage ``number``: ``way`` is "python" or "flask"."""
    app_file = f"app_steps/{stage_by_number(number).folder.name}/app.py"
    if way == "python":
        return [sys.executable, app_file]
    return [sys.executable, "-m", "flask", "--app", app_file, "run", "--port", str(port)]


TOTP_TEST_KEY = "dGVzdHMgb25seTogbm90IGEgcmVhbCBrZXksIDMyIGI="  # a Fernet key (32 bytes, base64), for tests only


def stage_environment(port, database, secret_key="not a real key, for tests only: 32+ characters", behind_proxy=False):
    """What a local plain-HTTP run of any stage needs, pointed at a scratch database.

    ``behind_proxy``: the app is reached through a proxy (Jupyter's, Codespaces'), so it
    trusts the X-Forwarded-* headers, as the printed hub and Codespaces commands tell it to.
    """
    return {
        "FLASK_RUN_PORT": str(port),
        "FLASK_SECRET_KEY": secret_key,
        # Stage 7 (round three) encrypts the TOTP secrets at rest with this Fernet key.
        "FLASK_TOTP_ENCRYPTION_KEYS": TOTP_TEST_KEY,
        "FLASK_DATABASE": str(database),
        "FLASK_SESSION_COOKIE_SECURE": "false",
        "PYTHONUNBUFFERED": "1",
        **({"FLASK_BEHIND_PROXY": "1"} if behind_proxy else {}),
    }


@dataclasses.dataclass
class JupyterServer:
    url: str       # http://127.0.0.1:<port>
    base_url: str  # /user/test/ on a hub-like server
    token: str
    runtime_dir: Path

    @property
    def login_url(self):
        """Open this once, as a student opens the link with the token: Jupyter sets its cookie."""
        return f"{self.url}{self.base_url}api/status?token={self.token}"

    def proxy_url(self, port):
        """Where jupyter-server-proxy serves an app listening on ``port``."""
        return f"{self.url}{self.base_url}proxy/{port}/"


@contextlib.contextmanager
def jupyter_server(folder, base_url="/", env=None, lab=False):
    """A real Jupyter server (jupyter-server-proxy included) on loopback, serving ``folder``.

    With ``lab``, it is JupyterLab, with its app object on ``window.jupyterapp``
    so that a browser test can run its commands (Run All) as the menus do.

    Its runtime and config folders are inside ``folder``: it never reads your own
    ~/.jupyter, and jupyter_server.serverapp.list_running_servers() finds it only
    with JUPYTER_RUNTIME_DIR set to ``runtime_dir``.
    """
    folder = Path(folder)
    token, port = secrets.token_hex(24), free_port()
    environment = {
        "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
        "JUPYTER_CONFIG_DIR": str(folder / "config"),
        **(env or {}),
    }
    command = [
        sys.executable, "-m", "jupyterlab" if lab else "jupyter_server", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--ServerApp.token={token}", f"--ServerApp.base_url={base_url}",
    ] + (["--LabApp.expose_app_in_browser=True"] if lab else [])
    with running(command, port, environment, cwd=folder, path=base_url + "api") as url:
        yield JupyterServer(url, base_url, token, folder / "runtime")
