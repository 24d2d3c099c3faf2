"""Starting a worker process for one notebook, and ending it with everything it started.

Engine "fork" (the default where the system has it): each worker is forked from
multiprocessing's fork server, which has imported the libraries the lessons use
once (workbook/grading/preload.py) and never runs student code, so a worker
starts as clean as a fresh interpreter without paying for those imports.
Engine "spawn": a fresh ``python -m workbook.grading.worker`` per notebook.
Either way each worker is its own process group.
"""
import dataclasses
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import worker as worker_module
from .remote import exit_reason  # noqa: F401 - how a process ended, in words (run.py reads it here)

WORKER_NAME = "workbook-grading-worker"

_start_lock = threading.Lock()
_context = None


class WorkerProcess:
    """One running worker process and the read end of its event pipe."""

    def __init__(self, pid, conn, process=None, popen=None, fork_server_pid=None):
        self.pid, self.conn, self.process, self.popen = pid, conn, process, popen
        self.fork_server_pid = fork_server_pid

    def running(self):
        """Whether the process still exists. Asked of the system, not of the fork server (which a
        student's code may have killed: its children carry on, and the next start makes a new one)."""
        if self.popen is not None:
            return self.popen.poll() is None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True

    def interrupt(self):
        try:
            os.kill(self.pid, signal.SIGINT)
        except (ProcessLookupError, PermissionError):
            pass

    def kill(self):
        """End the worker and everything it started (its own process group); return its exit code."""
        for kill in (lambda: os.killpg(self.pid, signal.SIGKILL), lambda: os.kill(self.pid, signal.SIGKILL)):
            try:
                kill()
            except OSError:
                pass
        code = None
        if self.process is not None:
            try:
                self.process.join(5)
                code = self.process.exitcode
                if code is not None:
                    self.process.close()
            except ValueError:  # already closed
                pass
            # The fork server tells a worker's exit code. When student code killed it first (another
            # student's, in a class graded two at a time), multiprocessing says 255 for "no word".
            if code == 255 and _fork_server_gone(self.fork_server_pid):  # the real code is lost with it
                code = None
        else:
            try:
                code = self.popen.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.conn.close()
        return code


def default_engine():
    return "fork" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _fork_context():
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(["workbook.grading.preload"])
        _skip_main_module_for_workers()
    return _context


def _skip_main_module_for_workers():
    """Our workers need nothing from the grader's __main__: do not make them re-import it.

    multiprocessing re-runs the parent's main script in each child (as __mp_main__),
    which costs time and fails outright when that "script" is stdin or a notebook.
    The worker's target, workbook.grading.worker.serve, is importable by name.
    """
    from multiprocessing import spawn
    original = spawn.get_preparation_data
    if getattr(original, "_workbook_grading", False):
        return

    def get_preparation_data(name):
        data = original(name)
        if name == WORKER_NAME:
            data.pop("init_main_from_path", None)
            data.pop("init_main_from_name", None)
        return data

    get_preparation_data._workbook_grading = True
    spawn.get_preparation_data = get_preparation_data


def _fork_server_pid():
    """The pid of multiprocessing's fork server (not public: None if a Python keeps it elsewhere)."""
    from multiprocessing import forkserver
    return getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)


def _fork_server_gone(pid, wait=2.0):
    """Whether the fork server ``pid`` (our child) has ended, waiting up to ``wait`` s for one being killed:
    a killed process closes its files (the worker's exit code is then lost) a moment before it ends."""
    if pid is None:
        return False  # unknown: take the exit code as multiprocessing gives it
    deadline = time.monotonic() + wait
    while True:
        try:
            # WNOWAIT: an ended one stays for multiprocessing to reap.
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:
            return True  # reaped already: multiprocessing found it dead and started another
        except (OSError, AttributeError):  # no waitid on this system
            return False
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def start_worker(job, engine, grader_dir, target=None):
    """Start a worker on ``job`` (a worker.NotebookJob); return its WorkerProcess.

    ``target``: another entry point of workbook.grading.worker (fork engine only), e.g. serve_tests.
    """
    if engine == "fork":
        context = _fork_context()
        # Duplex: the grader answers the worker's "ready" with this run's secret (worker.py).
        reader, writer = context.Pipe(duplex=True)
        with _start_lock:
            process = context.Process(target=target or worker_module.serve, args=(job, writer), name=WORKER_NAME)
            process.start()
            fork_server_pid = _fork_server_pid()
        writer.close()
        return WorkerProcess(process.pid, reader, process=process, fork_server_pid=fork_server_pid)
    reader, writer = multiprocessing.Pipe(duplex=True)
    job_file = Path(grader_dir) / "job.json"
    job_file.write_text(json.dumps(dataclasses.asdict(job)), encoding="utf-8")
    # -P: the worker's folder does not go on sys.path (the student's files must not shadow workbook).
    flags = ["-P"] if sys.version_info >= (3, 11) else []
    with open(job.log, "ab") as log:
        popen = subprocess.Popen([sys.executable, *flags, "-m", "workbook.grading.worker", str(job_file),
                                  str(writer.fileno())],
                                 cwd=grader_dir, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                 pass_fds=[writer.fileno()], start_new_session=True)
    writer.close()
    return WorkerProcess(popen.pid, reader, popen=popen)
