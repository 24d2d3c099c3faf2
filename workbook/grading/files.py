"""Finding and reading what a student handed in, and the scratch copies the grader works on.

The submission is only ever read: every process works on a copy.
Notebooks are read without nbformat (its schema validation costs about a second per process).
"""
import json
import os
import shutil
from pathlib import Path

from .. import ROOT
from .model import GradingError

COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "venv", "node_modules", "__pycache__", "*.pyc",
                                     ".ipynb_checkpoints", ".pytest_cache")


class NotebookError(Exception):
    """The file is not a notebook the grader can run; the message is the note."""


def find_students(submissions):
    """Each student's folder, sorted by name (hidden folders and files are skipped)."""
    submissions = Path(submissions)
    if not submissions.exists():
        raise GradingError(f"{submissions} does not exist")
    if not submissions.is_dir():
        raise GradingError(f"{submissions} is not a folder")
    folders = [p for p in submissions.iterdir()
               if p.is_dir() and not p.name.startswith((".", "__"))]
    if not folders:
        raise GradingError(f"{submissions} has no student folders (expected {submissions}/<student>/notebooks/)")
    return sorted(folders, key=lambda p: (p.name.casefold(), p.name))


def choose_notebook(notebooks_dir, lesson):
    """(path, note) for a lesson: the released notebook's name if the student has it, else the only match."""
    matches = sorted(p for p in notebooks_dir.glob(f"{lesson:02d}_*.ipynb") if p.is_file())
    if not matches:
        return None, "notebook missing"
    released = {p.name for p in (ROOT / "notebooks").glob(f"{lesson:02d}_*.ipynb")}
    canonical = [p for p in matches if p.name in released]
    chosen = canonical[0] if canonical else matches[0]
    if len(matches) > 1:
        return chosen, f"{len(matches)} notebooks for this lesson; graded {chosen.name}"
    return chosen, None


def read_code_cells(path):
    """The source of each code cell in the notebook at ``path``, in order."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise NotebookError("not UTF-8 text") from None
    except OSError as error:
        raise NotebookError(f"cannot be read ({error.strerror or error})") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        where = f" (line {error.lineno}, column {error.colno})" if hasattr(error, "lineno") else ""
        raise NotebookError(f"not valid JSON{where}") from None
    if not isinstance(data, dict):
        raise NotebookError("not a notebook (the JSON has no cells)")
    cells = data.get("cells")
    if cells is None and isinstance(data.get("worksheets"), list):  # nbformat 3
        cells = [c for sheet in data["worksheets"] if isinstance(sheet, dict) for c in sheet.get("cells", [])]
    if not isinstance(cells, list):
        raise NotebookError("not a notebook (the JSON has no cells)")
    sources = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", cell.get("input", ""))
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        sources.append(source if isinstance(source, str) else "")
    return sources


def first_line(source, limit=40):
    """A cell's first non-blank line, cut to ``limit`` characters: how notes name a cell."""
    line = next((line.strip() for line in source.splitlines() if line.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def copy_tree(source, target):
    shutil.copytree(source, target, symlinks=True, ignore=COPY_IGNORE, dirs_exist_ok=True)


def copy_submission(folder, work):
    """What a notebook sees: a scratch copy of the student's notebooks/ and my_app/."""
    work.mkdir(parents=True, exist_ok=True)
    for name in ("notebooks", "my_app"):
        if (folder / name).is_dir():
            copy_tree(folder / name, work / name)
    (work / "notebooks").mkdir(exist_ok=True)


def remove_tree(path):
    """Remove a scratch folder, even one a student's code made read-only."""
    def make_writable(function, failed_path, _info):
        try:
            os.chmod(failed_path, 0o700)
            os.chmod(os.path.dirname(failed_path), 0o700)
            function(failed_path)
        except OSError:
            pass
    if Path(path).exists():
        shutil.rmtree(path, onerror=make_writable)


SKIP_FOLDERS = {"__MACOSX", ".ipynb_checkpoints", "__pycache__", ".git", ".venv", "venv", "node_modules"}


def _visible_files(folder, pattern):
    return sorted((p for p in Path(folder).rglob(pattern)
                   if p.is_file() and not (SKIP_FOLDERS & set(p.relative_to(folder).parts[:-1]))
                   and not p.name.startswith("._")),
                  key=lambda p: (len(p.relative_to(folder).parts), str(p)))


def gather_submission(upload, target):
    """Lay out one uploaded submission as the grader expects it: ``target/notebooks/``, ``target/my_app/``.

    Gradescope unpacks what a student uploads into one folder: ``notebooks/`` and ``my_app/``
    folders, the same inside one top folder (a zipped copy of the workbook), or loose files
    (the ``.ipynb`` files, and ``app.py`` with its neighbours). For each lesson the notebook
    nearest the top wins, one inside a ``notebooks`` folder first. Returns notes on what was found.
    """
    upload, target = Path(upload), Path(target)
    notes = []
    (target / "notebooks").mkdir(parents=True, exist_ok=True)
    chosen = {}
    for path in _visible_files(upload, "[0-9][0-9]_*.ipynb"):
        in_notebooks = "notebooks" in path.relative_to(upload).parts[:-1]
        current = chosen.get(path.name)
        if current is None or (in_notebooks and "notebooks" not in current.relative_to(upload).parts[:-1]):
            chosen[path.name] = path
    for name, path in chosen.items():
        shutil.copy2(path, target / "notebooks" / name)
    apps = [p.parent for p in _visible_files(upload, "app.py")]
    named = [folder for folder in apps if folder.name == "my_app"]
    if named or apps:
        app = (named or apps)[0]
        copy_tree(app, target / "my_app")
        for stray in (target / "my_app").glob("*.ipynb"):  # loose notebooks beside a loose app.py
            stray.unlink()
        if app.relative_to(upload).as_posix() != "my_app":
            notes.append(f"my_app: graded {app.relative_to(upload).as_posix() or 'the loose files'} as my_app/")
    if not chosen:
        notes.append("no notebooks found in the upload")
    return notes
