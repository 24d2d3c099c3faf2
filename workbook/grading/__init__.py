"""Grade a class: ``python -m workbook grade SUBMISSIONS --out report.csv``.

Each ``SUBMISSIONS/<student>/`` holds that student's ``notebooks/*.ipynb`` and,
optionally, ``my_app/``. For every lesson that has exercises, the student's
notebook runs in a student process of its own (sandboxed: remote.py), in a scratch
copy of their notebooks/ folder (the submission is only ever read), and then every
exercise of the lesson is graded by the package's own checks, hidden checks
included, in the judge (the grading worker) on stand-ins for what the notebook
defined. ``my_app/`` gets the highest stage whose behaviour tests (tests/stages) it
passes, on its own scratch copy. Results go to report.csv, report.html and
feedback/<student>.md.

The same grading runs on Gradescope, one submission per container
(``python -m workbook autograder``, gradescope.py), and on the student's own
machine (``python -m workbook check``): the marks are the same everywhere.

The modules, one job each:

    model.py          results (StudentGrade, ...) and tasks (NotebookTask, AppTask)
    files.py          finding submissions and notebooks (as students name them, zips), reading them, scratch copies
    integrity.py      integrity flags read from the sources (solution text, internals, shared answers)
    similarity.py     code compared with comments, docstrings and names set aside (the copy flags)
    remote.py         the sandbox (handout, zygote, nobody, namespaces), the judge's side of a student process
                      and its proxies: only plain values cross, the student's objects stay where they are
    child.py          the student's side: the zygote, a keeper per process, the student process's requests
    grader.py         Grader: the class's tasks in parallel, a notebook graded fast then whole if need be;
                      by job below it:
    plan.py           which files of which student are graded, what runs (skippable cells), the copy flags' inputs
    run.py            running a notebook or a my_app/ on the engine's workers: time limits, re-runs, the sandbox
    collect.py        a notebook's runs turned into its NotebookGrade; the best of several files kept
    demo_cells.py     which cells grading may skip (demonstrations, check cells)
    engine.py         starting and ending a worker process (fork server or fresh python)
    worker.py         inside the worker: the judge (cells sent to the student process, the checks run here),
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

No kernel: the student process runs cells with IPython's ``InteractiveShell.run_cell``,
which is what ipykernel runs cells with (magics, ``!`` commands and display
work the same), without ZeroMQ, a Jupyter client or a kernel spec. Every
notebook gets its own student process, which no other notebook's code has touched:
forked from the grading run's zygote (child.py), which imported the libraries and the
handout's workbook once and never runs student code. The judge that sends it the cells
and runs the checks is a worker forked from the grader's fork server (or a fresh
``python -m workbook.grading.worker`` where fork servers are unavailable).
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
A mark comes only from evidence, computed where the student's code cannot reach it. The
notebook's cells run in a student process (child.py) whose ``workbook`` is the handout's
(visible checks only: no hidden checks, no grader, no solutions); the checks, visible and
hidden, run in the judge (worker.py) on stand-ins (remote.py): a plain value (None, bool,
int, float, str, bytes, lists, tuples and dicts of them, exact types: student_side.py) is
copied across, anything else stays in the student process and is reached through a proxy
that refuses ==, hash() and private names, so a check compares plain values only. The
judge's channel, the hidden checks, the reference answers and the verdicts are never in the
student process: a cell that forges "all passed", patches the checks, ``run_check``,
``pyotp`` or ``hmac``, or leaves a thread doing so gets nothing from it, and an ``int``
whose ``==`` says yes never leaves the student process. A check that still hands the
student's code an object of the judge's is refused before anything is sent, and the grade's
notes call it a grading error of the workbook, not the student's (and it does not make the
notebook run again). An app's stage comes from pytest's report of each test
(testing/stage_outcomes.py), never from an exit code. integrity.py flags the solutions'
text or markers, the checks' internals and reaching for the grader's objects
(``gc.get_objects``), ``__eq__``, answers shared between students, an untouched stage app;
the judge flags threads left running and a borrowed answer. A flag is a note for the
instructor, never a mark.

The sandbox (remote.Sandbox, one per grading run): as root where ``unshare`` may make
namespaces, the student process runs as ``nobody``, in a PID namespace of its own (it is
pid 1 there: ``os.kill(-1, 9)`` ends only its own processes, and it cannot signal the
grader or another student's process), in a mount namespace where the grader's folder
(``workbook.ROOT``) and /root are empty tmpfs but for the Python it runs (bound back
read-only) and the hidden checks file reads as empty; its scratch folder is under a name
no other student can guess. Where the machine cannot (not root: a student's laptop running
``check``; root without namespaces: some containers), the same student process runs as the
grader's user (or as nobody without namespaces), and every student's notes say so. Tests
play each trick through ``grade``, ``check`` and what ``run_autograder`` runs
(tests/test_grading_tricks.py) and measure the sandbox (tests/test_grading_remote.py; with
``CI=true`` a machine that should sandbox and did not fails).

More, since issue 20: run_check refuses the workbook's own functions (its package's, the
reference apps' in app_steps/, however loaded) as answers (for a notebook, the student
process's run_check answers that question: advisory, the source flags stand beside it); a
test the app skipped or never let run is a failure, and a run in which the app patched
pytest's own functions gives no stage (both flagged by apps.py); the copy flags (shared
answers and apps, the solutions' and the stage apps' code) survive small edits
(similarity.py).

What remains: the student's functions may compute their outputs any way they like (the
judge sees only outputs, for inputs the checks draw when they run), read files every user
may read, and use the CPU and time they are given (``--timeout``). Without the sandbox
(said in the notes), a cell can read and change what the grader's user can, and
``os.kill(-1, 9)`` ends that user's processes. The app stages' own threat model is in
workbook/grading/apps.py.
"""
from .files import NotebookError, choose_notebook, find_students, read_code_cells
from .grader import DEFAULT_TIMEOUT, Grader, load_exercises
from .model import AppGrade, ClassGrades, ExerciseGrade, GradingError, NotebookGrade, StageRun, StudentGrade

__all__ = ["AppGrade", "ClassGrades", "DEFAULT_TIMEOUT", "ExerciseGrade", "Grader", "GradingError",
           "NotebookError", "NotebookGrade", "StageRun", "StudentGrade", "choose_notebook", "find_students",
           "load_exercises", "read_code_cells"]
