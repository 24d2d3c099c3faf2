"""The grading worker: the JUDGE of one notebook, and the place a my_app/'s tests run.

``serve(job, conn)`` runs in its own process (workbook/grading/engine.py starts it). It never runs
the student's code itself: it starts the notebook's STUDENT PROCESS in the grading run's sandbox
(remote.py: another user and namespaces where the machine allows, the handout's ``workbook``),
sends it the code cells one by one (IPython's ``InteractiveShell.run_cell`` runs them there, the
machinery a Jupyter kernel runs cells with, carrying on after a cell that raises), then grades the
lesson's exercises HERE with the package's own checks, visible and hidden, on stand-ins for the
student's names (``process.get(name)``: plain values, or proxies answered by the student's process),
with ``student_side.use(process.module)`` so that what a check builds for the student's code is
built in the student's process. Nothing the judge holds (the checks, the hidden checks, the
verdicts) is in the student's process, so no cell can reach it.

It tells the grader what it is doing over ``conn`` (a multiprocessing Connection), so that the
grader knows where a notebook hung or died:

    ("cell", index)        about to run code cell ``index``
    ("grading", id)        about to run exercise ``id``'s checks
    ("done", payload)      the results (see ``_run``)
    ("crashed", text)      the worker itself broke (not the student's code)

A cell that ends the student's process ends this worker the same way (its exit code, or its
signal), so that the grader runs the notebook again without that cell, as it always has. A check
during which the student's process ends, hangs or runs out of time fails that exercise with a
note, and the next exercise gets a fresh student process (the cells run again).

The job is a ``NotebookJob``.
"""
import dataclasses
import os
import signal
import sys
from dataclasses import dataclass, field

MESSAGE_LIMIT = 800


@dataclass
class NotebookJob:
    """What one worker does: plain data, so that it pickles (fork) and goes to JSON (spawn)."""
    cells: list                  # code cells' sources, in order
    cwd: str                     # the scratch copy of the student's notebooks/ (the student's to write)
    log: str                     # where the cells' output goes
    exercises: list              # ids to grade after the cells ran
    sandbox: dict = field(default_factory=dict)          # remote.Sandbox.describe(): where to start the student
    skip_cells: list = field(default_factory=list)       # cell indexes not to run (they ended the process)
    stop_at: int | None = None   # index of the first cell not to run (it timed out last time)
    skip_exercises: list = field(default_factory=list)   # ids whose check ended the process last time
    hidden_checks: str | None = None                     # the instructor's hidden checks file
    check_timeout: float = 60.0  # seconds per exercise's checks
    env: dict = field(default_factory=dict)              # the student's process's environment (added)
    scratch_root: str | None = None   # where workbook.ROOT points for the notebook (a scratch copy of the handout's)


# What of the workbook's folder a notebook may read or write: copied into its scratch root, from the handout.
ROOT_COPIED = ("app_steps", "notebooks", "docs", "tests/stages", "tests/conftest.py", "tests/chromium.py",
               "tests/totp_reference.py", "requirements.txt")


def copy_scratch_root(handout, scratch_root):
    """The handout's folders a notebook may write through the workbook's paths, copied to ``scratch_root``."""
    import shutil
    from pathlib import Path

    from .files import COPY_IGNORE
    real, scratch = Path(handout), Path(scratch_root)
    for name in ROOT_COPIED:
        source = real / name
        if source.is_dir():
            shutil.copytree(source, scratch / name, symlinks=True, ignore=COPY_IGNORE, dirs_exist_ok=True)
        elif source.is_file():
            (scratch / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, scratch / name)
    (scratch / "my_app").mkdir(exist_ok=True)


def cpu_seconds():
    """CPU time this process (since its fork) and the children it waited for have used."""
    import resource
    return sum(getattr(resource.getrusage(who), field) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for field in ("ru_utime", "ru_stime"))


class CheckTimeout(BaseException):
    """A check ran longer than its time (BaseException: run_check must not swallow it)."""


