"""Running what the plan asks for: a notebook or a my_app/ on the engine's workers, with time limits.

``TaskRunner.run_notebook`` runs one notebook in a worker (engine.py starts it, worker.py is what
runs inside) on a fresh scratch copy of the student's folder, watches its events (which cell, which
check), interrupts it at ``--timeout``, kills it when it does not stop, and runs it again without a
cell that ended the process (at most MAX_RUNS runs). Its result is a NotebookRun: the worker's
payload, if one came, and what happened on the way, which collect.py turns into a grade.

The worker is the judge: the notebook's cells run in a student process of the run's sandbox
(remote.py), which never holds the worker's channel, so whatever comes on it is the judge's word.
The sandbox (the handout, the zygote) is made once per TaskRunner, on the first notebook.
"""
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .engine import exit_reason, start_worker
from .files import copy_helpers, copy_submission, first_line, remove_tree
from .remote import LEVEL_NOTES, Sandbox, give_to_student
from .worker import NotebookJob, copy_scratch_root

GRACE = 5                    # seconds a worker gets to stop after being interrupted
MAX_RUNS = 3                 # runs of one notebook, when cells keep ending the process
LOG_LIMIT = 20_000           # characters of a notebook's output kept for the instructor (the end of it)


@dataclass
class WorkerRun:
    """How one worker's run ended."""
    payload: dict | None = None
    flags: list = field(default_factory=list)  # integrity flags: messages that did not come from the worker
    crashed: str | None = None
    last: tuple | None = None        # ("cell", index) or ("grading", id): the last thing it started
    interrupted: bool = False        # we interrupted it at the deadline
    killed: bool = False             # we killed it (did not stop in time)
    exitcode: int | None = None


@dataclass
class NotebookRun:
    """A notebook's runs (up to MAX_RUNS), as collect.notebook_grade reads them."""
    payload: dict | None = None      # the result of the last run, if one came
    notes: list = field(default_factory=list)   # what happened on the way (the grade's first notes)
    flags: list = field(default_factory=list)   # integrity flags seen on the grader's channel
    stop_at: int | None = None       # the cell that timed out (in this or an earlier run): not run again
    skip_exercises: dict = field(default_factory=dict)   # exercise id -> how checking it ended the process
    log: str = ""                    # the end of the notebook's output
    cancelled: bool = False          # the class's grading was cancelled before it finished


def tail(path, limit=LOG_LIMIT):
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return text if len(text) <= limit else "…" + text[-limit:]


EVENTS = ("cell", "grading", "done", "crashed")


def _event(message):
    """(kind, value) of a worker's message; ("garbled", None) for anything else."""
    if isinstance(message, tuple) and len(message) == 2 and message[0] in EVENTS:
        return message
    return "garbled", None


