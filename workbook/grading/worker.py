"""The grading worker: one notebook, one fresh process, one IPython shell.

``serve(job, conn)`` runs in its own process (workbook/grading/engine.py starts
it). It runs the notebook's code cells one by one in an IPython
``InteractiveShell``, the same machinery a Jupyter kernel runs cells with,
carrying on after a cell that raises, then grades the lesson's exercises in
that same namespace with the package's own checks:
``run_check(id, *[namespace[name] for name in uses], include_hidden=True)``.

It tells the grader what it is doing over ``conn`` (a multiprocessing
Connection), so that the grader knows where a notebook hung or died:

    ("cell", index)        about to run code cell ``index``
    ("ready", count)       every cell has run; the grader answers ("key", secret)
    ("grading", id)        about to run exercise ``id``'s checks
    ("done", {"payload": ..., "mac": ...})   the results (see ``_run``), signed with the secret
    ("crashed", text)      the worker itself broke (not the student's code)

Results cannot be written by a cell: the grader makes a fresh secret for each run and
sends it only once the cells have run, and accepts only a result signed with it
(a "done" before then is ignored and flagged). A cell that finds ``conn`` and sends
"all passed" gets a flag, not marks.

The checks are protected from the student's code (a cell that rebinds ``check``,
clears the registry, or patches a check module or the grader): the worker snapshots
the checks' and the grader's modules before any student code runs, restores them
before each check and reports what was changed (a flag in the report). See the
threat model in workbook/grading/__init__.py for what this does not stop.

The job is a ``NotebookJob``.
"""
import dataclasses
import os
import signal
import sys
import types
from dataclasses import dataclass, field

MESSAGE_LIMIT = 800


@dataclass
class NotebookJob:
    """What one worker does: plain data, so that it pickles (fork) and goes to JSON (spawn)."""
    cells: list                  # code cells' sources, in order
    cwd: str                     # the scratch copy of the student's notebooks/
    log: str                     # where the cells' output goes
    exercises: list              # ids to grade after the cells ran
    skip_cells: list = field(default_factory=list)       # cell indexes not to run (they ended the process)
    stop_at: int | None = None   # index of the first cell not to run (it timed out last time)
    skip_exercises: list = field(default_factory=list)   # ids whose check ended the process last time
    hidden_checks: str | None = None                     # the instructor's hidden checks file
    check_timeout: float = 60.0  # seconds per exercise's checks
    env: dict = field(default_factory=dict)              # set in os.environ before any cell
    scratch_root: str | None = None   # where workbook.ROOT points for the notebook (a scratch copy)


def sign(key, payload):
    """The MAC of a result payload under this run's secret (the grader computes the same)."""
    import hashlib
    import hmac
    import json
    return hmac.new(key, json.dumps(payload, sort_keys=True, default=str).encode(), hashlib.sha256).hexdigest()


# Modules whose contents student code has no business changing: the checks and the grader itself.
GUARDED_PREFIXES = ("workbook.checks", "workbook.grading")


def _guarded_modules():
    return {name: module for name, module in list(sys.modules.items())
            if module is not None and name.startswith(GUARDED_PREFIXES)}


def _snapshot_modules():
    return {name: (module, dict(vars(module))) for name, module in _guarded_modules().items()}


def _changed_modules(snapshot):
    """Names ``module.attribute`` that student code rebound, added or deleted; restores them."""
    changed = []
    for name, (module, saved) in snapshot.items():
        current = vars(module)
        for key in set(saved) | set(current):
            if key.startswith("__") and key.endswith("__"):
                continue  # __builtins__, __loader__...: set by the import system
            if key not in saved and isinstance(current[key], types.ModuleType):
                continue  # a submodule imported since: the import system adds it to its package
            if key not in current or key not in saved or current[key] is not saved[key]:
                changed.append(f"{name}.{key}")
        current.update(saved)
    return sorted(changed)


def _other_threads():
    import threading
    return sorted(t.name for t in threading.enumerate() if t is not threading.main_thread())


