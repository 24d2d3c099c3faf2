"""``python -m workbook check`` in the students' repository (the handout), where there is no grader.

Each of your lessons in notebooks/ runs in a fresh kernel (nbclient, errors allowed, as "Run
all"), then every exercise of the lesson is checked with the checks you can see, whatever
became of the check cells, and the marks are added up. Your instructor's grade runs the
same checks and a few hidden ones more. In the instructor's repository ``check`` is the
grader itself (workbook/grading/command.py).
"""
import json
import re
from pathlib import Path

MARKER = "@@workbook-check@@"
LESSON_FILE = re.compile(r"^(?:copy[ _]of[ _])?(\d{1,2})(?:[_ -].*)?\.ipynb$", re.IGNORECASE)

# Run in the notebook's kernel after its cells: each exercise's check on what the notebook defined.
CHECK_ALL = """
import json as _json
from workbook.checks import EXERCISES as _EXERCISES, load_all as _load_all, run_check as _run_check
_load_all()
_results = {}
for _id in IDS:
    _uses = _EXERCISES[_id].uses
    if all(_name in globals() for _name in _uses):
        _result = _run_check(_id, *[globals()[_name] for _name in _uses])
        _results[_id] = [_result.status, _result.line()]
    else:
        _results[_id] = ["failed", "❌ Exercise " + _id + ": " + ", ".join(_uses) + " is not defined in your notebook."]
print(MARKER + _json.dumps(_results))
"""


def check_notebook(path, ids, timeout=120):
    """{exercise id: (status, line)} for the notebook at ``path``."""
    import nbformat
    from nbclient import NotebookClient
    notebook = nbformat.read(path, as_version=4)
    source = CHECK_ALL.replace("IDS", repr(list(ids))).replace("MARKER", repr(MARKER))
    notebook.cells.append(nbformat.v4.new_code_cell(source))
    NotebookClient(notebook, timeout=timeout, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    for output in notebook.cells[-1].outputs:
        for line in output.get("text", "").splitlines():
            if line.startswith(MARKER):
                return {key: tuple(value) for key, value in json.loads(line[len(MARKER):]).items()}
    return {exercise_id: ("failed", f"❌ Exercise {exercise_id}: the notebook did not finish.") for exercise_id in ids}


# GitHub Classroom's steps (the workflow workbook/grading/classroom.py writes): ``check --classroom-grade``
# saves each exercise's line and points here, ``check --classroom ID`` prints one and exits 0 when it
# earned its points. The same file and format as the instructor's repository's grader writes.
CLASSROOM_RESULTS = ".classroom-results.json"


def classroom_result(folder, exercise_id):
    """Print the exercise's saved line; 0 when it earned its points (GitHub Classroom's command grader)."""
    try:
        saved = json.loads((Path(folder) / CLASSROOM_RESULTS).read_text(encoding="utf-8"))[exercise_id]
    except (OSError, ValueError, KeyError):
        print(f"⏳ Exercise {exercise_id}: not graded (the grading step did not run or failed).")
        return 1
    print(f"{saved['line']}  [{saved['points']}/{saved['max_score']}]")
    return 0 if saved["points"] == saved["max_score"] else 1


def main(folder, timeout=120, classroom_grade=False, classroom=None):
    """Print every exercise's line and mark, and the total; return the exit code.

    ``classroom_grade``: also save the results for GitHub Classroom's steps; ``classroom``: print one
    exercise's saved result instead (see CLASSROOM_RESULTS).
    """
    if classroom:
        return classroom_result(folder, classroom)
    from .checks import load_all
    exercises = load_all()
    saved = {}
    (Path(folder) / CLASSROOM_RESULTS).unlink(missing_ok=True)   # never an earlier run's, or one committed
    notebooks = Path(folder) / "notebooks"
    if not notebooks.is_dir():
        print(f"python -m workbook check: error: no notebooks/ folder in {folder}")
        return 2
    found = {}
    for path in sorted(notebooks.glob("*.ipynb")):
        match = LESSON_FILE.match(path.name)
        if match:
            found.setdefault(int(match.group(1)), path)
    total = 0
    for lesson in sorted({exercise.lesson for exercise in exercises.values()}):
        ids = [i for i, e in exercises.items() if e.lesson == lesson]
        path = found.get(lesson)
        print(f"\nLesson {lesson:02d}" + (f" ({path.name})" if path else ": no notebook"))
        results = check_notebook(path, ids, timeout) if path else {}
        for exercise_id in ids:
            status, line = results.get(exercise_id, ("failed", f"❌ Exercise {exercise_id}: no notebook."))
            points = exercises[exercise_id].points if status == "passed" else 0
            total += points
            saved[exercise_id] = {"points": points, "max_score": exercises[exercise_id].points, "line": line}
            print(f"  {line}  [{points}/{exercises[exercise_id].points}]")
    maximum = sum(e.points for e in exercises.values())
    print(f"\nTotal: {total} / {maximum} (the checks you can see; your instructor's grade also runs hidden ones)")
    if classroom_grade:
        (Path(folder) / CLASSROOM_RESULTS).write_text(json.dumps(saved, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0