class TaskRunner:
    """Runs tasks on the engine's workers; one per class (``cancel`` ends every worker still running)."""

    def __init__(self, engine, timeout, hidden_checks=None, app_timeout=None, partial_credit=True):
        # apps.py (which imports pytest) only once something is graded: `check --classroom ID` imports this
        # module to print a result saved before, once per exercise in a GitHub Classroom run
        from .apps import DEFAULT_APP_TIMEOUT
        self.engine = engine
        self.timeout = float(timeout)
        self.hidden_checks = hidden_checks
        self.app_timeout = float(DEFAULT_APP_TIMEOUT if app_timeout is None else app_timeout)
        self.partial_credit = partial_credit   # run the next stage's tests for an app's app_score (apps.py)
        self.cancelled = threading.Event()
        self._active = set()
        self._active_lock = threading.Lock()
        self._app_cache = {}      # apps.py: the next stage's outcomes, by the app's files
        self.sandbox = Sandbox(hidden_checks=hidden_checks)   # started on the first notebook

    def cancel(self):
        self.cancelled.set()
        with self._active_lock:
            for worker in list(self._active):
                worker.kill()

    def close(self):
        """End the sandbox's zygote and remove its folder (the handout, the students' scratch folders)."""
        self.sandbox.close()

    def sandbox_note(self):
        """What the report says of the sandbox: "" when the student's code ran isolated (or nothing ran)."""
        return LEVEL_NOTES[self.sandbox.level] if self.sandbox.folder is not None else ""

    # -- an app -------------------------------------------------------------

    def run_app(self, task, task_dir):
        """The AppGrade of ``task``'s my_app/ (apps.py: one test process, the highest stage passed)."""
        from .apps import grade_app
        return grade_app(task.folder / "my_app", task_dir, timeout=self.app_timeout, cancelled=self.cancelled,
                         engine=self.engine, cache=self._app_cache, partial=self.partial_credit,
                         sandbox=self.sandbox.start())   # the run's one sandbox: notebooks and apps alike

    # -- a notebook ---------------------------------------------------------

    def run_notebook(self, task, task_dir, skippable, stop_at=None):
        """Run ``task``'s notebook without the cells ``skippable``; again without a cell that ends the process.

        ``stop_at``: the index of a cell that timed out in an earlier run of this notebook (not run again)."""
        folder, lesson, path, cells, ids = task.folder, task.lesson, task.path, task.cells, task.exercise_ids
        outcome = NotebookRun(stop_at=stop_at)
        prefix = f"{lesson:02d}"
        grader_dir = task_dir / "grader"
        grader_dir.mkdir(parents=True)
        sandbox = self.sandbox.start()
        work = None
        skip_cells, skip_exercises = set(skippable), outcome.skip_exercises
        if stop_at is not None:
            outcome.notes.append(f"{prefix}: timed out after {self.timeout:g} s in code cell {stop_at + 1} "
                                 f"({first_line(cells[stop_at])!s}); later cells not run")
        for _attempt in range(MAX_RUNS):
            if self.cancelled.is_set():
                outcome.cancelled = True
                return outcome
            if work is not None:
                remove_tree(work)
            # The student's scratch folder: in the sandbox's folder, under a name no other student can guess
            work = sandbox.scratch()
            copy_submission(folder, work)
            copy_helpers(path.parent, work / "notebooks")   # the student's modules beside this notebook
            copy_scratch_root(sandbox.handout, work / "workbook")
            job = NotebookJob(
                cells=cells, cwd=str(work / "notebooks"), log=str(grader_dir / "output.log"),
                exercises=ids, sandbox=sandbox.describe(), skip_cells=sorted(skip_cells), stop_at=outcome.stop_at,
                skip_exercises=sorted(skip_exercises), hidden_checks=self.hidden_checks,
                check_timeout=self.timeout,
                scratch_root=str(work / "workbook"),
                env={"WORKBOOK_MY_APP": str(work / "my_app"), "IPYTHONDIR": str(work / ".ipython"),
                     # `!pip` and `!python` in a cell are the grader's own (the notebook's kernel's), not the system's
                     "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
                     "VIRTUAL_ENV": sys.prefix,
                     # ...but `pip install` and `%pip install` install into this run's scratch folder, never
                     # into the grader's environment (the student's process puts the folder on its path)
                     "PIP_TARGET": str(work / ".pip-installed"), "PYTHONUSERBASE": str(work / ".user"),
                     "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
            give_to_student(work, job.sandbox)
            try:
                run = self.run_worker(job, grader_dir)
            finally:
                remove_tree(work)
                work = None
            outcome.flags += [flag for flag in run.flags if flag not in outcome.flags]
            if run.payload is not None:
                outcome.payload = run.payload
                break
            if run.crashed is not None:
                outcome.notes.append(f"{prefix}: the grader could not run it ({run.crashed})")
                break
            how = (f"did not stop after {self.timeout:g} s" if run.killed
                   else f"ended the Python process ({exit_reason(run.exitcode)})")
            if run.last is None:
                outcome.notes.append(f"{prefix}: the notebook's process {how} before running any cell")
                break
            kind, where = run.last
            if kind == "cell":
                cell = f"code cell {where + 1} ({first_line(cells[where])!s})"
                if run.killed or run.interrupted:
                    outcome.stop_at = where
                    outcome.notes.append(f"{prefix}: timed out after {self.timeout:g} s in {cell}; "
                                         "later cells not run")
                else:
                    skip_cells.add(where)
                    outcome.notes.append(f"{prefix}: {cell} {how}; graded without that cell")
            else:
                skip_exercises[where] = how
                outcome.notes.append(f"{where}: checking it {how}")
        else:
            outcome.notes.append(f"{prefix}: gave up after {MAX_RUNS} runs")
        outcome.log = tail(grader_dir / "output.log")
        return outcome

    def run_worker(self, job, grader_dir):
        """Run one worker to the end: its result, or how and where it stopped."""
        run = WorkerRun()
        worker = start_worker(job, self.engine, grader_dir)
        with self._active_lock:
            self._active.add(worker)
        gone = False
        try:
            deadline = time.monotonic() + self.timeout
            grading = False
            while not self.cancelled.is_set():
                event = None
                try:
                    if worker.conn.poll(max(0.0, min(deadline - time.monotonic(), 0.25))):
                        event = worker.conn.recv()
                except (EOFError, OSError):
                    gone = True  # every copy of the pipe's write end is closed: it is gone
                except Exception as error:  # noqa: BLE001 - a garbled message
                    run.crashed = f"bad message from the worker: {type(error).__name__}"
                    return run
                if event is not None:
                    kind, value = _event(event)
                    if kind == "done":
                        if _accept(run, value):
                            return run
                        continue
                    if kind == "crashed":
                        run.crashed = value
                        return run
                    if kind == "garbled":
                        run.crashed = "a garbled message from the grader's worker"
                        return run
                    run.last = (kind, value)
                    if kind == "grading":
                        grading = True
                        deadline = time.monotonic() + self.timeout + GRACE
                elif gone or not worker.running():
                    # End of file on its pipe (or no such process): it is gone. Not worker.alive():
                    # that asks the fork server, which a student's code may have killed.
                    return _drain(worker, run)
                if time.monotonic() >= deadline:
                    if not grading and not run.interrupted:
                        worker.interrupt()  # KeyboardInterrupt in the running cell; it then grades
                        run.interrupted = True
                        deadline = time.monotonic() + GRACE
                    else:
                        run.killed = True
                        return run
            run.killed = True
            return run
        finally:
            code = worker.kill()
            if run.payload is None and not run.killed and run.crashed is None:
                run.exitcode = code
            with self._active_lock:
                self._active.discard(worker)


def _accept(run, value):
    """Keep the worker's result (the judge's own: no student code holds its channel)."""
    if not isinstance(value, dict) or not isinstance(value.get("results"), dict):
        run.crashed = "the grader's worker sent a result it could not read"
        return True
    run.payload = value
    return True


def _drain(worker, run):
    """The worker died: read what it said before it went."""
    try:
        while worker.conn.poll(0):
            kind, value = _event(worker.conn.recv())
            if kind == "done":
                _accept(run, value)
            elif kind == "crashed":
                run.crashed = value
            elif kind in ("cell", "grading"):
                run.last = (kind, value)
    except (EOFError, OSError):
        pass
    return run