def _short(text, limit=MESSAGE_LIMIT):
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _redirect_standard_streams(log_path):
    """stdin from /dev/null; stdout and stderr (the file descriptors too) into the log."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    for sys_stream in (sys.stdout, sys.stderr):
        try:
            sys_stream.flush()
        except Exception:
            pass
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    sys.stdin = open(os.devnull, encoding="utf-8")
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", buffering=1, closefd=False)


def _report_and_exit(conn, work):
    """Run ``work()`` in a process group of this process's own, send what it returns over ``conn``
    ("done"), or what it raised ("crashed"), and end the process. Never returns.

    ``work`` returns (the "done" message's data, the process's exit status).
    """
    try:
        os.setsid()  # its own process group: the grader can end it and everything it starts
    except OSError:
        pass
    status = 0
    try:
        message, status = work()
        conn.send(("done", message))
    except BaseException as error:  # noqa: BLE001 - report anything, the process ends right after
        try:
            conn.send(("crashed", _short(f"{type(error).__name__}: {error}")))
        except Exception:
            pass
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            conn.close()
        except Exception:
            pass
        # Not sys.exit: the student's threads, atexit handlers or servers must not keep us alive.
        os._exit(status)


def serve(job, conn):
    """Entry point of the worker process. Never returns: ends the process with os._exit."""
    def work():
        _redirect_standard_streams(job.log)
        return _run(job, conn), 0

    _report_and_exit(conn, work)


def _load_checks(hidden_checks):
    """Import every lesson's checks (and the instructor's hidden ones); return the registry as loaded."""
    import runpy

    from .. import checks

    checks.load_all()
    if hidden_checks:
        runpy.run_path(hidden_checks, run_name="workbook_hidden_checks")
    registry = {key: dataclasses.replace(entry, hidden=list(entry.hidden))
                for key, entry in checks.EXERCISES.items()}
    return checks, registry


def _restore_checks(checks, registry):
    """The registry as loaded (an exercise's visible check stands in for itself once it passed, below)."""
    checks.EXERCISES.clear()
    checks.EXERCISES.update({key: dataclasses.replace(entry, hidden=list(entry.hidden))
                             for key, entry in registry.items()})


def _already_checked(*objects):
    """Stands in for an exercise's visible check once it has passed, so that only the hidden ones run."""


def _end_like(ended):
    """End this worker as the student's process ended (its exit code or its signal): the grader reads it."""
    status = ended["status"] if ended else 1
    if status < 0:
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    os._exit(status if 0 < status < 256 else 1)


class Notebook:
    """The judge's side of one notebook: its student process, and the cells it has run."""

    def __init__(self, job):
        self.job = job
        self.process = None
        self.interrupted = False

    def start(self, conn=None):
        """A student process with the notebook's cells run: (cell errors, the index it stopped at or None).

        ``conn``: tell the grader each cell (the first run); a cell that ends the process ends this worker.
        """
        from . import remote
        job = self.job
        self.process = remote.StudentProcess(job.sandbox, job.cwd, env=job.env, log=job.log,
                                             scratch_root=job.scratch_root, timeout=job.check_timeout or 60)
        skip_cells, cell_errors, stopped_at = set(job.skip_cells), [], None
        for index, source in enumerate(job.cells):
            if job.stop_at is not None and index >= job.stop_at:
                stopped_at = index
                break
            if conn is not None:
                conn.send(("cell", index))
            if index in skip_cells:
                continue
            if self.interrupted:
                stopped_at = index
                break
            try:
                reply = self.process.run_cell(source)
            except remote.StudentCodeError:
                if conn is not None:
                    _end_like(self.process.ended)   # the grader runs it again without this cell
                stopped_at = index
                break
            if reply["error"] is not None:
                cell_errors.append([index, _short(reply["error"], 200)])
            if reply["interrupted"] or self.interrupted:
                self.interrupted = True
                stopped_at = index
                break
        return cell_errors, stopped_at

    def interrupt(self):
        self.interrupted = True
        if self.process is not None:
            self.process.interrupt()

    def close(self):
        if self.process is not None:
            self.process.close()
            ended = self.process.ended or {}
            self.process = None
            return float(ended.get("cpu", 0.0))
        return 0.0


GRADING_ERROR_NOTE = ("a grading error of the workbook, not the student's: its check does what grading refuses "
                      "(hands the student's code an object of the grader's, or reads a private attribute of the "
                      "student's); regrade once the checks are fixed")


def _run(job, conn):
    from ..checks.student_side import student_side
    from . import remote

    checks, registry = _load_checks(job.hidden_checks)
    run_check = checks.run_check
    notebook = Notebook(job)

    def on_interrupt(signum, frame):
        notebook.interrupt()   # KeyboardInterrupt in the student's running cell

    signal.signal(signal.SIGINT, on_interrupt)
    cell_errors, stopped_at = notebook.start(conn)
    interrupted = notebook.interrupted
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    flags, notes = [], []
    try:
        threads = notebook.process.threads()
    except Exception:  # noqa: BLE001 - it ended or stopped answering: the checks will say so
        threads = []
    if threads:
        flags.append(f"student code left {len(threads)} thread(s) running during grading ({', '.join(threads[:3])})")
    results = {}
    skip_exercises = set(job.skip_exercises)
    check_timeout = job.check_timeout or 60
    cpu = 0.0

    def on_alarm(signum, frame):
        raise CheckTimeout

    for exercise_id in job.exercises:
        conn.send(("grading", exercise_id))
        if exercise_id in skip_exercises:
            continue  # the grader already knows why (it ended the process last time)
        entry = registry[exercise_id]
        if not notebook.process.alive():   # an earlier check ended it, or it hung: a fresh one, cells run again
            cpu += notebook.close()
            notebook.start()
        signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, check_timeout)
        process = notebook.process
        try:
            missing = process.missing(entry.uses)
            if missing:
                results[exercise_id] = {"status": "failed", "missing": missing,
                                        "message": ", ".join(f"`{name}`" for name in missing) + " is not defined"}
                continue
            borrowed = process.borrowed(entry.uses)
            if borrowed and checks.BORROWED in borrowed:
                results[exercise_id] = {"status": "failed", "message": f"{borrowed}, not your answer: write the "
                                                                       "function yourself."}
                flags.append(f"answer to {exercise_id}: {borrowed}")
                continue
            objects = [process.get(name) for name in entry.uses]
            _restore_checks(checks, registry)
            student_side.use(process.module)
            # First what the student's own check cell shows, then the hidden checks on the same objects
            # (run_check's own order): the report needs both, Gradescope shows them at different times.
            result = run_check(exercise_id, *objects)
            outcome = {"status": result.status, "message": _short(result.message),
                       "visible_status": result.status, "visible_message": _short(result.message)}
            if result.status == checks.PASSED and entry.hidden:
                checks.EXERCISES[exercise_id] = dataclasses.replace(entry, check=_already_checked)
                result = run_check(exercise_id, *objects, include_hidden=True)
                outcome.update(status=result.status, message=_short(result.message))
        except CheckTimeout:
            process.broken = "the check ran out of time"
            process.kill()
            outcome = {"status": "failed", "timed_out": True,
                       "message": f"the check ran longer than {check_timeout:g} s: does your code loop forever?"}
        except TimeoutError:
            outcome = {"status": "failed", "timed_out": True,
                       "message": f"your code did not answer within {check_timeout:g} s: does it loop forever?"}
        except remote.StudentCodeError as error:
            outcome = {"status": "failed", "message": _short(f"your code raised {error}")}
        except Exception as error:  # noqa: BLE001 - the judge's own error, said as it is
            outcome = {"status": "failed", "message": _short(f"the grader could not check it: {type(error).__name__}: "
                                                             f"{error}")}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            student_side.reset()
        if remote.CheckArgumentError.MARK in outcome["message"]:
            outcome["grading_error"] = True
            notes.append(f"{exercise_id}: {GRADING_ERROR_NOTE} ({_short(outcome['message'], 300)})")
        if not process.alive() and process.ended is not None and not outcome.get("timed_out"):
            notes.append(f"{exercise_id}: checking it ended the student's process "
                         f"({remote.exit_reason(process.ended['status'])})")
        results[exercise_id] = outcome
    cpu += notebook.close()
    return {"results": results, "cell_errors": cell_errors, "stopped_at": stopped_at,
            "interrupted": interrupted, "cells": len(job.cells), "cpu": cpu_seconds() + cpu,
            "flags": flags, "notes": notes, "sandbox": job.sandbox.get("level")}


