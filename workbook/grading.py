"""Grade a class: ``python -m workbook grade SUBMISSIONS --out report.csv``.

Each ``SUBMISSIONS/<student>/`` holds that student's ``notebooks/*.ipynb`` and,
optionally, ``my_app/``. For every lesson that has exercises, the student's
notebook runs in a fresh process, in a scratch copy of their notebooks/ folder
(the submission is only ever read), and then every exercise of the lesson is
graded in that same namespace by the package's own checks, hidden checks
included (workbook/grading_worker.py). ``my_app/`` gets the highest stage
whose behaviour tests it passes (searched from 7 down; each stage in its own
pytest process, on its own scratch copy). Results go to report.csv,
report.html and feedback/<student>.md (workbook/grading_report.py).

How a notebook runs
-------------------
Kernel start-up is the cost, so it was measured on this 2-core machine
(bench/bench_grading.py prints it again): one student's 8 solution notebooks,
run one at a time, seconds per notebook (average over the 8; lesson 01 alone):

    jupyter nbconvert --to notebook --execute       3.8-4.9 (a CLI and a kernel each)
    nbclient, a fresh ipykernel per notebook         3.1   2.0-2.4
    fresh python running IPython's InteractiveShell  2.3   1.1-1.3   (engine "spawn")
    the same worker, forked from a fork server       1.0   0.2       (engine "fork", chosen)

(Lessons 06 and 07 spend 2.5-3 s in password hashing whatever runs them.)
A class of 30 (240 notebooks) took 123-133 s with ``--jobs 2`` on an idle
machine (176 s while other jobs shared it), against 900-1170 s for nbconvert,
one notebook after the other (extrapolated from one run of each lesson).

Chosen: no kernel at all. The worker runs cells with IPython's
``InteractiveShell.run_cell``, which is what ipykernel runs cells with (magics,
``!`` commands and display work the same), without ZeroMQ, a Jupyter client or
a kernel spec. A fresh ``python`` per notebook already halves the time; what is
left is imports (IPython, Flask, the QR libraries...), so each worker is forked from multiprocessing's fork server,
which imports those once (workbook/grading_preload.py) and never runs student
code. Every notebook still gets its own process, which no other notebook's
code has touched, in its own process group: the isolation of a fresh
interpreter. Where fork servers are unavailable the grader starts
``python -m workbook.grading_worker`` instead (engine "spawn").

What can go wrong in a notebook, and what the grade says
--------------------------------------------------------
* A cell raises: the next cells run anyway (as "Run all" with errors allowed).
* The notebook runs past ``--timeout``: the running cell is interrupted
  (KeyboardInterrupt, as Jupyter's interrupt button), later cells are not run,
  and the exercises are graded on what was defined by then. A cell that
  ignores the interrupt gets the process killed and the notebook re-run up to
  that cell.
* A cell ends the process (``os._exit``, a signal, a crash): the notebook is
  re-run without that cell (at most 3 runs), with a note.
* Each check also gets ``--timeout`` seconds; a check that hangs or kills the
  process scores 0 for that exercise, with a note.
* Invalid JSON, no notebook for a lesson, no notebooks/ folder: 0, with a note.
* Whatever the notebook writes lands in its scratch copy; whatever it starts
  (threads, servers, subprocesses) ends with its process group.

This guards against accidents and plain bad code, not against deliberate
attacks: student code runs as the grader's user (``os.kill(-1, 9)`` would end
everything). Grade untrusted submissions in a container or as a separate user.
"""
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from . import ROOT
from . import grading_worker
from .stages import STAGES

DEFAULT_TIMEOUT = 120        # seconds per notebook (and per check)
DEFAULT_APP_TIMEOUT = 300    # seconds per stage test run on a my_app/ (as workbook.my_app)
GRACE = 5                    # seconds a worker gets to stop after being interrupted
MAX_RUNS = 3                 # runs of one notebook, when cells keep ending the process
# The stage search only needs pass or fail: stop at the first failure, and skip the
# plugins the behaviour tests do not use (nbval alone costs ~2 s of start-up).
STAGE_TEST_ARGS = ("-x", "-p", "no:nbval", "-p", "no:xdist")
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "venv", "node_modules", "__pycache__", "*.pyc",
                                     ".ipynb_checkpoints", ".pytest_cache")


