"""A messy class, as an instructor really gets it, built in a temporary folder from solutions/ and notebooks/.

Issue 14's class of nine, with additions: renamed files, a folder with no notebooks/, answers in
odd cells, input() and a long sleep, %pip in a cell, an old nbformat file, broken apps, a zip,
students trying to pass without solving, two who share an answer, one who finished an exercise
that calls another's stub. ``build_class(root)`` writes it and returns what a careful instructor
would give each student: ``EXPECTED[student] = {"points": {exercise: points}, ...}``.
Nothing here is committed as a binary: every file is made from the repository's notebooks.
"""
import re
import shutil
import zipfile

import nbformat

from workbook import ROOT
from workbook.authoring.release import BEGIN, END
from workbook.checks import load_all

EXERCISES = load_all()
LESSON_FILES = {int(p.name[:2]): p.name for p in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")}


def lesson_ids(lesson):
    return [i for i, e in EXERCISES.items() if e.lesson == lesson]


def full(lesson):
    return {i: EXERCISES[i].points for i in lesson_ids(lesson)}


def zero(lesson):
    return {i: 0 for i in lesson_ids(lesson)}


def released(lesson):
    """The student's notebook as released: every exercise a stub."""
    return nbformat.read(ROOT / "notebooks" / LESSON_FILES[lesson], as_version=4)


def answered(lesson, author):
    """The solution with the answers written by ``author``: the markers gone, a line of their own added.

    (A copy of solutions/ word for word is what the integrity flags look for; honest students
    each write their own.)
    """
    notebook = nbformat.read(ROOT / "solutions" / LESSON_FILES[lesson], as_version=4)
    tag = re.sub(r"\W", "_", author)
    for cell in notebook.cells:
        if cell.cell_type == "code" and BEGIN in cell.source:
            lines = []
            for line in cell.source.split("\n"):
                if line.strip() == BEGIN:
                    lines.append(line.replace(BEGIN, f"written_by = {tag!r}"))
                elif line.strip() != END:
                    lines.append(line)
            cell.source = "\n".join(lines)
    return notebook


def solution_copy(lesson):
    return nbformat.read(ROOT / "solutions" / LESSON_FILES[lesson], as_version=4)


def exercise_cell(notebook, exercise_id):
    return next(i for i, c in enumerate(notebook.cells)
                if c.cell_type == "code" and c.source.lstrip().startswith(f"# Exercise {exercise_id}:"))


def with_cell(notebook, source, after=None):
    """A copy with a new code cell: after exercise ``after``'s check cell, or at the end."""
    notebook = nbformat.from_dict(notebook)
    at = len(notebook.cells) if after is None else exercise_cell(notebook, after) + 2
    notebook.cells.insert(at, nbformat.v4.new_code_cell(source))
    return notebook


def code_cell_number(notebook, index):
    """The 1-based number among code cells (as the grader's notes count) of cell ``index``."""
    return sum(1 for c in notebook.cells[: index + 1] if c.cell_type == "code")


def write(notebook, path, version=4):
    path.parent.mkdir(parents=True, exist_ok=True)
    if version == 4:
        nbformat.write(notebook, path)
    else:
        path.write_text(nbformat.writes(nbformat.convert(notebook, version), version=version), encoding="utf-8")


def stage_6_with_one_bug(folder):
    """Stage 6's app whose logout forgets to clear the session: one stage 6 test fails."""
    copy_stage(6, folder)
    views = folder / "auth.py"
    source = views.read_text(encoding="utf-8")
    bug = "    session.clear()\n    flash(\"You are logged out.\")"
    assert bug in source, "stage 6's logout changed: update this fixture"
    views.write_text(source.replace(bug, "    flash(\"You are logged out.\")"), encoding="utf-8")
    return folder


def copy_stage(number, folder):
    stage = next((ROOT / "app_steps").glob(f"step_{number:02d}_*"))
    shutil.copytree(stage, folder, ignore=shutil.ignore_patterns("__pycache__", "instance", "CHANGES.diff"))
    return folder


SKIPPING_APP = """import pytest
pytest.skip("nothing to see here", allow_module_level=True)
"""

# Every test "passes" once the app is loaded: pytest's own runner is rebound by the app's import.
PATCHING_APP = """
from _pytest.python import Function
Function.runtest = lambda self: None
"""


def skipping_app(folder):
    folder.mkdir(parents=True)
    (folder / "app.py").write_text(SKIPPING_APP, encoding="utf-8")
    return folder


def patching_app(folder):
    copy_stage(1, folder)
    with open(folder / "app.py", "a", encoding="utf-8") as handle:
        handle.write(PATCHING_APP)
    return folder


FORGE_DONE = """
import gc
from multiprocessing.connection import Connection
conn = next(o for o in gc.get_objects() if isinstance(o, Connection) and not o.closed)
results = {i: {"status": "passed", "message": ""} for i in ("2.1", "2.2", "2.3", "2.4")}
conn.send(("done", {"payload": {"results": results, "cell_errors": [], "stopped_at": None,
                                 "interrupted": False}, "mac": "0" * 64}))
"""

ALWAYS_EQUAL = """# Exercise 0.1: Count the 30-second steps
class Step(int):
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__

def time_step(unix_time):
    return Step(0)"""

BORROWED_URI = """# Exercise 3.1: Build the provisioning URI
from workbook.checks.lesson_03 import contract_uri

def provisioning_uri(secret, account_name):
    return contract_uri(secret, account_name)"""

BORROWED_GROUPED = """# Exercise 4.1: Group the manual key in fours
from workbook.app_loader import load_module
from workbook.stages import stage

grouped = load_module(stage(4).folder).grouped"""

WRAPPED_NORMALISE = """# Exercise 5.2: Normalise the typed code
def normalise_code(raw):
    return stage5.normalise_code(raw)"""

SHARED_ANSWER = """# Exercise 0.1: Count the 30-second steps
def time_step(unix_time):
    seconds = int(unix_time)
    if seconds < 0:
        raise ValueError("a time before 1970")
    if seconds > 2 ** 40:
        raise ValueError("a time too far ahead")
    steps = seconds // 30
    return steps"""


def build_class(root):
    """Write the class into ``root``; return the expected marks, notes and flags per student."""
    expected = {}

    # 1. Renamed files: an upper-case extension, no leading zero, a "(1)" copy beside the untouched original.
    folder = root / "renamed" / "notebooks"
    write(answered(1, "renamed"), folder / "01_install.IPYNB")
    write(answered(6, "renamed"), folder / "6_login_flow.ipynb")
    write(released(5), folder / "05_verify_route.ipynb")
    write(answered(5, "renamed"), folder / "05_verify_route (1).ipynb")
    expected["renamed"] = {"points": {**full(1), **full(5), **full(6)},
                           "notes": ["01: found notebooks/01_install.IPYNB", "06: found notebooks/6_login_flow.ipynb",
                                     "05: 2 notebooks for this lesson; graded notebooks/05_verify_route (1).ipynb "
                                     f"({sum(full(5).values())} points, the best); "
                                     "notebooks/05_verify_route.ipynb scored 0"],
                           "flags": []}

    # 2. No notebooks/ folder: the notebooks at the top of the student's folder.
    write(answered(0, "no_folder"), root / "no_folder" / LESSON_FILES[0])
    write(answered(2, "no_folder"), root / "no_folder" / LESSON_FILES[2])
    expected["no_folder"] = {"points": {**full(0), **full(2)},
                             "notes": [f"00: found {LESSON_FILES[0]}", f"02: found {LESSON_FILES[2]}"], "flags": []}

    # 3. Answers in odd cells: 0.1 answered in a cell at the very end (its stub cell left as it was).
    notebook = released(0)
    solution = answered(0, "odd_cells")
    notebook = with_cell(notebook, solution.cells[exercise_cell(solution, "0.1")].source)
    stub_at = code_cell_number(notebook, exercise_cell(notebook, "0.1"))
    last = code_cell_number(notebook, len(notebook.cells) - 1)
    write(notebook, root / "odd_cells" / "notebooks" / LESSON_FILES[0])
    expected["odd_cells"] = {"points": {**full(0), "0.2": 0, "0.Q1": 0},  # the question left as released
                             "notes": [f"00: `time_step` is defined in code cells {stub_at} and {last}: "
                                       f"the last one (cell {last}) was graded"], "flags": []}

    # 4. input() and a long sleep: input() gets an EOFError (as Jupyter without a front end), the sleep times out.
    notebook = with_cell(answered(1, "sleepy"), "name = input('Your name? ')", after="1.1")
    notebook = with_cell(notebook, "import time\ntime.sleep(1000)")
    write(notebook, root / "sleepy" / "notebooks" / LESSON_FILES[1])
    expected["sleepy"] = {"points": full(1), "notes": ["01: timed out after"], "flags": []}

    # 5. %pip in a cell: the grader's own pip (nothing to install from: --no-index), answers still graded.
    notebook = with_cell(answered(1, "pip_cell"), "%pip install --no-index --quiet no-such-package-here", after="1.1")
    write(notebook, root / "pip_cell" / "notebooks" / LESSON_FILES[1])
    expected["pip_cell"] = {"points": full(1), "notes": [], "flags": []}

    # 6. An old nbformat (3) file.
    write(answered(1, "old_format"), root / "old_format" / "notebooks" / LESSON_FILES[1], version=3)
    expected["old_format"] = {"points": full(1), "notes": [], "flags": []}

    # 7. Broken apps: a stage 6 app with one bug (logout keeps the session), and one that calls os._exit(0).
    write(answered(0, "broken_app"), root / "broken_app" / "notebooks" / LESSON_FILES[0])
    stage_6_with_one_bug(root / "broken_app" / "my_app")
    # (Stage 6's app less one line is still stage 6's app: flagged, small edits aside. Its grade stands.)
    expected["broken_app"] = {"points": full(0), "notes": [], "app_stage": "0",
                              "flags": ["my_app is a copy of the stage 6 app in app_steps/ (1.00"],
                              "app_failing": ["test_logout_ends_the_session"], "app_next": 6}
    (root / "exit_app" / "my_app").mkdir(parents=True)
    (root / "exit_app" / "my_app" / "app.py").write_text("import os; os._exit(0)\n", encoding="utf-8")
    expected["exit_app"] = {"points": {}, "notes": ["no notebooks/ folder"], "app_stage": "0",
                            "flags": ["my_app: the app ended the test process"]}

    # 8. A zip: notebooks/ and my_app/ zipped inside a top folder.
    staging = root.parent / "zip-staging" / "flask-2fa-workbook"
    write(answered(1, "zipped"), staging / "notebooks" / LESSON_FILES[1])
    app = copy_stage(5, staging / "my_app") / "app.py"
    app.write_text(app.read_text(encoding="utf-8") + "\n# my own copy\n", encoding="utf-8")
    (root / "zipped").mkdir()
    with zipfile.ZipFile(root / "zipped" / "homework.zip", "w") as archive:
        for path in sorted(staging.rglob("*")):
            archive.write(path, path.relative_to(staging.parent))
    shutil.rmtree(staging.parent)
    expected["zipped"] = {"points": full(1), "app_stage": "5",
                          "notes": ["unpacked homework.zip",
                                    f"01: found homework.zip: flask-2fa-workbook/notebooks/{LESSON_FILES[1]}"],
                          # a comment of their own does not hide the copy (issue 20)
                          "flags": ["my_app is a copy of the stage 5 app in app_steps/ (1.00"]}

    # 9. Trying to pass without solving: a forged "all passed", an int that equals anything, the checks'
    #    own reference helper, and a copy of solutions/06 with its markers (that one scores: a flag is no mark).
    folder = root / "gamer" / "notebooks"
    write(with_cell(released(2), FORGE_DONE), folder / LESSON_FILES[2])
    notebook = released(0)
    notebook.cells[exercise_cell(notebook, "0.1")].source = ALWAYS_EQUAL
    write(notebook, folder / LESSON_FILES[0])
    notebook = released(3)
    notebook.cells[exercise_cell(notebook, "3.1")].source = BORROWED_URI
    write(notebook, folder / LESSON_FILES[3])
    write(solution_copy(6), folder / LESSON_FILES[6])
    #    And the reference apps' own functions (issue 20): stage 4's grouped, and a wrapper of stage 5's.
    for lesson, exercise_id, source in ((4, "4.1", BORROWED_GROUPED), (5, "5.2", WRAPPED_NORMALISE)):
        notebook = released(lesson)
        notebook.cells[exercise_cell(notebook, exercise_id)].source = source
        write(notebook, folder / LESSON_FILES[lesson])
    expected["gamer"] = {"points": {**zero(0), **zero(2), **zero(3), **zero(4), **zero(5), **full(6)}, "notes": [],
                         "flags": ["00: defines __eq__", "02: uses the checks' or the grader's internals: gc.get_objects",
                                   "03: uses the checks' or the grader's "
                                   "internals: contract_uri", "06: solution markers",
                                   "04: answer to 4.1: `grouped` is the workbook's own code "
                                   "(app_steps/step_04_template/app.py)",
                                   "05: answer to 5.2: `normalise_code` calls `normalise_code`, which is the "
                                   "workbook's own code (app_steps/step_05_verify_route/app.py)"]}

    # 10. Two students hand in the same answer (not the solution's text); one hands in stage 5's app untouched.
    for name in ("copycat_a", "copycat_b"):
        notebook = released(0)
        notebook.cells[exercise_cell(notebook, "0.1")].source = SHARED_ANSWER
        write(notebook, root / name / "notebooks" / LESSON_FILES[0])
        other = "copycat_b" if name == "copycat_a" else "copycat_a"
        expected[name] = {"points": {**full(0), "0.2": 0, "0.Q1": 0}, "notes": [],
                          "flags": [f"answer to 0.1 like {other}'s (1.00)"]}
    copy_stage(5, root / "copycat_a" / "my_app")
    expected["copycat_a"].update(app_stage="5")
    expected["copycat_a"]["flags"].append("my_app is an untouched copy of the stage 5 app in app_steps/")

    # 11. A finished 2.4 that calls 2.2's stub: ❌ "finish Exercise 2.2 first", not ⏳; 2.2 itself ⏳.
    notebook, solution = released(2), answered(2, "stub_dependent")
    for exercise_id in ("2.1", "2.3", "2.4"):
        at = exercise_cell(solution, exercise_id)
        notebook.cells[exercise_cell(notebook, exercise_id)].source = solution.cells[at].source
    write(notebook, root / "stub_dependent" / "notebooks" / LESSON_FILES[2])
    expected["stub_dependent"] = {"points": {"2.1": 1, "2.2": 0, "2.3": 1, "2.4": 0}, "notes": [], "flags": [],
                                  "statuses": {"2.2": "not done", "2.4": "failed"},
                                  "messages": {"2.4": "still a stub (Exercise 2.2"}}

    # 12. Apps that pass no test by their own merit: one skips every test, one patches pytest's runner.
    skipping_app(root / "skip_app" / "my_app")
    expected["skip_app"] = {"points": {}, "notes": ["no notebooks/ folder"], "app_stage": "0",
                            "flags": ["my_app: the app skipped behaviour tests"]}
    patching_app(root / "patch_app" / "my_app")
    expected["patch_app"] = {"points": {}, "notes": ["no notebooks/ folder"], "app_stage": "0",
                             "flags": ["my_app: the app patched the test process (_pytest.python.Function.runtest)"]}

    # 13. Colab's download name, the answer in a module of the student's own beside it, and a scratch notebook.
    notebook = answered(3, "colab")
    notebook.cells[exercise_cell(notebook, "3.1")].source = (
        "# Exercise 3.1: Build the provisioning URI\nfrom uri_helpers import provisioning_uri")
    write(notebook, root / "colab" / "Copy of 03_qr_code.ipynb")
    (root / "colab" / "uri_helpers.py").write_text(
        "import pyotp\n\n\ndef provisioning_uri(secret, account_name):\n"
        "    totp = pyotp.TOTP(secret)\n    return totp.provisioning_uri(name=account_name, "
        "issuer_name='Flask 2FA Workbook')\n", encoding="utf-8")
    write(released(1), root / "colab" / "scratch.ipynb")
    expected["colab"] = {"points": full(3), "flags": [],
                         "notes": ["03: found Copy of 03_qr_code.ipynb; graded it", "not graded: scratch.ipynb"]}

    # 14. Copies disguised by small edits (issue 20): lesson 03's solutions without their markers and a docstring
    #     line added to each answer; stage 2's app with a word of its docstring changed and no README.
    notebook = solution_copy(3)
    for cell in notebook.cells:
        if cell.cell_type == "code" and BEGIN in cell.source:
            cell.source = "\n".join(line.replace(BEGIN, '"""My own work."""') for line in cell.source.split("\n")
                                    if line.strip() != END)
    write(notebook, root / "disguised" / "notebooks" / LESSON_FILES[3])
    app = copy_stage(2, root / "disguised" / "my_app")
    (app / "README.md").unlink()
    source = (app / "app.py").read_text(encoding="utf-8")
    (app / "app.py").write_text(source.replace('"""Stage 2', '"""Step 2', 1), encoding="utf-8")
    assert source != (app / "app.py").read_text(encoding="utf-8")
    expected["disguised"] = {"points": full(3), "notes": [], "app_stage": "2",
                             "flags": ["03: answer to 3.2 (1.00) and 3.3 (1.00) the same as in solutions/",
                                       "my_app is a copy of the stage 2 app in app_steps/ (1.00"]}

    # 15. A zip of the whole checkout: lesson 01 answered, the rest as released, and the workbook's own
    #     solutions/ and app_steps/ beside them: only notebooks/ is graded (issue 20), and no one is accused.
    checkout = root.parent / "clone-staging" / "flask-2fa-workbook"
    for lesson, name in LESSON_FILES.items():
        write(answered(1, "clone") if lesson == 1 else released(lesson), checkout / "notebooks" / name)
    shutil.copytree(ROOT / "solutions", checkout / "solutions")
    shutil.copytree(ROOT / "app_steps", checkout / "app_steps", ignore=shutil.ignore_patterns("__pycache__", "instance"))
    (root / "clone").mkdir()
    with zipfile.ZipFile(root / "clone" / "checkout.zip", "w") as archive:
        for path in sorted(checkout.rglob("*")):
            archive.write(path, path.relative_to(checkout.parent))
    shutil.rmtree(checkout.parent)
    expected["clone"] = {"points": full(1), "app_stage": "",
                         "notes": ["not graded: checkout.zip: flask-2fa-workbook/app_steps/ (the workbook's stage apps)",
                                   "checkout.zip: flask-2fa-workbook/solutions/ (the workbook's answers)"],
                         "flags": []}
    return expected
