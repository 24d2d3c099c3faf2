"""A prototype (issue 20, part 3), not used by the Grader: verdicts the student's code cannot reach.

Today a notebook's cells and the checks share one process (worker.py), so a determined cell can
reach the checks' frames, the run's secret and the result. Here they do not:

* the student's cells run in a child process of their own: a fresh interpreter whose ``workbook``
  is the students' repository (``python -m workbook handout``: no hidden checks, no grader, no
  solutions), run as another user (``nobody``) where the grader runs as root and that user can
  run a Python, so that nothing of the grader's is readable to it;
* the checks run in the grader's process, on stand-ins for the student's functions
  (``RemoteFunction``): each call sends plain values (JSON: numbers, strings, bytes, lists,
  dicts) to the child, which calls the student's function and sends back only a plain value,
  or the name and message of what it raised. No object of the student's crosses: an ``int``
  whose ``==`` says yes to anything arrives as a plain int;
* the verdict (✅/❌/⏳ and the points) is made in the grader's process: there is no result for
  the child to forge, no secret for it to find and no check of the grader's to patch.

What the child can still do: compute the right outputs any way it likes, including calling the
reference apps' functions it was handed (``stage4.grouped``: the handout has app_steps/, which the
lessons need; the grader sees only outputs, so that stays a job for the copy flags and for
``run_check`` on the source the grader reads), and use the CPU and time it is given.

Lesson 00 works this way as it is: its checks call the student's functions with plain values
and look only at what comes back. Checks that hand the student's code a Flask app, a database
connection or a view (lessons 04, 06, 07) need their inputs and outputs made plain first (the
app as HTTP requests and responses, as the app stages already are). tests/test_grading_remote.py
measures lesson 00 this way beside the grader's worker.
"""
import base64
import json
import os
import pwd
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CALL_TIMEOUT = 20.0
MESSAGE_LIMIT = 2 * 2**20   # bytes of one answer from the child: more is an error, not a value