class GradingError(Exception):
    """A problem with the command line or the setup: one line for the instructor."""


# ---------------------------------------------------------------------------
# Results


@dataclass
class ExerciseGrade:
    exercise_id: str
    status: str              # passed / failed / not done (workbook.checks)
    message: str = ""
    points: int = 0

    def line(self):
        from .checks import Result
        return Result(self.exercise_id, self.status, self.message).line()


@dataclass
class NotebookGrade:
    lesson: int
    notebook: str | None                     # the file graded, relative to the student's folder
    grades: dict = field(default_factory=dict)   # exercise id -> ExerciseGrade
    notes: list = field(default_factory=list)
    cell_errors: list = field(default_factory=list)  # [code cell number, "ErrorType: message"]
    seconds: float = 0.0


@dataclass
class AppGrade:
    stage: int | None        # None: no my_app/ submitted; 0: passes no stage
    notes: list = field(default_factory=list)
    runs: list = field(default_factory=list)     # [stage, passed, summary]
    seconds: float = 0.0


@dataclass
class StudentGrade:
    name: str
    notebooks: dict = field(default_factory=dict)    # lesson -> NotebookGrade
    app: AppGrade | None = None
    notes: list = field(default_factory=list)        # notes about the whole submission

    def grade(self, exercise_id):
        for notebook in self.notebooks.values():
            if exercise_id in notebook.grades:
                return notebook.grades[exercise_id]
        return None

    def points(self, exercise_id):
        found = self.grade(exercise_id)
        return found.points if found else 0

    @property
    def total(self):
        return sum(g.points for nb in self.notebooks.values() for g in nb.grades.values())

    def all_notes(self):
        notes = list(self.notes)
        for lesson in sorted(self.notebooks):
            notes += self.notebooks[lesson].notes
        if self.app:
            notes += self.app.notes
        return notes


@dataclass
class ClassGrades:
    students: list            # [StudentGrade], sorted
    exercises: dict           # id -> workbook.checks.Exercise, in lesson order
    seconds: float = 0.0

    @property
    def max_points(self):
        return sum(e.points for e in self.exercises.values())


# ---------------------------------------------------------------------------
# Reading a notebook without nbformat (its schema validation costs ~1 s per process)


class NotebookError(Exception):
    """The file is not a notebook the grader can run; the message is the note."""


def read_code_cells(path):
    """The source of each code cell in the notebook at ``path``, in order."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise NotebookError("not UTF-8 text") from None
    except OSError as error:
        raise NotebookError(f"cannot be read ({error.strerror or error})") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        where = f" (line {error.lineno}, column {error.colno})" if hasattr(error, "lineno") else ""
        raise NotebookError(f"not valid JSON{where}") from None
    if not isinstance(data, dict):
        raise NotebookError("not a notebook (the JSON has no cells)")
    cells = data.get("cells")
    if cells is None and isinstance(data.get("worksheets"), list):  # nbformat 3
        cells = [c for sheet in data["worksheets"] if isinstance(sheet, dict) for c in sheet.get("cells", [])]
    if not isinstance(cells, list):
        raise NotebookError("not a notebook (the JSON has no cells)")
    sources = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", cell.get("input", ""))
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        sources.append(source if isinstance(source, str) else "")
    return sources


def _first_line(source, limit=40):
    line = next((line.strip() for line in source.splitlines() if line.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


# ---------------------------------------------------------------------------
# Starting workers


class _Worker:
    """One running worker process and the read end of its event pipe."""

    def __init__(self, pid, conn, process=None, popen=None):
        self.pid, self.conn, self.process, self.popen = pid, conn, process, popen

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
        else:
            try:
                code = self.popen.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.conn.close()
        return code


_start_lock = threading.Lock()
_context = None


WORKER_NAME = "workbook-grading-worker"


def _fork_context():
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(["workbook.grading_preload"])
        _skip_main_module_for_workers()
    return _context


def _skip_main_module_for_workers():
    """Our workers need nothing from the grader's __main__: do not make them re-import it.

    multiprocessing re-runs the parent's main script in each child (as __mp_main__),
    which costs time and fails outright when that "script" is stdin or a notebook.
    The worker's target, workbook.grading_worker.serve, is importable by name.
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


