"""Verdicts the student's code cannot reach (issue 20, part 3): the judge's side of the sandbox.

A notebook's cells run in a STUDENT PROCESS of their own (child.py is its whole program): a process
forked from a per-run zygote that never ran student code, as ``nobody`` where the grader is root, in
a PID namespace of its own, with the grader's folder (``workbook.ROOT``), /root and the hidden checks
file hidden from it by a private mount namespace; its ``workbook`` is the handout's (``python -m
workbook handout``: visible checks only, no grader, no solutions). The checks run in the JUDGE (the
grader's worker) on stand-ins: ``process.get(name)`` gives the student's value when it is plain
(workbook/checks/student_side.py: None, bool, int, float, str, bytes, lists, tuples and dicts of
them, exact types only), else a ``RemoteObject`` whose every use is a request answered by the
student's process. Only plain values and handles cross, over one socket, as JSON.

What a proxy does (REMOTE_DESIGN.md): call, attribute read and write (public names only), items,
len, iter, ``in``, ``with``, str/repr, bool. Refused: ==, !=, <, hash(); no ``_`` names. What the
student's code raised comes back as ``StudentCodeError("TypeName: message")``, NotImplementedError as
itself (the stub: "not done"). Every request has a time limit (TimeoutError), and a process that
ended or stopped answering fails every later request (StudentCodeError).

Where the machine cannot sandbox (not root, or no namespaces: a student's laptop running ``check``),
the student's process is the same but runs as the grader's user, with its files readable:
``Sandbox.level`` says which, and the report says so.
"""
import json
import os
import pwd
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..checks.student_side import decode, encode

REQUEST_TIMEOUT = 60.0
MESSAGE_LIMIT = 8 * 2 ** 20    # bytes of one answer from the student's process: more is an error
STUDENT_USER = "nobody"
CHILD_PROGRAM = Path(__file__).with_name("child.py")

# What the zygote imports once, before it forks a student's process (as the grader's fork server does,
# preload.py): the libraries the lessons use, then the handout's workbook, its checks prepared (child.preload).
LESSON_LIBRARIES = [
    "IPython.core.interactiveshell", "IPython.display", "traitlets.config",
    "flask", "werkzeug", "werkzeug.security", "jinja2", "pyotp", "pyqrcode", "png", "zxingcpp",
    "sqlite3", "hmac", "hashlib", "base64", "struct", "secrets", "urllib.parse", "html.parser",
    "flask_wtf", "wtforms", "jupyter_core.paths",
    # what every worker imported after the fork (measured): the shell's own parts, the test client, ...
    "IPython.core.application", "IPython.core.completer", "IPython.core.completerlib", "IPython.core.crashhandler",
    "IPython.core.logger", "IPython.core.magics", "IPython.core.oinspect", "IPython.utils.wildcard", "resource",
    "flask.testing", "click.testing", "werkzeug.middleware.proxy_fix", "zxcvbn",
    "hypothesis", "hypothesis.strategies",  # the checks draw inputs with it (workbook.checks.for_all)
]

# Sandbox levels
ISOLATED = "isolated"      # as nobody, in its own PID namespace, the grader's files hidden
OTHER_USER = "other user"  # as nobody, but no namespaces: world-readable files stay readable
SAME_USER = "same user"    # as the grader's own user: nothing of the grader's is out of its reach

LEVEL_NOTES = {
    ISOLATED: "",
    OTHER_USER: "the student's code ran as another user (nobody) but without namespaces: files readable by "
                "every user on this machine were readable to it",
    SAME_USER: "the student's code ran as your user (no sandbox on this machine): it could read and change "
               "anything you can",
}


class StudentCodeError(Exception):
    """What the student's code raised in its process (its type's name leads the message, and is ``kind``), or
    that the process ended or sent garbage (``kind`` None)."""

    def __init__(self, message, kind=None):
        super().__init__(message)
        self.kind = kind


class CheckArgumentError(TypeError):
    """A check handed the student's code an object of the judge's (not a plain value, not a proxy): a
    grading error of the workbook, raised before anything was sent."""

    MARK = "a grading error of the workbook"


def exit_reason(code):
    """How a process ended, in words, from its exit code."""
    if code is None:
        return "exit code unknown"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


# -- the sandbox: one per grading run ---------------------------------------------------------------

