"""The Grader: plans a class into tasks (one per notebook, one per my_app/) and runs them in parallel.

See the package docstring (workbook/grading/__init__.py) for what a grade means when a notebook
misbehaves; this module is how: it runs each notebook's worker (engine.py, worker.py), watches
its events, and re-runs the notebook without a cell that ended the process.
"""
import hmac
import os
import secrets
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .. import ROOT
from . import integrity
from .apps import DEFAULT_APP_TIMEOUT, grade_app
from .demo_cells import is_check_cell, tagged_sources
from .engine import default_engine, exit_reason, start_worker
from .files import (
    NotebookError,
    copy_submission,
    find_notebooks,
    find_students,
    first_line,
    read_code_cells,
    remove_tree,
    unpack_zips,
)
from .model import (
    AppGrade,
    AppTask,
    ClassGrades,
    ExerciseGrade,
    GradingError,
    NotebookGrade,
    NotebookTask,
    StudentGrade,
)
from .worker import NotebookJob, sign

DEFAULT_TIMEOUT = 120        # seconds per notebook (and per check)
GRACE = 5                    # seconds a worker gets to stop after being interrupted
MAX_RUNS = 3                 # runs of one notebook, when cells keep ending the process


def load_exercises():
    """Every registered exercise, in lesson order; a broken checks module is a GradingError."""
    from .. import checks
    try:
        exercises = checks.load_all()
    except Exception as error:  # noqa: BLE001 - say which module, in one line
        raise GradingError(f"the workbook's checks fail to import: {type(error).__name__}: {error}") from None

    return {key: exercises[key] for key in sorted(exercises, key=checks.exercise_order)}


@dataclass
class _Run:
    payload: dict | None = None
    key: bytes | None = None         # this run's secret, sent once the worker said every cell had run
    flags: list = field(default_factory=list)  # integrity flags: messages that did not come from the worker
    crashed: str | None = None
    last: tuple | None = None        # ("cell", index) or ("grading", id): the last thing it started
    interrupted: bool = False        # we interrupted it at the deadline
    killed: bool = False             # we killed it (did not stop in time)
    exitcode: int | None = None


LOG_LIMIT = 20_000   # characters of a notebook's output kept for the instructor (the end of it)


def _tail(path, limit=LOG_LIMIT):
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return text if len(text) <= limit else "…" + text[-limit:]


EVENTS = ("cell", "ready", "grading", "done", "crashed")


def _event(message):
    """(kind, value) of a worker's message; ("garbled", None) for anything else."""
    if isinstance(message, tuple) and len(message) == 2 and message[0] in EVENTS:
        return message
    return "garbled", None