def default_engine():
    return "fork" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _start_worker(job, engine, grader_dir):
    if engine == "fork":
        context = _fork_context()
        reader, writer = context.Pipe(duplex=False)
        with _start_lock:
            process = context.Process(target=grading_worker.serve, args=(job, writer), name=WORKER_NAME)
            process.start()
        writer.close()
        return _Worker(process.pid, reader, process=process)
    reader, writer = multiprocessing.Pipe(duplex=False)
    job_file = Path(grader_dir) / "job.json"
    job_file.write_text(json.dumps(job), encoding="utf-8")
    # -P: the worker's folder does not go on sys.path (the student's files must not shadow workbook).
    flags = ["-P"] if sys.version_info >= (3, 11) else []
    with open(job["log"], "ab") as log:
        popen = subprocess.Popen([sys.executable, *flags, "-m", "workbook.grading_worker", str(job_file),
                                  str(writer.fileno())],
                                 cwd=grader_dir, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                 pass_fds=[writer.fileno()], start_new_session=True)
    writer.close()
    return _Worker(popen.pid, reader, popen=popen)


@dataclass
class _Run:
    payload: dict | None = None
    crashed: str | None = None
    last: tuple | None = None        # ("cell", index) or ("grading", id): the last thing it started
    interrupted: bool = False        # we interrupted it at the deadline
    killed: bool = False             # we killed it (did not stop in time)
    exitcode: int | None = None