def namespaces_work():
    """Whether this process may make mount and PID namespaces (root, and the system lets it)."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("mount"):
        return False
    try:
        return subprocess.run(["unshare", "--mount", "--pid", "--fork", "true"], capture_output=True,
                              timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _inside(path, folders):
    path = Path(path)
    return any(path == folder or path.is_relative_to(folder) for folder in folders)


class Sandbox:
    """The handout, the zygote and the rules every student's process of one grading run shares.

    ``start()`` builds the handout (the students' repository) in a folder of its own and starts the
    zygote; ``spawn(...)`` gives a StudentProcess; ``close()`` ends the zygote and removes the folder.
    """

    def __init__(self, hidden_checks=None, root=None, want_isolation=True):
        import workbook
        self.root = Path(root or workbook.ROOT).resolve()
        self.hidden_checks = str(Path(hidden_checks).resolve()) if hidden_checks else None
        self.want_isolation = want_isolation
        self.level = SAME_USER
        self.folder = None
        self.handout = None
        self.socket_path = None
        self.uid = self.gid = None
        self._zygote = None
        self._lock = threading.Lock()

    # what the workers need to reach it (plain data: a NotebookJob carries it)
    def describe(self):
        return {"socket": self.socket_path, "handout": str(self.handout), "level": self.level,
                "uid": self.uid, "gid": self.gid, "public": str(self.public)}

    def start(self):
        with self._lock:
            if self._zygote is not None and self._zygote.poll() is None:
                return self
            if self._zygote is not None:   # it ended (killed): start another
                self._stop_zygote()
            if self.folder is None:
                self._make_folders()
            self._start_zygote()
        return self

    def _make_folders(self):
        from ..authoring.handout import build
        self.folder = Path(tempfile.mkdtemp(prefix="workbook-sandbox-"))
        self.folder.chmod(0o711)      # others may pass through to what they are told of, not list it
        self.handout = self.folder / "handout"
        build(self.handout)
        for path in [self.handout, *self.handout.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        self.private = self.folder / "private"   # the control socket, the mount staging: root's alone
        self.private.mkdir(mode=0o700)
        self.public = self.folder / secrets.token_hex(12)   # the students' scratch folders: unguessable name
        self.public.mkdir(mode=0o711)
        isolated = self.want_isolation and namespaces_work()
        if os.geteuid() == 0:
            try:
                record = pwd.getpwnam(STUDENT_USER)
                self.uid, self.gid = record.pw_uid, record.pw_gid
            except KeyError:
                self.uid = self.gid = None
        if self.uid is None:
            self.level = SAME_USER
        else:
            self.level = ISOLATED if isolated else OTHER_USER

    def _mounts(self):
        if self.level != ISOLATED:
            return None
        hide = [self.root]
        home = Path(pwd.getpwuid(os.geteuid()).pw_dir).resolve()
        if home != Path("/") and not _inside(home, hide):
            hide.append(home)
        # what the student's process needs from inside a hidden folder: the Python, its libraries, the handout
        wanted = [Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).parent, self.folder,
                  *(Path(p) for p in sys.path if p and Path(p).is_dir() and "site-packages" in p)]
        keep = []
        for path in wanted:
            path = path.resolve()
            if _inside(path, hide) and not any(_inside(path, [k]) for k in keep):
                keep = [k for k in keep if not _inside(k, [path])] + [path]
        cover = [self.hidden_checks] if self.hidden_checks and not _inside(self.hidden_checks, hide) else []
        return {"stage": str(self.private / "mounts"), "hide": [str(p) for p in hide], "keep": [str(p) for p in keep],
                "writable": [str(p) for p in keep if p == self.folder.resolve()], "cover": cover}

    def _start_zygote(self):
        self.socket_path = str(self.private / f"zygote-{secrets.token_hex(4)}.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.socket_path)
        listener.listen(64)
        config = {"mounts": self._mounts(), "path": [str(self.handout)], "preload": LESSON_LIBRARIES}
        command = [sys.executable, "-c", CHILD_PROGRAM.read_text(encoding="utf-8"), json.dumps(config),
                   str(listener.fileno())]
        if self.level == ISOLATED:
            command = ["unshare", "--mount", "--propagation", "private", "--", *command]
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(self.handout), "PYTHONDONTWRITEBYTECODE": "1",
               "MPLBACKEND": "Agg", "HOME": str(self.public)}
        self._zygote = subprocess.Popen(command, cwd=str(self.public), env=env, pass_fds=[listener.fileno()],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        start_new_session=True)
        listener.close()
        ready = select.select([self._zygote.stdout], [], [], 120)[0]
        line = self._zygote.stdout.readline() if ready else b""
        if line.strip() != b"ready":
            error = self._zygote.stderr.read1(4000).decode(errors="replace") if self._zygote.poll() is not None else ""
            self._stop_zygote()
            raise RuntimeError(f"the sandbox did not start: {error.strip()[-600:] or 'no answer'}")

    def _stop_zygote(self):
        if self._zygote is not None:
            try:
                os.killpg(self._zygote.pid, signal.SIGKILL)
            except OSError:
                pass
            self._zygote.wait()
            for stream in (self._zygote.stdout, self._zygote.stderr):
                stream.close()
            self._zygote = None

    def close(self):
        with self._lock:
            self._stop_zygote()
            if self.folder is not None:
                shutil.rmtree(self.folder, ignore_errors=True)
                self.folder = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def scratch(self):
        """A fresh folder for one student's process (its cwd), under a name no other student can guess."""
        folder = Path(tempfile.mkdtemp(dir=self.public))
        if self.uid is not None:
            os.chown(folder, self.uid, self.gid)
        return folder

    def spawn(self, cwd, env=None, log=None, scratch_root=None, timeout=REQUEST_TIMEOUT):
        return StudentProcess(self.describe(), cwd, env=env, log=log, scratch_root=scratch_root, timeout=timeout)


def give_to_student(folder, description):
    """Make ``folder`` (the student's scratch copy) the student's user's, so that its code can write there."""
    uid, gid = description.get("uid"), description.get("gid")
    if uid is None:
        return
    for path in [Path(folder), *Path(folder).rglob("*")]:
        try:
            os.lchown(path, uid, gid)
        except OSError:
            pass


# -- the judge's side of one student's process --------------------------------------------------

class StudentProcess:
    """One notebook's student process, as the judge sees it: cells to run, then names to ask about."""

    def __init__(self, description, cwd, env=None, log=None, scratch_root=None, timeout=REQUEST_TIMEOUT):
        self.description = description
        self.level = description["level"]
        self.timeout = timeout
        self.pid = None
        self.ended = None            # {"status": exit code (negative: signal), "cpu": seconds} once it ended
        self.broken = None           # why it fails every request now
        self.buffer = b""
        home = str(cwd)
        environment = {"PATH": os.path.dirname(sys.executable) + os.pathsep + "/usr/local/bin:/usr/bin:/bin",
                       "HOME": home, "TMPDIR": home, "PYTHONPATH": description["handout"],
                       "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg", "IPYTHONDIR": str(Path(home) / ".ipython"),
                       "LANG": "C.UTF-8", **(env or {})}
        request = {"cwd": str(cwd), "env": environment, "scratch_root": scratch_root,
                   "uid": description.get("uid"), "gid": description.get("gid"),
                   "pid_namespace": self.level == ISOLATED}
        self.channel, child_channel = socket.socketpair()
        self.lifeline, child_lifeline = socket.socketpair()
        log_fd = os.open(log or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                control.connect(description["socket"])
                socket.send_fds(control, [json.dumps(request).encode()],
                                [child_channel.fileno(), child_lifeline.fileno(), log_fd])
            finally:
                control.close()
        finally:
            child_channel.close()
            child_lifeline.close()
            os.close(log_fd)
        line = self._read_line(self.lifeline, timeout, b"")[0]
        try:
            self.pid = int(json.loads(line)["pid"])
        except (ValueError, KeyError, TypeError):
            raise StudentCodeError("the student's process did not start") from None

    # -- the wire

    def _read_line(self, sock, timeout, buffer):
        deadline = time.monotonic() + timeout
        while b"\n" not in buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the student's code did not answer within {timeout:g} s")
            try:
                ready = select.select([sock], [], [], left)[0]
            except InterruptedError:
                continue
            if not ready:
                continue
            chunk = sock.recv(65536)
            if not chunk:
                raise EOFError
            buffer += chunk
            if len(buffer) > MESSAGE_LIMIT:
                raise StudentCodeError("the student's process sent more than a value")
        line, rest = buffer.split(b"\n", 1)
        return line, rest

    def request(self, message, timeout=None):
        """Send one request, return its reply (a dict); StudentCodeError/TimeoutError when none comes."""
        if self.broken:
            raise StudentCodeError(self.broken)
        try:
            self.channel.sendall(json.dumps(message).encode() + b"\n")
            line, self.buffer = self._read_line(self.channel, timeout or self.timeout, self.buffer)
            reply = json.loads(line)
        except TimeoutError:
            self.broken = "the student's process stopped answering (it ran out of time)"
            self.kill()
            raise
        except (EOFError, OSError):
            self.broken = "the student's process ended"
            self._collect_end(2.0)
            raise StudentCodeError(self.broken) from None
        except ValueError:
            self.broken = "the student's process sent garbage"
            self.kill()
            raise StudentCodeError(self.broken) from None
        if type(reply) is not dict:
            self.broken = "the student's process sent garbage"
            self.kill()
            raise StudentCodeError(self.broken)
        if "raised" in reply:
            try:
                kind, message = (str(part)[:1000] for part in reply["raised"][:2])
            except (TypeError, ValueError):
                kind, message = "Exception", "?"
            if kind == "NotImplementedError":
                raise NotImplementedError(message)
            raise StudentCodeError(f"{kind}: {message}" if message else kind, kind)
        return reply

    def _result(self, reply):
        if "handle" in reply:
            if type(reply["handle"]) is not int:
                raise StudentCodeError("the student's process sent garbage")
            return RemoteObject(self, reply["handle"], str(reply.get("type", "object"))[:100],
                                bool(reply.get("callable")))
        try:
            return decode(reply.get("value"))
        except ValueError:
            raise StudentCodeError("the student's process sent something that is not a plain value") from None

    def _pack(self, value):
        """An argument for the student's code: plain values, and proxies of this process as handles."""
        if isinstance(value, RemoteObject):
            if value._process is not self:
                raise CheckArgumentError(f"a stand-in of another student's process ({CheckArgumentError.MARK})")
            return {"$handle": value._handle}
        if type(value) is list:
            return [self._pack(item) for item in value]
        if type(value) is tuple:
            return {"$tuple": [self._pack(item) for item in value]}
        if type(value) is dict and all(type(key) in (str, int) for key in value):
            return {"$dict": [[key, self._pack(item)] for key, item in value.items()]}
        try:
            return encode(value)
        except TypeError:
            raise CheckArgumentError(
                f"the check handed the student's code a {type(value).__name__}, which is neither a plain value "
                f"nor built in the student's process ({CheckArgumentError.MARK}, not the student's)") from None

    # -- cells

    def run_cell(self, source, timeout=None):
        """Run one cell: {"error": text or None, "interrupted": bool}. ``timeout`` None: wait for it."""
        reply = self.request({"op": "cell", "source": source}, timeout=timeout or 10 ** 7)
        return {"error": reply.get("error") if isinstance(reply.get("error"), str) else None,
                "interrupted": bool(reply.get("interrupted"))}

    def interrupt(self):
        """KeyboardInterrupt in the running cell (Jupyter's interrupt button)."""
        if self.pid is not None and self.ended is None:
            try:
                os.kill(self.pid, signal.SIGINT)
            except OSError:
                pass

    # -- names

    def get(self, name):
        """The student's global ``name``: a plain value, or a proxy. NameError when it is not defined."""
        reply = self.request({"op": "get", "name": name})
        if "missing" in reply:
            raise NameError(f"name '{name}' is not defined in the student's notebook")
        return self._result(reply)

    def missing(self, names):
        """Which of ``names`` the student's notebook did not define."""
        value = self._result(self.request({"op": "missing", "names": list(names)}))
        return [name for name in names if name in value] if type(value) is list else list(names)

    def module(self, name):
        """The module ``name`` in the student's process (a proxy): what student_side.module gives when graded."""
        return self._result(self.request({"op": "module", "name": str(name)}))

    def threads(self):
        value = self._result(self.request({"op": "threads"}, timeout=10))
        return [str(item) for item in value] if type(value) is list else []

    def borrowed(self, names):
        """The handout's run_check's word on whether an answer is the workbook's own function (advisory: the
        student's process answers it)."""
        value = self._result(self.request({"op": "borrowed", "names": list(names)}, timeout=10))
        return value if type(value) is str else None

    # -- the end

    def _collect_end(self, wait):
        """How the process ended ({"status", "cpu"}), from its keeper, waiting up to ``wait`` s."""
        if self.ended is not None:
            return self.ended
        buffer = b""
        try:
            while True:
                line, buffer = self._read_line(self.lifeline, wait, buffer)
                message = json.loads(line)
                if isinstance(message, dict) and "status" in message:
                    self.ended = {"status": int(message["status"]), "cpu": float(message.get("cpu", 0.0))}
                    return self.ended
        except (TimeoutError, EOFError, OSError, ValueError, TypeError):
            return None

    def alive(self):
        return self.broken is None

    def kill(self):
        """End the student's process (its whole namespace) and everything it started."""
        try:
            self.lifeline.shutdown(socket.SHUT_WR)   # the keeper kills it
        except OSError:
            pass
        self._collect_end(5.0)

    def close(self):
        """End the process: politely first (its channel closes, it exits), then for good. Returns how it ended."""
        try:
            self.channel.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        ended = self._collect_end(2.0)
        if ended is None:
            self.kill()
        for sock in (self.channel, self.lifeline):
            sock.close()
        self.broken = self.broken or "the student's process was closed"
        return self.ended


# -- proxies ---------------------------------------------------------------------------------------

def _refused(operation):
    def refuse(self, *args):
        raise TypeError(f"{operation} on the student's {object.__getattribute__(self, '_type')} is refused when "
                        "grading: it is not a plain value (compare plain values only)")
    return refuse


class RemoteObject:
    """Stands in, in the judge, for an object that lives in the student's process."""

    __slots__ = ("_process", "_handle", "_type", "_callable")

    def __init__(self, process, handle, type_name, is_callable):
        object.__setattr__(self, "_process", process)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_callable", is_callable)

    def _ask(self, op, **fields):
        process = object.__getattribute__(self, "_process")
        return process._result(process.request({"op": op, "handle": object.__getattribute__(self, "_handle"),
                                                **fields}))

    def _packed(self, value):
        return object.__getattribute__(self, "_process")._pack(value)

    def __call__(self, *args, **kwargs):
        return self._ask("call", args=self._packed(list(args)), kwargs=self._packed(dict(kwargs)))

    def __getattr__(self, name):
        if name.startswith("_"):   # only the judge's code asks: a check that does is the workbook's to fix
            raise AttributeError(f"{name}: private and special attributes of the student's objects are refused "
                                 f"when grading ({CheckArgumentError.MARK}: a check asked for it)")
        try:
            return self._ask("getattr", name=name)
        except StudentCodeError as error:
            if str(error).startswith("AttributeError"):
                raise AttributeError(str(error)) from None
            raise

    def __setattr__(self, name, value):
        if name.startswith("_"):
            raise AttributeError(f"{name}: private attributes of the student's objects are refused when grading")
        self._ask("setattr", name=name, value=self._packed(value))

    def __delattr__(self, name):
        raise AttributeError("deleting attributes of the student's objects is refused when grading")

    def __getitem__(self, key):
        return self._ask("getitem", key=self._packed(key))

    def __setitem__(self, key, value):
        self._ask("setitem", key=self._packed(key), value=self._packed(value))

    def __delitem__(self, key):
        self._ask("delitem", key=self._packed(key))

    def __len__(self):
        try:
            value = self._ask("len")
        except StudentCodeError as error:
            if str(error).startswith("TypeError"):   # no len(): list() and friends then go by iter()
                raise TypeError(str(error)) from None
            raise
        if type(value) is not int:
            raise StudentCodeError("len() of the student's object is not an int")
        return value

    def __iter__(self):
        iterator = self._ask("iter")
        if not isinstance(iterator, RemoteObject):
            yield from iterator if type(iterator) in (list, tuple) else ()
            return
        process = object.__getattribute__(self, "_process")
        while True:
            reply = process.request({"op": "next", "handle": object.__getattribute__(iterator, "_handle")})
            if reply.get("stop"):
                return
            yield process._result(reply)

    def __contains__(self, key):
        return self._ask("contains", key=self._packed(key)) is True

    def __enter__(self):
        return self._ask("enter")

    def __exit__(self, kind, error, traceback):
        self._ask("exit", error=kind is not None)
        return False

    def __str__(self):
        value = self._ask("str")
        return value if type(value) is str else "?"

    def __repr__(self):
        try:
            value = self._ask("repr")
        except Exception:  # noqa: BLE001 - a repr must not raise in a message
            value = None
        return value if type(value) is str else f"<the student's {object.__getattribute__(self, '_type')}>"

    def __bool__(self):
        return self._ask("bool") is True

    __eq__ = _refused("==")
    __ne__ = _refused("!=")
    __lt__ = _refused("<")
    __le__ = _refused("<=")
    __gt__ = _refused(">")
    __ge__ = _refused(">=")
    __hash__ = _refused("hash()")


# run_check asks where an answer's code lives (``__module__``, ``__code__``): a proxy has none of the
# grader's (the student's process answers that question: StudentProcess.borrowed).
RemoteObject.__module__ = "student process"
RemoteObject.__qualname__ = RemoteObject.__name__ = "StudentObject"
