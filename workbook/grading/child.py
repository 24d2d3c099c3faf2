"""The student's side of grading: the program of the sandbox's processes (remote.py starts it).

It never imports anything of the grader's: remote.py runs this file's text with ``python -c``, with
the handout's ``workbook`` first on the path (``python -m workbook handout``: visible checks only),
so that ``workbook.checks.student_side`` (encode/decode, the one definition of plain values) is the
handout's. Three kinds of process run this program:

* the ZYGOTE (one per grading run): hides the grader's files from itself and its children (a private
  mount namespace: the grader's folder and /root over-mounted with empty tmpfs, the Python it runs
  bound back read-only, the hidden checks file covered), imports the libraries the lessons use once,
  then forks one KEEPER per request on its control socket. It never runs student code.
* a KEEPER (root, outside the student's namespace): makes a new PID namespace, forks the STUDENT
  into it, tells the judge the student's pid, then waits: when the judge goes (its lifeline closes)
  it kills the student, and when the student ends it tells the judge how (exit code, CPU seconds).
* the STUDENT (pid 1 of its own namespace, as ``nobody`` where the grader is root): runs the
  notebook's cells in IPython's InteractiveShell, then answers the judge's requests about the names
  they defined, over one socket: plain values cross, anything else stays here as a numbered handle.

Messages are JSON lines. A request is ``{"op": ..., ...}``; a reply ``{"value": plain}``,
``{"handle": n, "type": name, "callable": bool}``, ``{"raised": [type name, message]}`` or an op's
own fields. What a cell prints goes to the log the judge opened (stdout and stderr).
"""
import json
import os
import select
import signal
import socket
import subprocess
import sys

CLONE_NEWPID = 0x20000000
MESSAGE_LIMIT = 8 * 2 ** 20


# -- the zygote ----------------------------------------------------------------------------------

def hide_grader_files(config):
    """In this process's own mount namespace: the grader's folders empty, what must stay bound back."""
    mounts = config.get("mounts")
    if not mounts:
        return
    stage = mounts["stage"]
    keep = mounts["keep"]
    for index, path in enumerate(keep):
        os.makedirs(f"{stage}/{index}", exist_ok=True)
        _mount(["--bind", path, f"{stage}/{index}"])
    for path in mounts["hide"]:
        _mount(["-t", "tmpfs", "-o", "mode=0755,size=4m", "tmpfs", path])
    for index, path in enumerate(keep):
        os.makedirs(path, exist_ok=True)
        _mount(["--bind", f"{stage}/{index}", path])
        if path not in mounts.get("writable", []):   # the students' scratch folders stay writable
            _mount(["-o", "remount,bind,ro", path])
    for path in mounts["cover"]:
        _mount(["--bind", "/dev/null", path])


def _mount(args):
    subprocess.run(["mount", *args], check=True, stdin=subprocess.DEVNULL, capture_output=True)


def preload(modules):
    """The libraries, then every module of the handout's workbook, its checks prepared (checks.prepare_all)."""
    import importlib
    import pkgutil
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S110 - optional: the student's process imports it itself
            pass
    try:
        import workbook
        for module in pkgutil.iter_modules(workbook.__path__):
            if module.name != "__main__":
                try:
                    importlib.import_module(f"workbook.{module.name}")
                except Exception:  # noqa: BLE001, S110
                    pass
        from workbook import checks
        checks.prepare_all()
    except Exception:  # noqa: BLE001, S110
        pass


def zygote(config, listener_fd):
    hide_grader_files(config)
    sys.path[:0] = config["path"]
    preload(config["preload"])
    import gc
    gc.freeze()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # keepers are reaped by the system
    listener = socket.socket(fileno=listener_fd)
    print("ready", flush=True)
    while True:
        connection, _address = listener.accept()
        try:
            message, fds, _flags, _address = socket.recv_fds(connection, MESSAGE_LIMIT, 3)
            request = json.loads(message)
        except (OSError, ValueError):
            connection.close()
            continue
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            connection.close()
            continue
        if os.fork() == 0:
            listener.close()
            connection.close()
            keeper(request, *fds)   # never returns
        for fd in fds:
            os.close(fd)
        connection.close()


# -- a keeper ----------------------------------------------------------------------------------