class Grader:
    """Grades submissions; one instance per class (holds the options and the scratch folder)."""

    def __init__(self, timeout=DEFAULT_TIMEOUT, jobs=None, hidden_checks=None, engine=None,
                 progress=None, scratch=None, app_timeout=DEFAULT_APP_TIMEOUT):
        self.timeout = float(timeout)
        self.app_timeout = float(app_timeout)
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.hidden_checks = str(Path(hidden_checks).resolve()) if hidden_checks else None
        self.engine = engine or default_engine()
        self.progress = progress
        self.scratch_parent = scratch
        self._cancelled = threading.Event()
        self._active = set()
        self._active_lock = threading.Lock()
        self._counter = 0

    # -- the class ----------------------------------------------------------

    def grade_class(self, submissions):
        submissions = Path(submissions)
        exercises = load_exercises()
        students = find_students(submissions)
        started = time.monotonic()
        scratch = Path(tempfile.mkdtemp(prefix="workbook-grading-", dir=self.scratch_parent))
        try:
            results = self._grade_all(students, exercises, scratch)
        finally:
            _remove_tree(scratch)
        graded = [results[folder.name] for folder in students]
        return ClassGrades(graded, exercises, time.monotonic() - started)

    def _grade_all(self, students, exercises, scratch):
        lessons = sorted({e.lesson for e in exercises.values()})
        grades, tasks = {}, []
        for folder in students:
            grade = StudentGrade(folder.name)
            grades[folder.name] = grade
            tasks += self._plan(folder, grade, lessons, exercises)
        remaining = {name: 0 for name in grades}
        for task in tasks:
            remaining[task[0].name] += 1
        done = sum(1 for count in remaining.values() if count == 0)
        total = len(grades)
        self._report_progress(done, total)
        lock = threading.Lock()
        executor = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="grade")
        try:
            futures = {executor.submit(self._run_task, task, scratch): task for task in tasks}
            for future in as_completed(futures):
                folder, grade, kind, key = futures[future][:4]
                try:
                    future.result()
                except Exception as error:  # noqa: BLE001 - a grader bug must not lose the other students
                    grade.notes.append(f"grader error ({kind} {key}): {type(error).__name__}: {error}")
                with lock:
                    remaining[folder.name] -= 1
                    if remaining[folder.name] == 0:
                        done += 1
                        self._report_progress(done, total)
        except BaseException:
            self._cancel()
            executor.shutdown(wait=True, cancel_futures=True)
            raise
        executor.shutdown(wait=True)
        return grades

    def _plan(self, folder, grade, lessons, exercises):
        """This student's tasks; what needs no process (missing, corrupt) is graded right here."""
        tasks = []
        app = folder / "my_app"
        if app.is_dir():
            tasks.append((folder, grade, "app", None))
        else:
            grade.app = AppGrade(None)
        notebooks_dir = folder / "notebooks"
        if not notebooks_dir.is_dir():
            grade.notes.append("no notebooks/ folder")
        for lesson in lessons:
            ids = [i for i, e in exercises.items() if e.lesson == lesson]
            notebook = NotebookGrade(lesson, None)
            grade.notebooks[lesson] = notebook
            if not notebooks_dir.is_dir():
                for exercise_id in ids:
                    notebook.grades[exercise_id] = ExerciseGrade(exercise_id, "failed", "no notebooks/ folder.")
                continue
            path, note = choose_notebook(notebooks_dir, lesson)
            if note:
                notebook.notes.append(f"{lesson:02d}: {note}")
            if path is None:
                for exercise_id in ids:
                    notebook.grades[exercise_id] = ExerciseGrade(
                        exercise_id, "failed", f"no notebooks/{lesson:02d}_*.ipynb was submitted.")
                continue
            notebook.notebook = f"notebooks/{path.name}"
            try:
                cells = read_code_cells(path)
            except NotebookError as error:
                notebook.notes.append(f"{lesson:02d}: {error}")
                for exercise_id in ids:
                    notebook.grades[exercise_id] = ExerciseGrade(
                        exercise_id, "failed", f"{path.name} could not be opened: {error}.")
                continue
            tasks.append((folder, grade, "notebook", lesson, path, cells, ids))
        return tasks

    def _run_task(self, task, scratch):
        if self._cancelled.is_set():
            return
        with self._active_lock:
            self._counter += 1
            task_dir = scratch / f"{self._counter:04d}"
        task_dir.mkdir()
        try:
            if task[2] == "app":
                task[1].app = self.grade_app(task[0] / "my_app", task_dir)
            else:
                folder, grade, _kind, lesson, path, cells, ids = task
                grade.notebooks[lesson] = self.grade_notebook(folder, lesson, path, cells, ids, task_dir)
        finally:
            _remove_tree(task_dir)

    def _report_progress(self, done, total):
        if self.progress:
            self.progress(done, total)

    def _cancel(self):
        self._cancelled.set()
        with self._active_lock:
            for worker in list(self._active):
                worker.kill()

    # -- one notebook -------------------------------------------------------

    def grade_notebook(self, folder, lesson, path, cells, ids, task_dir):
        from .checks import EXERCISES
        started = time.monotonic()
        result = NotebookGrade(lesson, f"notebooks/{path.name}")
        prefix = f"{lesson:02d}"
        work = task_dir / "work"
        grader_dir = task_dir / "grader"
        grader_dir.mkdir()
        skip_cells, stop_at, skip_exercises = set(), None, {}
        payload, run = None, None
        for attempt in range(MAX_RUNS):
            if self._cancelled.is_set():
                return result
            _remove_tree(work)
            _copy_submission(folder, work)
            job = {
                "cells": cells, "cwd": str(work / "notebooks"), "log": str(grader_dir / "output.log"),
                "exercises": ids, "skip_cells": sorted(skip_cells), "stop_at": stop_at,
                "skip_exercises": sorted(skip_exercises), "hidden_checks": self.hidden_checks,
                "check_timeout": self.timeout,
                "env": {"WORKBOOK_MY_APP": str(work / "my_app"), "MPLBACKEND": "Agg",
                        "IPYTHONDIR": str(task_dir / "ipython"), "PYTHONDONTWRITEBYTECODE": "1"},
            }
            run = self._run_worker(job, grader_dir)
            if run.payload is not None:
                payload = run.payload
                break
            if run.crashed is not None:
                result.notes.append(f"{prefix}: the grader could not run it ({run.crashed})")
                break
            how = (f"did not stop after {self.timeout:g} s" if run.killed
                   else f"ended the Python process ({_exit_reason(run.exitcode)})")
            if run.last is None:
                result.notes.append(f"{prefix}: the notebook's process {how} before running any cell")
                break
            kind, where = run.last
            if kind == "cell":
                cell = f"code cell {where + 1} ({_first_line(cells[where])!s})"
                if run.killed or run.interrupted:
                    stop_at = where
                    result.notes.append(f"{prefix}: timed out after {self.timeout:g} s in {cell}; "
                                        "later cells not run")
                else:
                    skip_cells.add(where)
                    result.notes.append(f"{prefix}: {cell} {how}; graded without that cell")
            else:
                skip_exercises[where] = how
                result.notes.append(f"{where}: checking it {how}")
        else:
            result.notes.append(f"{prefix}: gave up after {MAX_RUNS} runs")

        payload = payload or {"results": {}, "cell_errors": [], "stopped_at": None, "interrupted": False}
        if payload.get("interrupted") and stop_at is None:
            where = payload.get("stopped_at")
            cell = (f" in code cell {where + 1} ({_first_line(cells[where])})"
                    if isinstance(where, int) and 0 <= where < len(cells) else "")
            result.notes.append(f"{prefix}: timed out after {self.timeout:g} s{cell}; later cells not run")
        result.cell_errors = [[index + 1, text] for index, text in payload.get("cell_errors", [])]
        stopped = payload.get("interrupted") or stop_at is not None
        for exercise_id in ids:
            outcome = payload["results"].get(exercise_id)
            if exercise_id in skip_exercises:
                outcome = {"status": "failed", "message": f"checking your code {skip_exercises[exercise_id]}."}
            elif outcome is None:
                outcome = {"status": "failed", "message": "not graded: the notebook did not finish."}
            elif outcome.get("missing"):
                names = ", ".join(f"`{name}`" for name in outcome["missing"])
                why = " (the notebook stopped before it)" if stopped else ""
                result.notes.append(f"{exercise_id}: {names} not defined{why}")
                outcome = {"status": "failed",
                           "message": f"{names} is not defined in your notebook{why}: keep the name the exercise "
                                      "gives, and run its cell."}
            elif outcome.get("timed_out"):
                result.notes.append(f"{exercise_id}: its check timed out after {self.timeout:g} s")
            points = EXERCISES[exercise_id].points if outcome["status"] == "passed" else 0
            result.grades[exercise_id] = ExerciseGrade(exercise_id, outcome["status"], outcome.get("message", ""),
                                                       points)
        result.seconds = time.monotonic() - started
        return result

    def _run_worker(self, job, grader_dir):
        """Run one worker to the end: its result, or how and where it stopped."""
        run = _Run()
        worker = _start_worker(job, self.engine, grader_dir)
        with self._active_lock:
            self._active.add(worker)
        gone = False
        try:
            deadline = time.monotonic() + self.timeout
            grading = False
            while not self._cancelled.is_set():
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
                    kind, value = event
                    if kind == "done":
                        run.payload = value
                        return run
                    if kind == "crashed":
                        run.crashed = value
                        return run
                    run.last = (kind, value)
                    if kind == "grading":
                        grading = True
                        deadline = time.monotonic() + self.timeout + GRACE
                elif gone or not worker.running():
                    # End of file on its pipe (or no such process): it is gone. Not worker.alive():
                    # that asks the fork server, which a student's code may have killed.
                    return self._drain(worker, run)
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

    @staticmethod
    def _drain(worker, run):
        """The worker died: read what it said before it went."""
        try:
            while worker.conn.poll(0):
                kind, value = worker.conn.recv()
                if kind == "done":
                    run.payload = value
                elif kind == "crashed":
                    run.crashed = value
                else:
                    run.last = (kind, value)
        except (EOFError, OSError):
            pass
        return run

    # -- my_app ---------------------------------------------------------------

    def grade_app(self, app_folder, task_dir):
        from .my_app import run_stage_tests
        started = time.monotonic()
        grade = AppGrade(0)
        if not (app_folder / "app.py").is_file():
            grade.notes.append("my_app: no app.py")
            return grade
        timed_out = False
        for number in sorted((s.number for s in STAGES), reverse=True):
            if self._cancelled.is_set():
                break
            stage_dir = task_dir / f"stage{number}"
            copy = stage_dir / "my_app"
            _copy_tree(app_folder, copy)
            run = run_stage_tests(number, copy, timeout=self.app_timeout, cwd=stage_dir,
                                  extra_args=(*STAGE_TEST_ARGS, "--basetemp", str(stage_dir / "pytest-tmp")))
            _remove_tree(stage_dir)
            grade.runs.append([number, run.passed, run.summary()])
            if run.passed:
                grade.stage = number
                break
            if run.returncode is None and not timed_out:
                timed_out = True
                grade.notes.append(f"my_app: stage {number} tests timed out after {self.app_timeout:g} s")
            load_error = _app_load_error(run.output)
            if load_error:
                grade.notes.append(f"my_app: {load_error}")
                break
        else:
            grade.notes.append("my_app: passes no stage's tests")
        grade.seconds = time.monotonic() - started
        return grade