def encode(value):
    """A plain value as JSON-ready data (bytes tagged); anything else is refused."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) is bytes:
        return {"$bytes": base64.b64encode(value).decode()}
    if type(value) in (list, tuple):
        return [encode(item) for item in value]
    if type(value) is dict and all(type(key) is str for key in value):
        return {"$dict": {key: encode(item) for key, item in value.items()}}
    raise TypeError(f"a {type(value).__name__} is not a plain value")


def decode(data):
    """The plain value JSON data stands for: only numbers, strings, bytes, lists and dicts come out."""
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [decode(item) for item in data]
    if type(data) is dict and set(data) == {"$bytes"} and type(data["$bytes"]) is str:
        return base64.b64decode(data["$bytes"])
    if type(data) is dict and set(data) == {"$dict"} and type(data["$dict"]) is dict:
        return {str(key): decode(item) for key, item in data["$dict"].items()}
    raise ValueError("not a plain value")


class StudentCodeError(Exception):
    """What the student's function raised in the child (its type's name leads the message)."""


class StudentProcess:
    """The child that runs one notebook's cells, then answers calls to the functions they defined."""

    def __init__(self, cells, workbook_folder, cwd=None, user="nobody", timeout=120):
        """``workbook_folder``: a handout, readable by ``user``; ``cwd``: the child's folder (default: its own,
        removed by close())."""
        self.user, self.sandboxed, self.scratch = user, False, None
        if cwd is None:
            cwd = self.scratch = scratch_folder()
        interpreter, preexec = sys.executable, None
        site_packages = next(p for p in sys.path if p.endswith("site-packages"))
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": os.pathsep.join([str(workbook_folder), site_packages]),
               "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg", "HOME": str(cwd),
               "IPYTHONDIR": str(Path(cwd) / ".ipython")}
        if os.geteuid() == 0:
            interpreter, preexec = self._as_user(user, cwd)
        self.process = subprocess.Popen([interpreter, "-c", child_program()], cwd=cwd, env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        preexec_fn=preexec, start_new_session=True)
        self._send({"cells": cells})
        reply = self._receive(timeout)
        self.defined = set(reply.get("defined", [])) if isinstance(reply, dict) else set()

    def _as_user(self, user, cwd):
        """(a Python that ``user`` may run, a function that becomes ``user``), when the machine allows it."""
        record = pwd.getpwnam(user)
        os.chown(cwd, record.pw_uid, record.pw_gid)
        version = f"python{sys.version_info.major}.{sys.version_info.minor}"
        for interpreter in (sys.executable, f"/usr/bin/{version}", f"/usr/local/bin/{version}"):
            try:
                probe = subprocess.run([interpreter, "-c", "pass"], user=record.pw_uid, group=record.pw_gid,
                                       extra_groups=[], capture_output=True, cwd=cwd, timeout=30)
            except OSError:
                continue   # missing, or that user may not run it (a Python under /root)
            if probe.returncode == 0:
                self.sandboxed = True

                def become():
                    os.setgroups([])
                    os.setgid(record.pw_gid)
                    os.setuid(record.pw_uid)
                return interpreter, become
        return sys.executable, None   # no Python that user may run: the same user (said by .sandboxed)

    def _send(self, message):
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()

    def _receive(self, timeout):
        line, deadline = b"", time.monotonic() + timeout
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.process.stdout], [], [], left)[0]:
                raise TimeoutError("the student's code did not answer in time")
            chunk = os.read(self.process.stdout.fileno(), 65536)
            if not chunk:
                raise StudentCodeError("the student's process ended")
            line += chunk
            if len(line) > MESSAGE_LIMIT:
                raise StudentCodeError("the student's process sent more than a value")
        return json.loads(line)

    def call(self, name, *args):
        self._send({"call": name, "args": encode(list(args))})
        reply = self._receive(CALL_TIMEOUT)
        if not isinstance(reply, dict):
            raise StudentCodeError("garbled answer")
        if "raised" in reply:
            kind, message = (str(part)[:500] for part in reply["raised"][:2])
            if kind == "NotImplementedError":
                raise NotImplementedError(message)
            raise StudentCodeError(f"{kind}: {message}")
        return decode(reply.get("value"))

    def close(self):
        try:
            os.killpg(self.process.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


class RemoteFunction:
    """Stands in for the student's function in the grader's process: each call is answered by the child."""

    def __init__(self, process, name):
        self._process, self.__name__ = process, name

    def __call__(self, *args):
        return self._process.call(self.__name__, *args)


def verdict(exercise_id, process, hidden=True):
    """(status, message) of an exercise, its checks run here on stand-ins (run_check's outcomes)."""
    from ..checks import EXERCISES, FAILED, NOT_DONE, PASSED, load_all
    load_all()
    entry = EXERCISES[exercise_id]
    missing = [name for name in entry.uses if name not in process.defined]
    if missing:
        return FAILED, f"{', '.join(missing)} is not defined in your notebook."
    stand_ins = [RemoteFunction(process, name) for name in entry.uses]
    for check in [entry.check] + (entry.hidden if hidden else []):
        try:
            check(*stand_ins)
        except NotImplementedError:
            return NOT_DONE, ""
        except AssertionError as error:
            return FAILED, str(error)
        except Exception as error:  # noqa: BLE001 - the student's code raised, or did not answer
            return FAILED, f"your code raised {error}"
    return PASSED, ""


# ---------------------------------------------------------------------------
# The child: runs as the student, knows nothing of the grader


def _child():
    import io
    import types
    from contextlib import redirect_stderr, redirect_stdout

    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    reader, writer = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")   # the channel: a copy of stdout
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)   # what the cells print goes nowhere near the channel
    sys.stdout = io.TextIOWrapper(open(1, "wb", closefd=False), write_through=True)
    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    cells = json.loads(reader.readline())["cells"]
    for source in cells:
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            shell.run_cell(source)
    defined = [name for name, value in shell.user_ns.items() if isinstance(value, types.FunctionType)]

    def reply(message):
        writer.write(json.dumps(message).encode() + b"\n")
        writer.flush()

    reply({"defined": defined})
    for line in reader:
        request = json.loads(line)
        function = shell.user_ns.get(request.get("call"))
        try:
            with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
                value = function(*decode(request["args"]))
            reply({"value": encode(value)})
        except BaseException as error:  # noqa: BLE001 - whatever the student's code raised, as text
            reply({"raised": [type(error).__name__, str(error)]})


def child_program():
    """The child's whole program (it imports nothing of the grader's: the handout has none of it)."""
    import inspect
    return "\n".join(["import base64, json, os, sys"] + [inspect.getsource(f) for f in (encode, decode, _child)]
                     + ["_child()"])


def scratch_folder():
    """A scratch folder for the child (its cwd and home), owned by it once it starts."""
    folder = Path(tempfile.mkdtemp(prefix="workbook-student-"))
    folder.chmod(0o700)
    return folder