def keeper(request, channel_fd, lifeline_fd, log_fd):
    """Fork the student (in a PID namespace of its own when asked), then watch it and the judge."""
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        if request.get("pid_namespace"):
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.unshare(CLONE_NEWPID) != 0:
                os._exit(70)
        pid = os.fork()
        if pid == 0:
            os.close(lifeline_fd)
            student(request, channel_fd, log_fd)   # never returns
        os.close(channel_fd)
        os.close(log_fd)
        lifeline = socket.socket(fileno=lifeline_fd)
        lifeline.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        while True:
            readable = select.select([lifeline], [], [], 0.05)[0]
            if readable and not lifeline.recv(4096):   # the judge is gone, or closed the lifeline
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                os._exit(0)
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                cpu = usage.ru_utime + usage.ru_stime
                lifeline.sendall(json.dumps({"status": os.waitstatus_to_exitcode(status), "cpu": cpu}).encode()
                                 + b"\n")
                os._exit(0)
    except BaseException:  # noqa: BLE001 - the judge sees the lifeline close
        os._exit(71)


# -- the student --------------------------------------------------------------------------------

def student(request, channel_fd, log_fd):
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # an interrupt counts only while a request runs (Student.serve)
    try:
        os.setsid()
    except OSError:
        pass
    os.dup2(channel_fd, 3)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.closerange(4, 65536)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    if request.get("uid") is not None:
        os.setgroups([])
        os.setgid(request["gid"])
        os.setuid(request["uid"])
    sys.stdin = open(0, encoding="utf-8", closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)
    code = 0
    try:
        Student(request).serve(3)
    except BaseException:  # noqa: BLE001 - the judge sees the channel close
        code = 72
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:  # noqa: BLE001, S110
            pass
    os._exit(code)


def move_workbook_paths(real, scratch):
    """Point workbook.ROOT, and every path the workbook's modules made from it, at the scratch copy."""
    import types
    from pathlib import Path
    real, scratch = Path(real), Path(scratch)

    def moved(value):
        if isinstance(value, Path) and (value == real or value.is_relative_to(real)):
            relative = value.relative_to(real)
            if not relative.parts or (scratch / relative.parts[0]).exists():
                return scratch / relative
        return value

    for name, module in list(sys.modules.items()):
        if module is None or not (name == "workbook" or name.startswith("workbook.")):
            continue
        for key, value in list(vars(module).items()):
            if isinstance(value, Path):
                setattr(module, key, moved(value))
            elif isinstance(value, types.FunctionType) and value.__module__ == name:
                if value.__defaults__:
                    value.__defaults__ = tuple(moved(v) for v in value.__defaults__)
                if value.__kwdefaults__:
                    value.__kwdefaults__ = {k: moved(v) for k, v in value.__kwdefaults__.items()}