def _exit_reason(code):
    if code is None:
        return "exit code unknown"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _app_load_error(output):
    """'import error (SyntaxError: ...)' when the app could not even be loaded, else None."""
    for line in output.splitlines():
        if "AppLoadError:" in line:
            text = line.split("AppLoadError:", 1)[1].strip()
            if "failed to import:" in text:
                return "import error (" + text.split("failed to import:", 1)[1].strip()[:200] + ")"
            return "cannot load the app (" + re.sub(r"\S*/", "", text)[:200] + ")"
    return None


# ---------------------------------------------------------------------------
# Files


def _copy_tree(source, target):
    shutil.copytree(source, target, symlinks=True, ignore=COPY_IGNORE, dirs_exist_ok=True)


def _copy_submission(folder, work):
    """What a notebook sees: a scratch copy of the student's notebooks/ and my_app/."""
    work.mkdir(parents=True, exist_ok=True)
    for name in ("notebooks", "my_app"):
        if (folder / name).is_dir():
            _copy_tree(folder / name, work / name)
    (work / "notebooks").mkdir(exist_ok=True)


def _remove_tree(path):
    def make_writable(function, failed_path, _info):
        try:
            os.chmod(failed_path, 0o700)
            os.chmod(os.path.dirname(failed_path), 0o700)
            function(failed_path)
        except OSError:
            pass
    if Path(path).exists():
        shutil.rmtree(path, onerror=make_writable)