# What of the workbook's folder a notebook may read or write: copied into its scratch root.
ROOT_COPIED = ("app_steps", "notebooks", "docs", "tests/stages", "tests/conftest.py", "tests/chromium.py",
               "tests/totp_reference.py", "requirements.txt")


def _use_scratch_root(scratch_root):
    """Point workbook.ROOT, and every path the workbook's modules made from it, at a scratch copy.

    The lessons' code writes where the workbook tells it (an app's instance/ folder in app_steps/,
    my_app/): with this, a notebook changes nothing in the grader's own checkout through the
    workbook's paths. The checks and the grader keep the real paths.
    """
    import shutil
    from pathlib import Path

    import workbook

    from .files import COPY_IGNORE
    real, scratch = Path(workbook.ROOT), Path(scratch_root)
    for name in ROOT_COPIED:
        source = real / name
        if source.is_dir():
            shutil.copytree(source, scratch / name, symlinks=True, ignore=COPY_IGNORE, dirs_exist_ok=True)
        elif source.is_file():
            (scratch / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, scratch / name)
    (scratch / "my_app").mkdir(exist_ok=True)

    def moved(value):
        if isinstance(value, Path) and (value == real or value.is_relative_to(real)):
            relative = value.relative_to(real)
            if not relative.parts or (scratch / relative.parts[0]).exists():
                return scratch / relative
        return value

    for name, module in list(sys.modules.items()):
        if module is None or not (name == "workbook" or name.startswith("workbook.")) or \
                name.startswith(GUARDED_PREFIXES):
            continue
        for key, value in list(vars(module).items()):
            if isinstance(value, Path):
                setattr(module, key, moved(value))
            elif isinstance(value, types.FunctionType) and value.__module__ == name:
                if value.__defaults__:
                    value.__defaults__ = tuple(moved(v) for v in value.__defaults__)
                if value.__kwdefaults__:
                    value.__kwdefaults__ = {k: moved(v) for k, v in value.__kwdefaults__.items()}


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
        payload, key = _run(job, conn)
        return {"payload": payload, "mac": sign(key, payload)}, 0

    _report_and_exit(conn, work)


def _load_checks(hidden_checks):
    """Import every lesson's checks (and the instructor's hidden ones); return a snapshot to restore from."""
    import runpy

    from .. import checks

    checks.load_all()
    if hidden_checks:
        runpy.run_path(hidden_checks, run_name="workbook_hidden_checks")
    registry = {key: dataclasses.replace(entry, hidden=list(entry.hidden))
                for key, entry in checks.EXERCISES.items()}
    module_globals = dict(vars(checks))
    return checks, registry, module_globals


def _restore_checks(checks, registry, module_globals):
    vars(checks).update(module_globals)
    checks.EXERCISES.clear()
    checks.EXERCISES.update({key: dataclasses.replace(entry, hidden=list(entry.hidden))
                             for key, entry in registry.items()})


def _already_checked(*objects):
    """Stands in for an exercise's visible check once it has passed, so that only the hidden ones run."""


def _make_shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False  # no shared history.sqlite between parallel workers
    config.InteractiveShell.colors = "nocolor"
    return InteractiveShell.instance(config=config)


