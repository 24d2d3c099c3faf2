"""Integrity flags read from what a student handed in, before anything runs.

A flag is a note for the instructor to look into, never a mark: a student who
copied the solutions still gets the marks the checks give, with a flag beside them.
What the running notebook did (a forged result, patched checks) is flagged by
worker.py and grader.py; this module reads the sources:

* the solutions' ``### BEGIN SOLUTION`` markers, or an answer identical to the one in solutions/
* names of the checks' and the grader's internals (reference helpers, the registry)
* a class with ``__eq__`` (an object that equals anything can fool a check)
* the same answer in several students' notebooks (``shared_answers``)
* a my_app/ that is an untouched copy of a stage in app_steps/

Notes (not flags) for the student: a name an exercise grades defined in more than one cell.
"""
import ast
import re
from functools import cache

from .. import ROOT
from ..authoring.release import BEGIN, END, EXERCISE_LINE, stub_source

MIN_ANSWER_LINES = 3   # an answer this short can match the solution (or a classmate's) by chance
INTERNALS = re.compile(r"\b(_reference_\w+|contract_uri|EXERCISES|run_check|workbook\.grading|"
                       r"workbook\.checks\.lesson_\d+|_restore_checks|_other_exercise_stub)\b")


def _normalise(source):
    """Code without comments, blank lines or trailing spaces: what 'the same text' means here."""
    lines = []
    for line in source.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).rstrip()
        if line.strip():
            lines.append(line)
    return "\n".join(lines)


def answer_cells(cells):
    """{exercise id: source} of the cells that start with '# Exercise N.M:' (the last one wins)."""
    found = {}
    for source in cells:
        heading = EXERCISE_LINE.search(source)
        if heading and source.lstrip().startswith("#"):
            found[heading.group(2)] = source
    return found


@cache
def _solution_answers(lesson):
    """{exercise id: (normalised solution, normalised stub)} for the lesson's solution notebook."""
    from .files import read_code_cells
    paths = sorted((ROOT / "solutions").glob(f"{lesson:02d}_*.ipynb"))
    if not paths:
        return {}
    answers = {}
    for exercise_id, source in answer_cells(read_code_cells(paths[0])).items():
        if BEGIN not in source:
            continue
        answer = "\n".join(line for line in source.splitlines() if line.strip() not in (BEGIN, END))
        answers[exercise_id] = (_normalise(answer), _normalise(stub_source(source, exercise_id)),
                                _answer_lines(source))
    return answers


def _answer_lines(source):
    """How many non-blank lines lie between the solution markers."""
    inside, count = False, 0
    for line in source.splitlines():
        if line.strip() == BEGIN:
            inside = True
        elif line.strip() == END:
            inside = False
        elif inside and line.strip():
            count += 1
    return count


def notebook_flags(lesson, cells):
    """Integrity flags for one lesson's notebook, from its code cells' sources."""
    flags = []
    marked = [index + 1 for index, source in enumerate(cells) if BEGIN in source or END in source]
    if marked:
        flags.append(f"solution markers ({BEGIN}) in code cell {_list(marked)}: copied from solutions/")
    solutions = _solution_answers(lesson)
    identical = sorted(exercise_id for exercise_id, source in answer_cells(cells).items()
                       if exercise_id in solutions and solutions[exercise_id][2] >= MIN_ANSWER_LINES
                       and _normalise(source) == solutions[exercise_id][0])
    if identical and not marked:
        flags.append(f"answer to {_list(identical)} identical to the text in solutions/")
    internals = sorted({match.group(1) for source in cells for match in INTERNALS.finditer(source)})
    if internals:
        flags.append(f"uses the checks' or the grader's internals: {', '.join(internals[:5])}")
    if any(re.search(r"\bdef\s+__eq__\b|__eq__\s*=", source) for source in cells):
        flags.append("defines __eq__: an object that equals anything can fool a check")
    return flags


def _list(items):
    items = [str(item) for item in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _top_level_definitions(source):
    """Names a cell binds at its top level (def, class, assignment); empty when it is not plain Python."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {target.id for target in targets if isinstance(target, ast.Name)}
    return names


def redefinitions(cells, names):
    """Notes for each graded name defined in more than one code cell: the last definition is what is graded."""
    notes = []
    names = [name for name in names if any(name in source for source in cells)]
    defined = [_top_level_definitions(source) if any(name in source for name in names) else set()
               for source in cells]
    for name in names:
        where = [index + 1 for index, found in enumerate(defined) if name in found]
        if len(where) > 1:
            notes.append(f"`{name}` is defined in code cells {_list(where)}: the last one (cell {where[-1]}) "
                         "was graded")
    return notes


def shared_answers(students_cells):
    """{student: [flag]} for answers (of MIN_ANSWER_LINES lines or more) that several students share word for word.

    ``students_cells``: {student: {lesson: [code cell sources]}}. Unchanged stubs and the solutions'
    own text (flagged on its own) do not count.
    """
    owners = {}
    for student, lessons in students_cells.items():
        for lesson, cells in lessons.items():
            solutions = _solution_answers(lesson)
            for exercise_id, source in answer_cells(cells).items():
                text = _normalise(source)
                if exercise_id in solutions and text in solutions[exercise_id][:2]:
                    continue  # the solution's own text (flagged on its own when long enough), or the stub
                stub = _normalise(stub_source(source, exercise_id)) if BEGIN in source else None
                if text == stub or len(text.splitlines()) < MIN_ANSWER_LINES + 1 or "NotImplementedError" in text:
                    continue  # the def line is not the student's own (the heading, a comment, is left out)
                owners.setdefault((exercise_id, text), set()).add(student)
    flags = {}
    for (exercise_id, _text), group in sorted(owners.items()):
        if len(group) > 1:
            for student in sorted(group):
                others = ", ".join(sorted(group - {student}))
                flags.setdefault(student, []).append(f"answer to {exercise_id} identical to {others}'s")
    return flags


def app_copy_of_stage(app_folder):
    """The stage number when ``app_folder`` is an untouched copy of an app_steps/ stage, else None."""
    from ..my_app import _same_files
    from ..stages import STAGES
    for stage in STAGES:
        if _same_files(app_folder, stage.folder):
            return stage.number
    return None
