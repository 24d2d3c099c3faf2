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
    files.py          finding submissions and notebooks (as students name them, zips), reading them, scratch copies
    integrity.py      integrity flags read from the sources (solution text, internals, shared answers)
    similarity.py     code compared with comments, docstrings and names set aside (the copy flags)
    remote.py         a prototype, not used by the Grader: the checks in the grader's process, the student's
                      cells in a child run as another user, only plain values between them (lesson 00)
    grader.py         Grader: the class's tasks in parallel, a notebook graded fast then whole if need be;
                      by job below it:
    plan.py           which files of which student are graded, what runs (skippable cells), the copy flags' inputs
    run.py            running a notebook or a my_app/ on the engine's workers: time limits, re-runs, signed results
    collect.py        a notebook's runs turned into its NotebookGrade; the best of several files kept
    demo_cells.py     which cells grading may skip (demonstrations, check cells)
    engine.py         starting and ending a worker process (fork server or fresh python)
    worker.py         inside the worker: runs the cells in IPython's InteractiveShell and the checks,
                      or pytest on a my_app/
    preload.py        what the fork server imports once (libraries only, never student code)
    apps.py           grading a my_app/: one test process, the highest stage passed
    report.py         report.csv, report.html, feedback/
    command.py        the ``grade`` and ``check`` commands
    gradescope.py     the ``autograder`` command, and run_autograder's grading of one submission
    instructor_file.py the instructor's adjustments (instructor.json): checked before grading, applied every run
    lms.py            the gradebooks an LMS imports (Canvas, Moodle, csv)
    resume.py         ``grade --resume``: each student's result kept as graded, by their folder's digest
    feedback_page.py  feedback/<student>.html
    classroom.py      GitHub Classroom: the handout's workflow and ``check --classroom``

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
  and the exercises are graded on what was defined by then (when the notebook
  runs again whole, it stops before that cell: the time limit is spent once). A cell that
  ignores the interrupt gets the process killed and the notebook re-run up to
  that cell.
* A cell ends the process (``os._exit``, a signal, a crash): the notebook is
  re-run without that cell (at most 3 runs), with a note.
* Each check also gets ``--timeout`` seconds; a check that hangs or kills the
  process scores 0 for that exercise, with a note.
* Invalid JSON, no notebook for a lesson, no notebooks/ folder: 0, with a note.
* ``input()`` gets end of file at once (stdin is empty), as in a kernel with no front end.
* Whatever the notebook writes lands in its scratch copy; whatever it starts
  (threads, servers, subprocesses) ends with its process group.

Finding the work
----------------
Each lesson's notebook is looked for as students hand it in (files.find_notebooks):
any case of ``.ipynb``, the number with or without its leading zero, ``name (1).ipynb``
copies, Colab's ``Copy of NN_...``, in notebooks/ or at the top of the folder, and inside a
``.zip`` in the folder (unpacked into the scratch space); never in a ``solutions/`` or
``app_steps/`` inside the submission (a zipped checkout: only the student's own work is graded,
and a note says what was left out). The student's own modules beside a notebook go with it into
the grading folder. When several files could be the lesson, each is graded and the best kept;
the notes say what was found and what was graded, and name the notebooks that were not.
A name an exercise grades defined in more than one cell: the last is graded, with a note.

Threat model: marks from evidence, integrity flags, and what remains
--------------------------------------------------------------------
A mark comes only from evidence. An exercise's points come from the workbook's own
checks, run in the worker after the cells; the worker's result counts only when signed
with a secret the grader makes for that run and sends only once every cell has run
(worker.py, run.py): a cell that finds the grader's channel and sends "all passed"
is ignored and flagged. The checks' and the grader's modules are snapshotted before any
student code runs, restored before each check, and any change is flagged; run_check
re-validates its registry; the checks' reference helpers refuse to run for anyone but the
checks. An app's stage comes from pytest's report of each test (testing/stage_outcomes.py), never
from an exit code. integrity.py flags the solutions' text or markers, the checks'
internals, ``__eq__``, answers shared between students, an untouched stage app; apps.py
an app that ends the test process. A flag is a note for the instructor, never a mark.

More, since issue 20: run_check refuses the workbook's own functions (its package's, the
reference apps' in app_steps/, however loaded) as answers; a test the app skipped or never
let run is a failure, and a run in which the app patched pytest's own functions gives no
stage (both flagged by apps.py); the copy flags (shared answers and apps, the solutions' and
the stage apps' code) survive small edits (similarity.py).

Student code cannot change the workbook's own folder through the workbook's paths: it
runs against a scratch copy of it (``workbook.ROOT`` and every path made from it point
there), ``!pip`` and ``!python`` are the grader's environment's, and ``sys.argv`` is a
kernel's, not the grader's command line.

What remains: student code runs as the grader's user, in the same process as the
checks. A determined student who reads this code can replay the worker's protocol from a
cell or a thread (ask for the secret, sign a forged result), patch the libraries the
checks use (hmac, pyotp), read the checks' frames, write anywhere the user can through
absolute paths, or end the user's other processes (``os.kill(-1, 9)``). The flags make the
ordinary attempts visible, not deliberate ones impossible: grade untrusted submissions in
a container or as a separate user without access to solutions/ (Gradescope: one
container per submission, and the autograder zip has no solutions/).
"""
from .files import NotebookError, choose_notebook, find_students, read_code_cells
from .grader import DEFAULT_TIMEOUT, Grader, load_exercises
from .model import AppGrade, ClassGrades, ExerciseGrade, GradingError, NotebookGrade, StageRun, StudentGrade

__all__ = ["AppGrade", "ClassGrades", "DEFAULT_TIMEOUT", "ExerciseGrade", "Grader", "GradingError",
           "NotebookError", "NotebookGrade", "StageRun", "StudentGrade", "choose_notebook", "find_students",
           "load_exercises", "read_code_cells"]