def find_students(submissions):
    """Each student's folder, sorted by name (hidden folders and files are skipped)."""
    submissions = Path(submissions)
    if not submissions.exists():
        raise GradingError(f"{submissions} does not exist")
    if not submissions.is_dir():
        raise GradingError(f"{submissions} is not a folder")
    folders = [p for p in submissions.iterdir()
               if p.is_dir() and not p.name.startswith((".", "__"))]
    if not folders:
        raise GradingError(f"{submissions} has no student folders (expected {submissions}/<student>/notebooks/)")
    return sorted(folders, key=lambda p: (p.name.casefold(), p.name))


def choose_notebook(notebooks_dir, lesson):
    """(path, note) for a lesson: the released notebook's name if the student has it, else the only match."""
    matches = sorted(p for p in notebooks_dir.glob(f"{lesson:02d}_*.ipynb") if p.is_file())
    if not matches:
        return None, "notebook missing"
    released = {p.name for p in (ROOT / "notebooks").glob(f"{lesson:02d}_*.ipynb")}
    canonical = [p for p in matches if p.name in released]
    chosen = canonical[0] if canonical else matches[0]
    if len(matches) > 1:
        return chosen, f"{len(matches)} notebooks for this lesson; graded {chosen.name}"
    return chosen, None


def load_exercises():
    """Every registered exercise, in lesson order; a broken checks module is a GradingError."""
    from . import checks
    try:
        exercises = checks.load_all()
    except Exception as error:  # noqa: BLE001 - say which module, in one line
        raise GradingError(f"the workbook's checks fail to import: {type(error).__name__}: {error}") from None
    def order(exercise_id):
        return tuple(int(part) for part in exercise_id.split("."))
    return {key: exercises[key] for key in sorted(exercises, key=order)}