def _run(job, conn):
    os.environ.update(job.env)
    if job.env.get("PIP_TARGET"):  # `pip install` in a cell installs there (run.py): importable, after ours
        os.makedirs(job.env["PIP_TARGET"], exist_ok=True)
        sys.path.append(job.env["PIP_TARGET"])
    os.chdir(job.cwd)
    import workbook.my_app  # noqa: F401 - imported now, so that its paths move with the rest
    if job.scratch_root:
        _use_scratch_root(job.scratch_root)
    if job.env.get("WORKBOOK_MY_APP"):
        from pathlib import Path
        sys.modules["workbook.my_app"].MY_APP = Path(job.env["WORKBOOK_MY_APP"])

    checks, registry, module_globals = _load_checks(job.hidden_checks)
    run_check = checks.run_check
    snapshot = _snapshot_modules()
    # The student's notebook sees a plain kernel's command line, not the grader's arguments.
    sys.argv = ["ipykernel_launcher.py"]

    # As in a kernel: the notebook's folder is importable.
    sys.path.insert(0, "")
    shell = _make_shell()

    interrupted = {"flag": False}

    def on_interrupt(signum, frame):
        interrupted["flag"] = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_interrupt)
    skip_cells = set(job.skip_cells)
    stop_at = job.stop_at
    cell_errors, stopped_at = [], None
    try:
        for index, source in enumerate(job.cells):
            if stop_at is not None and index >= stop_at:
                stopped_at = index
                break
            conn.send(("cell", index))
            if index in skip_cells:
                continue
            result = shell.run_cell(source, store_history=True)
            if interrupted["flag"]:
                stopped_at = index
                break
            error = result.error_before_exec or result.error_in_exec
            if error is not None:
                cell_errors.append([index, _short(f"{type(error).__name__}: {error}", 200)])
    except KeyboardInterrupt:  # the grader's interrupt landed between cells
        stopped_at = stopped_at if stopped_at is not None else -1
        interrupted["flag"] = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    flags = []
    threads = _other_threads()
    if threads:
        flags.append(f"student code left {len(threads)} thread(s) running during grading ({', '.join(threads[:3])})")
    patched = _changed_modules(snapshot)
    registry_changed = any(
        key not in checks.EXERCISES or checks.EXERCISES[key].check is not entry.check
        or [h for h in checks.EXERCISES[key].hidden] != entry.hidden
        for key, entry in registry.items()) or set(checks.EXERCISES) != set(registry)
    if registry_changed:
        patched.insert(0, "workbook.checks.EXERCISES")
    if patched:
        flags.append("checks or grader patched by the notebook (restored before grading): " + ", ".join(patched[:6]))
    # Only now, with every cell run, does the worker ask for this run's secret (see the module docstring).
    conn.send(("ready", len(job.cells)))
    key = conn.recv()[1] if conn.poll(30) else b""

    namespace = shell.user_ns
    results = {}
    skip_exercises = set(job.skip_exercises)
    check_timeout = job.check_timeout or 60

    def on_alarm(signum, frame):
        raise CheckTimeout

    for exercise_id in job.exercises:
        conn.send(("grading", exercise_id))
        if exercise_id in skip_exercises:
            continue  # the grader already knows why (it ended the process last time)
        entry = registry[exercise_id]
        missing = [name for name in entry.uses if name not in namespace]
        if missing:
            results[exercise_id] = {"status": "failed", "missing": missing,
                                    "message": ", ".join(f"`{name}`" for name in missing) + " is not defined"}
            continue
        objects = [namespace[name] for name in entry.uses]
        _changed_modules(snapshot)  # restore anything a check of an earlier exercise let student code change
        _restore_checks(checks, registry, module_globals)
        signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, check_timeout)
        try:
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
            outcome = {"status": "failed", "timed_out": True,
                       "message": f"the check ran longer than {check_timeout:g} s: does your code loop forever?"}
        except SystemExit as error:
            outcome = {"status": "failed", "message": f"your code called exit() ({error.code!r}) while being checked."}
        except BaseException as error:  # noqa: BLE001 - whatever the student's code raised
            outcome = {"status": "failed", "message": _short(f"your code raised {type(error).__name__}: {error}")}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if checks.BORROWED in outcome["message"]:  # run_check refused the workbook's own function as the answer
            flags.append(f"answer to {exercise_id}: {outcome['message'].split(', not your answer')[0]}")
        results[exercise_id] = outcome
    try:
        sys.stdout.flush()
    except Exception:
        pass
    return {"results": results, "cell_errors": cell_errors, "stopped_at": stopped_at,
            "interrupted": interrupted["flag"], "cells": len(job.cells), "cpu": cpu_seconds(),
            "flags": flags}, key


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
