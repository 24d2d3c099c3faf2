"""The Grader: grades a class, each student's tasks in parallel; one job per module below it.

    plan.py      which files of which student are graded, and what runs (ClassPlan)
    run.py       running a notebook or a my_app/ on the engine's workers, with time limits (TaskRunner)
    collect.py   a notebook's runs turned into its grade, and the grade put in its place

This module holds them together: the class's tasks on a thread pool, each student's result handed
on once their last task ends, the class-wide copy flags at the end, and a notebook graded first
without its demonstration and check cells, then whole only when that could change a mark. See the
package docstring (workbook/grading/__init__.py) for what a grade means when a notebook misbehaves.
"""
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from . import integrity
from .collect import file_result, notebook_grade
from .engine import default_engine
from .files import find_students, remove_tree
from .model import AppTask, ClassGrades, GradingError, StudentGrade
from .plan import ClassPlan
from .run import TaskRunner

DEFAULT_TIMEOUT = 120        # seconds per notebook (and per check)


def load_exercises():
    """Every registered exercise, in lesson order; a broken checks module is a GradingError."""
    from .. import checks
    try:
        exercises = checks.load_all()
    except Exception as error:  # noqa: BLE001 - say which module, in one line
        raise GradingError(f"the workbook's checks fail to import: {type(error).__name__}: {error}") from None

    return {key: exercises[key] for key in sorted(exercises, key=checks.exercise_order)}


class Grader:
    """Grades submissions; one instance per class (holds the options and the scratch folder)."""

    def __init__(self, timeout=DEFAULT_TIMEOUT, jobs=None, hidden_checks=None, engine=None,
                 progress=None, scratch=None, app_timeout=None, skip_demos=True,
                 partial_credit=True, on_student=None):
        self.timeout = float(timeout)
        self.on_student = on_student   # called with each StudentGrade once it is graded (resume.py keeps it)
        self.partial_credit = partial_credit   # run the next stage's tests for an app's app_score (apps.py)
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.hidden_checks = str(Path(hidden_checks).resolve()) if hidden_checks else None
        self.engine = engine or default_engine()
        self.progress = progress
        self.scratch_parent = scratch
        self.skip_demos = skip_demos      # False: run every cell, as before demo_cells.py (for comparisons)
        self.runner = TaskRunner(self.engine, self.timeout, self.hidden_checks, app_timeout,
                                 self.partial_credit)
        self._lock = threading.Lock()     # the task folders' counter, the candidates of a lesson
        self._counter = 0

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
            note = self.runner.sandbox_note()   # where the machine could not isolate the student's code
            if note:
                for grade in results.values():
                    grade.notes.append(note)
        finally:
            self.runner.close()
            remove_tree(scratch)
        return ClassGrades([results[name] for name in folders], exercises, time.monotonic() - started)

    def _grade_all(self, folders, exercises, scratch):
        lessons = sorted({e.lesson for e in exercises.values()})
        plan = ClassPlan(self.skip_demos)
        grades, tasks = {}, []
        for name, folder in folders.items():
            grade = StudentGrade(name)
            grades[name] = grade
            tasks += plan.plan_student(Path(folder), grade, lessons, exercises, scratch)
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
                        if self.on_student is not None:
                            self.on_student(task.student)
                        self._report_progress(done, total)
        except BaseException:
            self.runner.cancel()
            executor.shutdown(wait=True, cancel_futures=True)
            raise
        executor.shutdown(wait=True)
        for name, flags in integrity.shared_answers(plan.class_cells).items():
            grades[name].flags += flags
        for name, flags in integrity.shared_apps(plan.class_apps).items():
            grades[name].flags += flags
        return grades

    def _report_progress(self, done, total):
        if self.progress:
            self.progress(done, total)

    def _run_task(self, task, scratch):
        if self.runner.cancelled.is_set():
            return
        with self._lock:
            self._counter += 1
            task_dir = scratch / f"{self._counter:04d}"
        task_dir.mkdir()
        try:
            if isinstance(task, AppTask):
                task.student.app = self.runner.run_app(task, task_dir)
            else:
                file_result(task, self.grade_notebook(task, task_dir), self._lock)
        finally:
            remove_tree(task_dir)

    # -- one notebook -------------------------------------------------------

    def grade_notebook(self, task, task_dir):
        """Run ``task``'s notebook and grade it: first without its unchanged demonstration and check cells,
        then, only if an exercise failed or a cell met an undefined name, whole (so that skipping never
        changes a mark; see demo_cells.py)."""
        started = time.monotonic()
        fast_cpu, hung = 0.0, None
        if task.skippable:
            result, rerun = self._grade_notebook_once(task, task_dir / "fast", task.skippable)
            if not rerun:
                result.seconds = time.monotonic() - started
                return result
            fast_cpu, hung = result.cpu_seconds, result.hung_at
        # A cell that timed out is not run again: the whole run stops before it (--timeout is spent once)
        result, _rerun = self._grade_notebook_once(task, task_dir / "whole", (), stop_at=hung)
        result.cpu_seconds += fast_cpu
        result.seconds = time.monotonic() - started
        return result

    def _grade_notebook_once(self, task, task_dir, skippable, stop_at=None):
        """(NotebookGrade, whether a run of every cell could grade differently): run.py runs, collect.py grades."""
        run = self.runner.run_notebook(task, task_dir, skippable, stop_at)
        return notebook_grade(task, run, skippable, self.timeout)