class Grader:
    """Grades submissions; one instance per class (holds the options and the scratch folder)."""

    def __init__(self, timeout=DEFAULT_TIMEOUT, jobs=None, hidden_checks=None, engine=None,
                 progress=None, scratch=None, app_timeout=DEFAULT_APP_TIMEOUT, skip_demos=True,
                 partial_credit=True):
        self.timeout = float(timeout)
        self.partial_credit = partial_credit   # run the next stage's tests for an app's app_score (apps.py)
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
        self.skip_demos = skip_demos      # False: run every cell, as before demo_cells.py (for comparisons)
        self._demo_cache = {}
        self._zip_roots = []      # the zips unpacked so far (each into its own scratch folder)
        self._class_cells = {}    # student -> {lesson: code cells}: to find answers students share
        self._app_cache = {}      # apps.py: the next stage's outcomes, by the app's files

    # -- the class ----------------------------------------------------------

    def grade_class(self, submissions):
        """Grade every ``SUBMISSIONS/<student>/``; the students sorted by name."""
        return self.grade_students({folder.name: folder for folder in find_students(submissions)})

    def grade_students(self, folders):
        """Grade ``{name: folder}`` (each folder holds notebooks/ and maybe my_app/), in that order."""
        exercises = load_exercises()
        started = time.monotonic()
        scratch = Path(tempfile.mkdtemp(prefix="workbook-grading-", dir=self.scratch_parent))
        try:
            results = self._grade_all(folders, exercises, scratch)
        finally:
            remove_tree(scratch)
        return ClassGrades([results[name] for name in folders], exercises, time.monotonic() - started)

    def _grade_all(self, folders, exercises, scratch):
        lessons = sorted({e.lesson for e in exercises.values()})
        grades, tasks = {}, []
        self._class_cells = {}
        for name, folder in folders.items():
            grade = StudentGrade(name)
            grades[name] = grade
            tasks += self._plan(Path(folder), grade, lessons, exercises, scratch)
        remaining = {name: 0 for name in grades}
        for task in tasks:
            remaining[task.student.name] += 1
        done = sum(1 for count in remaining.values() if count == 0)
        total = len(grades)
        self._report_progress(done, total)
        lock = threading.Lock()
        executor = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="grade")
        try:
            futures = {executor.submit(self._run_task, task, scratch): task for task in tasks}
            for future in as_completed(futures):
                task = futures[future]
                try:
                    future.result()
                except Exception as error:  # noqa: BLE001 - a grader bug must not lose the other students
                    task.student.notes.append(f"grader error ({task.label}): {type(error).__name__}: {error}")
                with lock:
                    remaining[task.student.name] -= 1
                    if remaining[task.student.name] == 0:
                        done += 1
                        self._report_progress(done, total)
        except BaseException:
            self._cancel()
            executor.shutdown(wait=True, cancel_futures=True)
            raise
        executor.shutdown(wait=True)
        for name, flags in integrity.shared_answers(self._class_cells).items():
            grades[name].flags += flags
        return grades

    def _plan(self, folder, grade, lessons, exercises, scratch):
        """This student's tasks; what needs no process (missing, corrupt) is graded right here.

        Every file that could be a lesson's notebook (files.find_notebooks, zips unpacked into the
        scratch space) is graded, and the best kept (``_keep_best``); the notes say what was found.
        """
        tasks = []
        roots = [folder]
        zips, zip_notes = unpack_zips(folder, scratch / "unzipped" / f"{len(self._zip_roots):04d}")
        self._zip_roots += zips
        grade.notes += zip_notes
        roots += zips
        app_folder = next((root for root in roots if (root / "my_app").is_dir()), None)
        if app_folder is None:
            nested = [p.parent.parent for root in zips for p in root.glob("*/my_app/app.py")]
            app_folder = nested[0] if nested else None
        if app_folder is not None:
            tasks.append(AppTask(app_folder, grade))
            copied = integrity.app_copy_of_stage(app_folder / "my_app")
            if copied is not None:
                grade.flags.append(f"my_app is an untouched copy of the stage {copied} app in app_steps/")
            if app_folder != folder:
                grade.notes.append(f"my_app: graded {self._shown(app_folder / 'my_app', folder, zips)}")
        else:
            grade.app = AppGrade(None)
        has_notebooks_dir = (folder / "notebooks").is_dir()
        found_any = False
        shared_cells = {}
        for lesson in lessons:
            ids = [i for i, e in exercises.items() if e.lesson == lesson]
            notebook = NotebookGrade(lesson, None)
            grade.notebooks[lesson] = notebook
            paths = [path for root in roots for path in find_notebooks(root, lesson)]
            found_any = found_any or bool(paths)
            if not paths:
                if not has_notebooks_dir and not zips:
                    why, note = "no notebooks/ folder.", None
                else:
                    why, note = f"no notebooks/{lesson:02d}_*.ipynb was submitted.", f"{lesson:02d}: notebook missing"
                if note:
                    notebook.notes.append(note)
                for exercise_id in ids:
                    notebook.grades[exercise_id] = ExerciseGrade(exercise_id, "failed", why)
                continue
            shown = [self._shown(path, folder, zips) for path in paths]
            standard = len(paths) == 1 and shown[0] == f"notebooks/{paths[0].name}" and \
                paths[0].name in {p.name for p in (ROOT / "notebooks").glob(f"{lesson:02d}_*.ipynb")}
            if not standard and len(paths) == 1:
                notebook.notes.append(f"{lesson:02d}: found {shown[0]}")
            candidates = [] if len(paths) > 1 else None
            lesson_tasks = []
            for path, shown_as in zip(paths, shown, strict=False):
                planned = NotebookGrade(lesson, shown_as)
                try:
                    cells = read_code_cells(path)
                except NotebookError as error:
                    planned.notes.append(f"{lesson:02d}: {shown_as}: {error}")
                    for exercise_id in ids:
                        planned.grades[exercise_id] = ExerciseGrade(
                            exercise_id, "failed", f"{path.name} could not be opened: {error}.")
                    if candidates is None:
                        planned.notes = notebook.notes + [f"{lesson:02d}: {error}"]
                        grade.notebooks[lesson] = planned
                        planned.notebook = shown_as
                    else:
                        candidates.append((None, planned))
                    continue
                planned.notes = list(notebook.notes) if candidates is None else []
                planned.flags = integrity.notebook_flags(lesson, cells)
                planned.notes += [f"{lesson:02d}: {note}" for note in integrity.redefinitions(
                    cells, [name for i in ids for name in exercises[i].uses])]
                shared_cells.setdefault(lesson, cells)
                skippable = [index for index, source in enumerate(cells) if self.skip_demos
                             and (source in self._demo_sources(lesson) or is_check_cell(source))]
                lesson_tasks.append(NotebookTask(folder, grade, lesson, path, cells, ids, skippable, planned,
                                                 shown_as, candidates, len(paths)))
            if candidates is not None and not lesson_tasks:
                self._keep_best(grade, lesson, candidates)
            tasks += lesson_tasks
        if not found_any and not has_notebooks_dir:
            grade.notes.append("no notebooks/ folder")
        self._class_cells[grade.name] = {lesson: cells for lesson, cells in shared_cells.items()}
        return tasks

    @staticmethod
    def _shown(path, folder, zips):
        """How the notes name a file: relative to the student's folder, or 'NAME.zip: inner/path'."""
        for root in zips:
            if path.is_relative_to(root):
                return f"{root.name}.zip: {path.relative_to(root).as_posix()}"
        return path.relative_to(folder).as_posix()

    @staticmethod
    def _keep_best(grade, lesson, candidates):
        """Several files could be the lesson's notebook: keep the one that scored most (the likeliest on a tie)."""
        scored = [(sum(g.points for g in result.grades.values()), -order, result)
                  for order, (_task, result) in enumerate(candidates)]
        best = max(scored, key=lambda item: item[:2])[2]
        others = "; ".join(f"{result.notebook} scored {points}" for points, _order, result in scored
                           if result is not best)
        best_points = sum(g.points for g in best.grades.values())
        best.notes.insert(0, f"{lesson:02d}: {len(candidates)} notebooks for this lesson; graded {best.notebook} "
                             f"({best_points} points, the best); {others}")
        grade.notebooks[lesson] = best

    def _demo_sources(self, lesson):
        """The demonstration cells of the released notebook of ``lesson`` (their exact sources)."""
        if lesson not in self._demo_cache:
            released = sorted((ROOT / "notebooks").glob(f"{lesson:02d}_*.ipynb"))
            self._demo_cache[lesson] = tagged_sources(released[0]) if released else set()
        return self._demo_cache[lesson]

    def _run_task(self, task, scratch):
        if self._cancelled.is_set():
            return
        with self._active_lock:
            self._counter += 1
            task_dir = scratch / f"{self._counter:04d}"
        task_dir.mkdir()
        try:
            if isinstance(task, AppTask):
                task.student.app = grade_app(task.folder / "my_app", task_dir, timeout=self.app_timeout,
                                             cancelled=self._cancelled, engine=self.engine,
                                             cache=self._app_cache, partial=self.partial_credit)
            else:
                result = self.grade_notebook(task, task_dir)
                result.notebook = task.shown_as or result.notebook
                if task.planned is not None:  # what was found before it ran stays with the result
                    result.notes[:0] = task.planned.notes
                    result.flags[:0] = task.planned.flags
                if task.candidates is None:
                    task.student.notebooks[task.lesson] = result
                else:
                    with self._active_lock:
                        task.candidates.append((task, result))
                        if len(task.candidates) == task.size:
                            self._keep_best(task.student, task.lesson, task.candidates)
        finally:
            remove_tree(task_dir)

    def _report_progress(self, done, total):
        if self.progress:
            self.progress(done, total)

    def _cancel(self):
        self._cancelled.set()
        with self._active_lock:
            for worker in list(self._active):
                worker.kill()

    # -- one notebook -------------------------------------------------------

    def grade_notebook(self, task, task_dir):
        """Run ``task``'s notebook and grade it: first without its unchanged demonstration and check cells,
        then, only if an exercise failed or a cell met an undefined name, whole (so that skipping never
        changes a mark; see demo_cells.py)."""
        started = time.monotonic()
        fast_cpu = 0.0
        if task.skippable:
            result, rerun = self._grade_notebook_once(task, task_dir / "fast", task.skippable)
            if not rerun:
                result.seconds = time.monotonic() - started
                return result
            fast_cpu = result.cpu_seconds
        result, _rerun = self._grade_notebook_once(task, task_dir / "whole", ())
        result.cpu_seconds += fast_cpu
        result.seconds = time.monotonic() - started
        return result

    def _grade_notebook_once(self, task, task_dir, skippable):
        """(NotebookGrade, whether a run of every cell could grade differently)."""
        from ..checks import EXERCISES
        folder, lesson, path, cells, ids = task.folder, task.lesson, task.path, task.cells, task.exercise_ids
        result = NotebookGrade(lesson, f"notebooks/{path.name}")
        prefix = f"{lesson:02d}"
        work = task_dir / "work"
        grader_dir = task_dir / "grader"
        grader_dir.mkdir(parents=True)
        skip_cells, stop_at, skip_exercises = set(skippable), None, {}
        payload, run = None, None
        for _attempt in range(MAX_RUNS):
            if self._cancelled.is_set():
                return result
            remove_tree(work)
            copy_submission(folder, work)
            job = NotebookJob(
                cells=cells, cwd=str(work / "notebooks"), log=str(grader_dir / "output.log"),
                exercises=ids, skip_cells=sorted(skip_cells), stop_at=stop_at,
                skip_exercises=sorted(skip_exercises), hidden_checks=self.hidden_checks,
                check_timeout=self.timeout,
                scratch_root=str(work / "workbook"),
                env={"WORKBOOK_MY_APP": str(work / "my_app"), "MPLBACKEND": "Agg",
                     "IPYTHONDIR": str(task_dir / "ipython"), "PYTHONDONTWRITEBYTECODE": "1",
                     # `!pip` and `!python` in a cell are the grader's own (the notebook's kernel's), not the system's
                     "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
                     "VIRTUAL_ENV": sys.prefix})
            run = self._run_worker(job, grader_dir)
            result.flags += [flag for flag in run.flags if flag not in result.flags]
            if run.payload is not None:
                payload = run.payload
                break
            if run.crashed is not None:
                result.notes.append(f"{prefix}: the grader could not run it ({run.crashed})")
                break
            how = (f"did not stop after {self.timeout:g} s" if run.killed
                   else f"ended the Python process ({exit_reason(run.exitcode)})")
            if run.last is None:
                result.notes.append(f"{prefix}: the notebook's process {how} before running any cell")
                break
            kind, where = run.last
            if kind == "cell":
                cell = f"code cell {where + 1} ({first_line(cells[where])!s})"
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

        result.log = _tail(grader_dir / "output.log")
        payload = payload or {"results": {}, "cell_errors": [], "stopped_at": None, "interrupted": False}
        if payload.get("interrupted") and stop_at is None:
            where = payload.get("stopped_at")
            cell = (f" in code cell {where + 1} ({first_line(cells[where])})"
                    if isinstance(where, int) and 0 <= where < len(cells) else "")
            result.notes.append(f"{prefix}: timed out after {self.timeout:g} s{cell}; later cells not run")
        result.cell_errors = [[index + 1, text] for index, text in payload.get("cell_errors", [])]
        result.cpu_seconds = payload.get("cpu", 0.0)  # 0 when the worker died: not measured
        result.flags += [flag for flag in payload.get("flags", []) if flag not in result.flags]
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
                                                       points, outcome.get("visible_status"),
                                                       outcome.get("visible_message", ""))
        result.skipped_cells = len(skippable)
        undefined = any(text.startswith(("NameError", "UnboundLocalError")) for _index, text in result.cell_errors)
        failed = any(grade.status == "failed" for grade in result.grades.values())
        return result, bool(skippable) and (failed or undefined)

    def _run_worker(self, job, grader_dir):
        """Run one worker to the end: its result, or how and where it stopped."""
        run = _Run()
        worker = start_worker(job, self.engine, grader_dir)
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
                    kind, value = _event(event)
                    if kind == "ready":
                        self._hand_out_key(worker, run)
                        continue
                    if kind == "done":
                        if self._accept(run, value):
                            return run
                        continue
                    if kind == "crashed":
                        run.crashed = value
                        return run
                    if kind == "garbled" or (kind == "grading" and run.key is None):
                        run.flags.append("forged message: student code wrote to the grader's channel; ignored")
                        continue
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
    def _hand_out_key(worker, run):
        """The worker has run every cell: send it this run's secret, which signs its result."""
        if run.key is not None:
            run.flags.append("forged result: the notebook's process said 'cells finished' twice "
                             "(student code talking to the grader)")
        run.key = secrets.token_bytes(32)
        try:
            worker.conn.send(("key", run.key))
        except (OSError, ValueError):
            pass

    @staticmethod
    def _accept(run, value):
        """Keep a result only when it is signed with this run's secret; else flag it and wait for the real one."""
        payload = value.get("payload") if isinstance(value, dict) else None
        mac = value.get("mac") if isinstance(value, dict) else None
        if run.key is None:
            run.flags.append("forged result: a result arrived before the notebook had finished running "
                             "(student code sent it); ignored")
            return False
        if not isinstance(payload, dict) or not isinstance(mac, str) or not hmac.compare_digest(
                mac, sign(run.key, payload)):
            run.flags.append("forged result: a result not signed by the grader's worker; ignored")
            return False
        run.payload = payload
        return True

    @staticmethod
    def _drain(worker, run):
        """The worker died: read what it said before it went."""
        try:
            while worker.conn.poll(0):
                kind, value = _event(worker.conn.recv())
                if kind == "done":
                    Grader._accept(run, value)
                elif kind == "crashed":
                    run.crashed = value
                elif kind in ("cell", "grading"):
                    run.last = (kind, value)
        except (EOFError, OSError):
            pass
        return run

