"""Integrity flags read from what a student handed in, before anything runs.

A flag is a note for the instructor to look into, never a mark: a student who
copied the solutions still gets the marks the checks give, with a flag beside them.
What the running notebook did (threads left running, a borrowed answer) is flagged by
worker.py; this module reads the sources:

* the solutions' ``### BEGIN SOLUTION`` markers, or an answer that is the one in solutions/
* names of the checks' and the grader's internals (reference helpers, the registry)
* a class with ``__eq__`` (an object that equals anything can fool a check)
* the same answer in several students' notebooks (``shared_answers``)
* a my_app/ that is a copy of a stage in app_steps/, or of a classmate's (``shared_apps``)

"The same" survives small edits: code is compared once comments, docstrings, names and
layout are set aside, and a pair counts from a similarity of similarity.THRESHOLD (similarity.py).

Notes (not flags) for the student: a name an exercise grades defined in more than one cell.
"""
import ast
import re
from functools import cache

from .. import ROOT
from ..authoring.release import BEGIN, END, EXERCISE_LINE, stub_source
from .similarity import alike, app_fingerprint, fingerprint

INTERNALS = re.compile(r"\b(_reference_\w+|contract_uri|EXERCISES|run_check|workbook\.grading|"
                       r"workbook\.checks\.lesson_\d+|_restore_checks|_other_exercise_stub|"
                       # reaching for the grading process's own objects (none are in the student's process)
                       r"gc\.get_objects|multiprocessing\.connection|sys\._getframe)\b")


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
        answers[exercise_id] = (fingerprint(answer), fingerprint(stub_source(source, exercise_id)))
    return answers


def notebook_flags(lesson, cells):
    """Integrity flags for one lesson's notebook, from its code cells' sources."""
    flags = []
    marked = [index + 1 for index, source in enumerate(cells) if BEGIN in source or END in source]
    if marked:
        flags.append(f"solution markers ({BEGIN}) in code cell {_list(marked)}: copied from solutions/")
    solutions = _solution_answers(lesson)
    copied = sorted((exercise_id, score) for exercise_id, source in answer_cells(cells).items()
                    if exercise_id in solutions
                    for score in [alike(fingerprint(source), solutions[exercise_id][0])] if score is not None)
    if copied and not marked:
        flags.append(f"answer to {_list(f'{i} ({score:.2f})' for i, score in copied)} the same as in solutions/ "
                     "(similarity, with comments, docstrings and names set aside)")
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
    """{student: [flag]} for answers several students share (similarity.THRESHOLD or more, small edits aside).

    ``students_cells``: {student: {lesson: [code cell sources]}}. Unchanged stubs and answers that are the
    solutions' own (flagged on their own) are not compared.
    """
    answers = {}   # exercise id -> [(student, fingerprint)]
    for student, lessons in students_cells.items():
        for lesson, cells in lessons.items():
            solutions = _solution_answers(lesson)
            for exercise_id, source in answer_cells(cells).items():
                if "NotImplementedError" in source:
                    continue  # a stub, or an answer not started
                mine = fingerprint(source)
                if exercise_id in solutions and any(alike(mine, theirs) for theirs in solutions[exercise_id]):
                    continue
                answers.setdefault(exercise_id, []).append((student, mine))
    flags = {}
    for exercise_id in sorted(answers):
        found = answers[exercise_id]
        for index, (student, mine) in enumerate(found):
            for other, theirs in found[index + 1:]:
                score = alike(mine, theirs)
                if score is not None and other != student:
                    flags.setdefault(student, []).append(f"answer to {exercise_id} like {other}'s ({score:.2f})")
                    flags.setdefault(other, []).append(f"answer to {exercise_id} like {student}'s ({score:.2f})")
    return flags


@cache
def _stage_fingerprints():
    from ..stages import STAGES
    return {stage.number: app_fingerprint(stage.folder) for stage in STAGES}


def app_copy_of_stage(app_folder):
    """(stage number, similarity) of the app_steps/ stage ``app_folder`` is a copy of (small edits aside), else None."""
    mine = app_fingerprint(app_folder)
    scores = [(score, number) for number, theirs in _stage_fingerprints().items()
              for score in [alike(mine, theirs)] if score is not None]
    return (max(scores)[1], max(scores)[0]) if scores else None


def app_untouched(app_folder, number):
    """True when ``app_folder`` holds exactly the files start_from copies from stage ``number``, unchanged."""
    from ..my_app import _same_files
    from ..stages import stage
    return _same_files(app_folder, stage(number).folder)


def shared_apps(apps):
    """{student: [flag]} for my_app/ folders several students share (small edits aside).

    ``apps``: {student: app fingerprint}, of the apps that are not a stage's copy (flagged on their own).
    """
    flags, names = {}, sorted(apps)
    for index, student in enumerate(names):
        for other in names[index + 1:]:
            score = alike(apps[student], apps[other])
            if score is not None:
                flags.setdefault(student, []).append(f"my_app like {other}'s ({score:.2f})")
                flags.setdefault(other, []).append(f"my_app like {student}'s ({score:.2f})")
    return flags