@dataclass
class TestRunJob:
    """A pytest run in a forked worker: the behaviour tests on a student's my_app/."""
    args: list                   # pytest's command-line arguments
    cwd: str                     # where it runs (the app's scratch folder)
    log: str                     # where its output goes


def serve_tests(job, conn):
    """Entry point of a test-run worker: pytest.main, already imported by the fork server. Never returns."""
    def work():
        _redirect_standard_streams(job.log)
        os.chdir(job.cwd)
        import pytest

        from ..my_app import STAGE_TEST_ENV
        os.environ.update(STAGE_TEST_ENV)
        sys.argv = ["pytest", *job.args]
        code = int(pytest.main(list(job.args)))
        return {"code": code, "cpu": cpu_seconds()}, code

    _report_and_exit(conn, work)


def main(argv=None):
    """``python -m workbook.grading.worker JOB.json FD``: the fresh-interpreter way to start a worker."""
    import json
    from multiprocessing.connection import Connection

    argv = sys.argv[1:] if argv is None else argv
    with open(argv[0], encoding="utf-8") as handle:
        job = NotebookJob(**json.load(handle))
    # The module by its name, not this __main__ copy: the stand-in for a passed check must be
    # workbook.grading.worker's own (run_check re-validates where each check comes from).
    from workbook.grading import worker as named
    named.serve(named.NotebookJob(**dataclasses.asdict(job)), Connection(int(argv[1])))


if __name__ == "__main__":
    main()
