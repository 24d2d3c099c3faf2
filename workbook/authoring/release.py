"""Make the student notebooks in notebooks/ from the solutions in solutions/.

solutions/ is the one source. In it, each exercise is a function whose body
holds the answer between nbgrader's markers:

    # Exercise 3.2: Build the provisioning URI
    def provisioning_uri(secret, account_name):
        ### BEGIN SOLUTION
        return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=ISSUER)
        ### END SOLUTION

The release replaces everything from BEGIN to END with one line that raises
NotImplementedError("Exercise 3.2: Build the provisioning URI"), so that the
student's notebook still runs top to bottom and every check shows ⏳.

A question's cell holds its answer at the top level instead:

    # Question 2.Q1: What the signature protects
    ### BEGIN SOLUTION
    answer_2_q1 = "b"
    ### END SOLUTION

and the release leaves ``answer_2_q1 = None`` in its place (⏳ until the student picks a letter).
Outputs and execution counts are removed from both folders.
"""
import re

from .. import ROOT

SOLUTIONS = ROOT / "solutions"
NOTEBOOKS = ROOT / "notebooks"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
EXERCISE_LINE = re.compile(r"^#\s*(Exercise\s+(\d+\.A?\d+)\s*:\s*.+?)\s*$", re.M)
QUESTION_LINE = re.compile(r"^#\s*(Question\s+(\d+\.Q\d+)\s*:\s*.+?)\s*$", re.M)
QUESTION_STUB = "{name} = None   # put the letter of your answer here, in quotes"


class ReleaseError(ValueError):
    """A solution notebook breaks the conventions above; the message says where."""


def strip_outputs(notebook):
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return notebook


def stub_source(source: str, where: str) -> str:
    """The cell's source with each answer replaced by a NotImplementedError stub."""
    if BEGIN not in source:
        return source
    heading = EXERCISE_LINE.search(source)
    if heading is None and QUESTION_LINE.search(source):
        return _question_stub(source, where)
    if heading is None:
        raise ReleaseError(f"{where}: a cell with {BEGIN} must start with a line '# Exercise N.M: title'.")
    message = heading.group(1)
    lines, out, inside = source.split("\n"), [], False
    for number, line in enumerate(lines, 1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise ReleaseError(f"{where}, line {number}: {BEGIN} inside another solution.")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            if not indent:
                raise ReleaseError(f"{where}, line {number}: put the solution inside a function body.")
            out.append(f"{indent}raise NotImplementedError({message!r})")
        elif marker == END:
            if not inside:
                raise ReleaseError(f"{where}, line {number}: {END} without {BEGIN}.")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ReleaseError(f"{where}: {BEGIN} without {END}.")
    return "\n".join(out)


def _question_stub(source, where):
    """A question cell with its answer (one top-level assignment) set back to None."""
    lines, out, inside, names = source.split("\n"), [], False, []
    for number, line in enumerate(lines, 1):
        marker = line.strip()
        if marker == BEGIN:
            if inside or line != marker:
                raise ReleaseError(f"{where}, line {number}: a question's {BEGIN} stands alone at the top level.")
            inside = True
        elif marker == END:
            if not inside:
                raise ReleaseError(f"{where}, line {number}: {END} without {BEGIN}.")
            inside = False
            if len(names) != 1:
                raise ReleaseError(f"{where}: a question's answer is one assignment, answer_N_qM = \"letter\".")
            out.append(QUESTION_STUB.format(name=names.pop()))
        elif inside:
            match = re.match(r"(answer_\d+_q\d+)\s*=", line)
            if match:
                names.append(match[1])
            elif line.strip():
                raise ReleaseError(f"{where}, line {number}: a question's answer is one assignment only.")
        else:
            out.append(line)
    if inside:
        raise ReleaseError(f"{where}: {BEGIN} without {END}.")
    return "\n".join(out)


def student_version(solution):
    """A copy of a solution notebook with the answers taken out."""
    import nbformat  # here, not at the top: the grader imports this module for stub_source alone,
    # and nbformat's schema validator costs it a second of start-up
    student = nbformat.from_dict(solution)
    strip_outputs(student)
    for index, cell in enumerate(student.cells):
        if cell.cell_type == "code":
            cell.source = stub_source(cell.source, f"cell {index}")
    return student


def exercise_ids(notebook):
    """The ids of the exercises in a notebook, in order."""
    return [m.group(2) for cell in notebook.cells if cell.cell_type == "code" and BEGIN in cell.source
            for m in [EXERCISE_LINE.search(cell.source)] if m]


def question_ids(notebook):
    """The ids of the questions in a notebook, in order."""
    return [m.group(2) for cell in notebook.cells if cell.cell_type == "code" and BEGIN in cell.source
            for m in [QUESTION_LINE.search(cell.source)] if m]


def release(check=False):
    """Write notebooks/ from solutions/ (or, with ``check``, list what is out of date)."""
    import nbformat
    stale = []
    NOTEBOOKS.mkdir(exist_ok=True)
    for solution_path in sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb")):
        solution = nbformat.read(solution_path, as_version=4)
        try:
            student = student_version(solution)
        except ReleaseError as error:
            raise ReleaseError(f"{solution_path.name}: {error}") from None
        for path, notebook in ((solution_path, strip_outputs(solution)), (NOTEBOOKS / solution_path.name, student)):
            text = nbformat.writes(notebook) + "\n"
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path)
                if not check:
                    path.write_text(text, encoding="utf-8")
    extra = {p.name for p in NOTEBOOKS.glob("*.ipynb")} - {p.name for p in SOLUTIONS.glob("*.ipynb")}
    stale += [NOTEBOOKS / name for name in sorted(extra)]
    if not check:
        for name in extra:
            (NOTEBOOKS / name).unlink()
    return stale
