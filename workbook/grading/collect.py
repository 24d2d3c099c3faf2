"""Collecting: a notebook's runs (run.py) turned into its NotebookGrade, and the grade put in its place.

``notebook_grade`` reads the worker's payload (each exercise's outcome, the cells' errors, the CPU
it used, the flags it raised) with the notes of how the runs went, and says whether a run of every
cell could grade differently (demo_cells.py: skipping never changes a mark). ``file_result`` puts a
task's grade in the student's record; when several files could be the lesson, ``keep_best`` keeps
the one that scored most.
"""
from .files import first_line
from .model import ExerciseGrade, NotebookGrade


def notebook_grade(task, run, skippable, timeout):
    """(NotebookGrade of ``task``'s NotebookRun ``run``, whether a run of every cell could grade differently).

    The result's ``hung_at`` is the index of the cell that timed out, if one did."""
    from ..checks import EXERCISES
    lesson, path, cells, ids = task.lesson, task.path, task.cells, task.exercise_ids
    result = NotebookGrade(lesson, f"notebooks/{path.name}")
    prefix = f"{lesson:02d}"
    result.notes = run.notes
    result.flags = run.flags
    result.hung_at = run.stop_at
    if run.cancelled:   # the class's grading stopped: this grade is never reported
        return result, False
    stop_at = run.stop_at
    result.log = run.log
    payload = run.payload or {"results": {}, "cell_errors": [], "stopped_at": None, "interrupted": False}
    if payload.get("interrupted") and stop_at is None:
        where = payload.get("stopped_at")
        if isinstance(where, int) and 0 <= where < len(cells):
            result.hung_at = where
        cell = (f" in code cell {where + 1} ({first_line(cells[where])})"
                if isinstance(where, int) and 0 <= where < len(cells) else "")
        result.notes.append(f"{prefix}: timed out after {timeout:g} s{cell}; later cells not run")
    result.cell_errors = [[index + 1, text] for index, text in payload.get("cell_errors", [])]
    result.cpu_seconds = payload.get("cpu", 0.0)  # 0 when the worker died: not measured
    result.flags += [flag for flag in payload.get("flags", []) if flag not in result.flags]
    result.notes += [note for note in payload.get("notes", []) if note not in result.notes]
    stopped = payload.get("interrupted") or stop_at is not None
    workbook_errors = set()   # exercises whose check is the workbook's to fix (a note says so): no run fixes that
    for exercise_id in ids:
        outcome = payload["results"].get(exercise_id)
        if exercise_id in run.skip_exercises:
            outcome = {"status": "failed", "message": f"checking your code {run.skip_exercises[exercise_id]}."}
        elif outcome is None:
            outcome = {"status": "failed", "message": "not graded: the notebook did not finish."}
        elif outcome.get("missing"):
            names = ", ".join(f"`{name}`" for name in outcome["missing"])
            why = " (the notebook stopped before it)" if stopped else ""
            result.notes.append(f"{exercise_id}: {names} not defined{why}")
            outcome = {"status": "failed",
                       "message": f"{names} is not defined in your notebook{why}: keep the name the exercise "
                                  "gives, and run its cell."}
        elif outcome.get("grading_error"):
            workbook_errors.add(exercise_id)
        elif outcome.get("timed_out"):
            result.notes.append(f"{exercise_id}: its check timed out after {timeout:g} s")
        points = EXERCISES[exercise_id].points if outcome["status"] == "passed" else 0
        result.grades[exercise_id] = ExerciseGrade(exercise_id, outcome["status"], outcome.get("message", ""),
                                                   points, outcome.get("visible_status"),
                                                   outcome.get("visible_message", ""))
    result.skipped_cells = len(skippable)
    undefined = any(text.startswith(("NameError", "UnboundLocalError")) for _index, text in result.cell_errors)
    failed = any(grade.status == "failed" for exercise_id, grade in result.grades.items()
                 if exercise_id not in workbook_errors)
    return result, bool(skippable) and (failed or undefined)


def file_result(task, result, lock):
    """Put ``task``'s graded notebook in the student's record: with what was found before it ran, and, when
    several files could be the lesson, once the last of them is graded, the best of them."""
    result.notebook = task.shown_as or result.notebook
    if task.planned is not None:  # what was found before it ran stays with the result
        result.notes[:0] = task.planned.notes
        result.flags[:0] = task.planned.flags
    if task.candidates is None:
        task.student.notebooks[task.lesson] = result
    else:
        with lock:
            task.candidates.append((task, result))
            if len(task.candidates) == task.size:
                keep_best(task.student, task.lesson, task.candidates)


def keep_best(grade, lesson, candidates):
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
