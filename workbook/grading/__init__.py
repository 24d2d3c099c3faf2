"""Grade a class: ``python -m workbook grade SUBMISSIONS --out report.csv``.

Each ``SUBMISSIONS/<student>/`` holds that student's ``notebooks/*.ipynb`` and,
optionally, ``my_app/``. For every lesson that has exercises, the student's
notebook runs in a fresh process, in a scratch copy of their notebooks/ folder
(the submission is only ever read), and then every exercise of the lesson is
graded in that same namespace by the package's own checks, hidden checks
included. ``my_app/`` gets the highest stage whose behaviour tests
(tests/stages) it passes, on its own scratch copy. Results go to report.csv,
report.html and feedback/<student>.md.

The same grading runs on Gradescope, one submission per container
(``python -m workbook autograder``, gradescope.py), and on the student's own
machine (``python -m workbook check``): the marks are the same everywhere.

The modules, one job each:

    model.py          results (StudentGrade, ...) and tasks (NotebookTask, AppTask)
    files.py          finding submissions and notebooks, reading them, scratch copies
    grader.py         Grader: plans tasks, runs them in parallel, grades a notebook
    demo_cells.py     which cells grading may skip (demonstrations, check cells)
    engine.py         starting and ending a worker process (fork server or fresh python)
    worker.py         inside the worker: runs the cells in IPython's InteractiveShell and the checks,
                      or pytest on a my_app/
    preload.py        what the fork server imports once (libraries only, never student code)
    apps.py           grading a my_app/: one test process, the highest stage passed
    stage_outcomes.py the pytest plugin that records each behaviour test's outcome for apps.py
    report.py         report.csv, report.html, feedback/
    command.py        the ``grade`` and ``check`` commands
    gradescope.py     the ``autograder`` command, and run_autograder's grading of one submission

How a notebook runs
-------------------
Only what grading needs runs: a cell whose source is exactly one of the
released notebook's demonstration cells, or a check cell, is skipped; when an
exercise then fails (or a cell meets an undefined name), the notebook is run
again whole and graded on that, so skipping never changes a mark.

No kernel: the worker runs cells with IPython's ``InteractiveShell.run_cell``,
which is what ipykernel runs cells with (magics, ``!`` commands and display
work the same), without ZeroMQ, a Jupyter client or a kernel spec. Every
notebook gets its own process, which no other notebook's code has touched, in
its own process group: the isolation of a fresh interpreter. Workers are forked
from a fork server that has imported the libraries once; where fork servers are
unavailable each worker is a fresh ``python -m workbook.grading.worker``.
How much each way costs is measured by bench/bench_grading.py.

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
from .files import NotebookError, choose_notebook, find_students, read_code_cells
from .grader import DEFAULT_TIMEOUT, Grader, load_exercises
from .model import (AppGrade, ClassGrades, ExerciseGrade, GradingError, NotebookGrade, StageRun,
                    StudentGrade)

__all__ = ["AppGrade", "ClassGrades", "DEFAULT_TIMEOUT", "ExerciseGrade", "Grader", "GradingError",
           "NotebookError", "NotebookGrade", "StageRun", "StudentGrade", "choose_notebook", "find_students",
           "load_exercises", "read_code_cells"]