class Student:
    """The student's process: the cells, then the judge's requests."""

    def __init__(self, request):
        self.request = request
        self.handles = {}
        self.interrupted = False

    def serve(self, fd):
        from workbook.checks import student_side
        self.encode, self.decode = student_side.encode, student_side.decode
        self.channel = os.fdopen(fd, "r+b", buffering=0)
        self.buffer = b""
        self.prepare()

        busy = {"now": False}

        def on_interrupt(signum, frame):
            if busy["now"]:   # Jupyter's interrupt button: only the running request stops
                self.interrupted = True
                raise KeyboardInterrupt

        signal.signal(signal.SIGINT, on_interrupt)
        while True:
            request = self.receive()
            if request is None:
                return
            self.interrupted = False
            try:
                busy["now"] = True
                try:
                    reply = self.answer(request)
                finally:
                    busy["now"] = False
            except KeyboardInterrupt:
                reply = {"interrupted": True}
            except BaseException as error:  # noqa: BLE001 - whatever the student's code raised, as text
                reply = {"raised": [type(error).__name__, str(error)[:2000]]}
            self.send(reply)

    def prepare(self):
        from pathlib import Path

        import workbook
        import workbook.my_app  # noqa: F401 - imported now, so that its paths move with the rest
        request = self.request
        if request.get("scratch_root"):
            move_workbook_paths(workbook.ROOT, request["scratch_root"])
        if request["env"].get("WORKBOOK_MY_APP"):
            sys.modules["workbook.my_app"].MY_APP = Path(request["env"]["WORKBOOK_MY_APP"])
        if request["env"].get("PIP_TARGET"):
            os.makedirs(request["env"]["PIP_TARGET"], exist_ok=True)
            sys.path.append(request["env"]["PIP_TARGET"])
        sys.argv = ["ipykernel_launcher.py"]
        sys.path.insert(0, "")
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config
        config = Config()
        config.HistoryManager.enabled = False
        config.InteractiveShell.colors = "nocolor"
        self.shell = InteractiveShell.instance(config=config)

    # -- the channel

    def receive(self):
        while b"\n" not in self.buffer:
            try:
                chunk = self.channel.read(65536)
            except KeyboardInterrupt:
                continue
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def send(self, message):
        try:
            data = json.dumps(message).encode() + b"\n"
        except (TypeError, ValueError) as error:
            data = json.dumps({"raised": ["TypeError", str(error)]}).encode() + b"\n"
        while True:
            try:
                self.channel.write(data)
                return
            except KeyboardInterrupt:
                continue

    # -- values and handles

    def wrap(self, value):
        try:
            return {"value": self.encode(value)}
        except TypeError:
            number = len(self.handles) + 1
            self.handles[number] = value
            return {"handle": number, "type": type(value).__name__, "callable": callable(value)}

    def unpack(self, data):
        """The judge's argument: plain values, with handles standing for this process's own objects."""
        if type(data) is list:
            return [self.unpack(item) for item in data]
        if type(data) is dict and len(data) == 1:
            (tag, body), = data.items()
            if tag == "$handle":
                return self.handles[body]
            if tag == "$tuple" and type(body) is list:
                return tuple(self.unpack(item) for item in body)
            if tag == "$dict" and type(body) is list:
                return {key: self.unpack(item) for key, item in body}
        return self.decode(data)

    # -- the requests

    def answer(self, request):
        op = request["op"]
        if op == "cell":
            return self.run_cell(request["source"])
        if op == "get":
            name = request["name"]
            if name not in self.shell.user_ns:
                return {"missing": name}
            return self.wrap(self.shell.user_ns[name])
        if op == "missing":
            return {"value": [name for name in request["names"] if name not in self.shell.user_ns]}
        if op == "module":
            import importlib
            return self.wrap(importlib.import_module(request["name"]))
        if op == "threads":
            import threading
            return {"value": sorted(t.name for t in threading.enumerate() if t is not threading.main_thread())}
        if op == "borrowed":
            from workbook.checks import _borrowed
            objects = [self.shell.user_ns.get(name) for name in request["names"]]
            return {"value": _borrowed(objects, request["names"])}
        target = self.handles[request["handle"]]
        if op == "call":
            return self.wrap(target(*self.unpack(request["args"]), **dict(self.unpack(request["kwargs"]))))
        if op == "getattr":
            return self.wrap(getattr(target, request["name"]))
        if op == "setattr":
            setattr(target, request["name"], self.unpack(request["value"]))
            return {"value": None}
        if op == "getitem":
            return self.wrap(target[self.unpack(request["key"])])
        if op == "setitem":
            target[self.unpack(request["key"])] = self.unpack(request["value"])
            return {"value": None}
        if op == "delitem":
            del target[self.unpack(request["key"])]
            return {"value": None}
        if op == "len":
            return {"value": len(target)}
        if op == "iter":
            return self.wrap(iter(target))
        if op == "next":
            try:
                return self.wrap(next(target))
            except StopIteration:
                return {"stop": True}
        if op == "contains":
            return {"value": bool(self.unpack(request["key"]) in target)}
        if op == "enter":
            return self.wrap(target.__enter__())
        if op == "exit":
            if request.get("error"):
                error = RuntimeError("the check stopped inside this block")
                target.__exit__(RuntimeError, error, None)
            else:
                target.__exit__(None, None, None)
            return {"value": None}
        if op == "str":
            return {"value": str(str(target))}
        if op == "repr":
            return {"value": str(repr(target))}
        if op == "bool":
            return {"value": bool(target)}
        raise ValueError(f"no such request: {op}")

    def run_cell(self, source):
        result = self.shell.run_cell(source, store_history=True)
        error = result.error_before_exec or result.error_in_exec
        text = None if error is None else f"{type(error).__name__}: {error}"[:200]
        return {"error": text, "interrupted": self.interrupted or isinstance(error, KeyboardInterrupt)}


if __name__ == "__main__":
    zygote(json.loads(sys.argv[1]), int(sys.argv[2]))