def validate_hidden_checks(path):
    """Run the instructor's hidden checks file once, in a throwaway process, so that a mistake is one line."""
    path = Path(path)
    if not path.is_file():
        raise GradingError(f"--hidden-checks: {path} is not a file")
    program = ("import runpy, sys\nfrom workbook.checks import load_all\nload_all()\n"
               "runpy.run_path(sys.argv[1], run_name='workbook_hidden_checks')\n")
    done = subprocess.run([sys.executable, "-c", program, str(path.resolve())], capture_output=True, text=True,
                          timeout=120, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise GradingError(f"--hidden-checks {path}: {lines[-1] if lines else 'failed'}")


def check_out_path(out, submissions):
    """A one-line error unless report.csv (and report.html, feedback/ beside it) can be written there."""
    out = Path(out)
    if out.is_dir():
        raise GradingError(f"--out {out} is a folder; give a file name such as {out / 'report.csv'}")
    parent = out.resolve().parent
    if not parent.is_dir():
        raise GradingError(f"--out {out}: the folder {out.parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise GradingError(f"--out {out}: cannot write in {out.parent}")
    submissions = Path(submissions).resolve()
    if parent == submissions or submissions in parent.parents:
        raise GradingError(f"--out {out}: write the report outside the submissions folder")
    return out


class Progress:
    """'graded 12/30' on stderr, in place on a terminal."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def __call__(self, done, total):
        if self.tty:
            self.stream.write(f"\rgraded {done}/{total}" + ("\n" if done == total else ""))
        else:
            self.stream.write(f"graded {done}/{total}\n")
        self.stream.flush()


def main(args):
    """The ``grade`` subcommand; returns the exit code (2: a usage problem, said in one line)."""
    from .grading_report import write_reports
    try:
        if args.timeout <= 0 or args.app_timeout <= 0:
            raise GradingError("--timeout and --app-timeout must be positive numbers of seconds")
        if args.jobs is not None and args.jobs < 1:
            raise GradingError("--jobs must be at least 1")
        find_students(args.submissions)
        out = check_out_path(args.out, args.submissions)
        load_exercises()
        if args.hidden_checks:
            validate_hidden_checks(args.hidden_checks)
    except GradingError as error:
        print(f"python -m workbook grade: error: {error}", file=sys.stderr)
        return 2
    grader = Grader(timeout=args.timeout, jobs=args.jobs, hidden_checks=args.hidden_checks, progress=Progress(),
                    app_timeout=args.app_timeout)
    try:
        grades = grader.grade_class(args.submissions)
    except KeyboardInterrupt:
        print("\ninterrupted: no report written", file=sys.stderr)
        return 130
    except GradingError as error:
        print(f"python -m workbook grade: error: {error}", file=sys.stderr)
        return 2
    try:
        written = write_reports(grades, out)
    except OSError as error:
        print(f"python -m workbook grade: error: cannot write the report: {error}", file=sys.stderr)
        return 2
    print(f"Graded {len(grades.students)} students in {grades.seconds:.0f} s: "
          + ", ".join(str(p) for p in written))
    return 0
