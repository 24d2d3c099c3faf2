"""Finding and reading what a student handed in, and the scratch copies the grader works on.

The submission is only ever read: every process works on a copy.
Notebooks are read without nbformat (its schema validation costs about a second per process).
"""
import json
import os
import re
import shutil
import zipfile
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
    """(path, note) for a lesson: the released notebook's name if the student has it, else the first match.

    The first of ``find_notebooks``; the grader itself grades every candidate and keeps the best.
    """
    found = find_notebooks(notebooks_dir, lesson)
    if not found:
        return None, "notebook missing"
    if len(found) > 1:
        return found[0], f"{len(found)} notebooks for this lesson; graded {found[0].name}"
    return found[0], None


# "03_qr_code.ipynb", "3 qr code.IPYNB", "Copy of 03_qr_code.ipynb" (Colab), "copy_of_03_qr_code.ipynb", "03.ipynb"
LESSON_FILE = re.compile(r"^(?:copy[ _]of[ _])?(\d{1,2})(?:[_ -].*)?\.ipynb$", re.IGNORECASE)

# The workbook's own reference copies, found inside a submission (a zipped or uploaded checkout):
# never graded as the student's work (folder name -> what it holds, for the note).
REFERENCE_FOLDERS = {"solutions": "the workbook's answers", "app_steps": "the workbook's stage apps"}


def in_reference_folder(path, folder):
    """True when ``path`` lies in a solutions/ or app_steps/ folder below ``folder``."""
    return any(part.casefold() in REFERENCE_FOLDERS for part in Path(path).relative_to(folder).parts[:-1])


def reference_copies(folder):
    """The reference folders (solutions/, app_steps/) inside a submission, relative to ``folder``, top ones only."""
    folder = Path(folder)
    found = []
    for path in sorted(folder.rglob("*"), key=lambda p: (len(p.parts), str(p))):
        if path.is_dir() and path.name.casefold() in REFERENCE_FOLDERS and \
                not (SKIP_FOLDERS & set(path.relative_to(folder).parts)) and \
                not any(path.is_relative_to(top) for top in found):
            found.append(path)
    return found


def reference_note(folders, shown):
    """'not graded: solutions/ (the workbook's answers), ...' for the reference folders found, else None."""
    if not folders:
        return None
    named = ", ".join(f"{shown(folder)}/ ({REFERENCE_FOLDERS[folder.name.casefold()]})" for folder in folders)
    return f"not graded: {named}: only your own work (notebooks/, my_app/) is graded"
COPY_SUFFIX = re.compile(r"[ _-]*(\(\d+\)|copy(\s*\d+)?|- copy)$", re.IGNORECASE)  # "x (1).ipynb", "x copy.ipynb"


def lesson_of(name):
    """The lesson a notebook's file name is for ("01_install.ipynb", "6_login_flow.IPYNB"), else None."""
    match = LESSON_FILE.match(name)
    return int(match.group(1)) if match else None


def _released_names(lesson):
    return {p.name.casefold() for p in (ROOT / "notebooks").glob(f"{lesson:02d}_*.ipynb")}


def find_notebooks(folder, lesson):
    """Every file in ``folder`` (and below it) that could be the lesson's notebook, the likeliest first.

    As students hand work in: any case of ``.ipynb``, the number with or without its leading zero,
    copies named ``name (1).ipynb``, in notebooks/ or not. Likeliest: inside a folder named
    notebooks, then the released file name, then nearest the top, then without a copy suffix.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    released = _released_names(lesson)
    found = [p for p in _visible_files(folder, "*")
             if p.suffix.casefold() == ".ipynb" and lesson_of(p.name) == lesson and not in_reference_folder(p, folder)]

    def likeliness(path):
        parts = path.relative_to(folder).parts
        in_notebooks = any(part.casefold() == "notebooks" for part in parts[:-1]) or folder.name == "notebooks"
        copy = bool(COPY_SUFFIX.search(path.stem)) or path.stem.casefold().startswith(("copy of", "copy_of"))
        return (not in_notebooks, path.name.casefold() not in released, len(parts), copy, path.name)
    return sorted(found, key=likeliness)


def unmatched_notebooks(folder):
    """Notebooks in ``folder`` that are no lesson's (no lesson number in the name), outside the reference folders."""
    folder = Path(folder)
    return [p for p in _visible_files(folder, "*") if p.suffix.casefold() == ".ipynb"
            and lesson_of(p.name) is None and not in_reference_folder(p, folder)]


def copy_helpers(notebook_dir, target):
    """Copy the student's own Python modules beside a notebook (``*.py``, packages) into ``target``.

    A notebook that imports its helper module runs there as it ran beside it; what is already in
    ``target`` (the student's notebooks/ copy) is kept.
    """
    notebook_dir, target = Path(notebook_dir), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(notebook_dir.iterdir()):
        if (target / path.name).exists() or path.name.startswith(".") or path.is_symlink():
            continue
        if path.is_file() and path.suffix == ".py":
            shutil.copy2(path, target / path.name)
        elif path.is_dir() and (path / "__init__.py").is_file() and path.name not in SKIP_FOLDERS:
            copy_tree(path, target / path.name)


def unpack_zips(folder, target):
    """Unpack each .zip in the student's folder into ``target/<zip name>/``; (folders, notes).

    Only into the scratch space: never beside the submission. Members with absolute paths or
    ``..`` are left out, and so is anything past MAX_UNZIPPED bytes in all.
    """
    unpacked, notes = [], []
    for archive in sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.casefold() == ".zip"):
        destination = Path(target) / archive.stem
        try:
            with zipfile.ZipFile(archive) as handle:
                total = 0
                for member in handle.infolist():
                    name = member.filename
                    if name.startswith(("/", "\\")) or ".." in Path(name).parts or member.is_dir():
                        continue
                    total += member.file_size
                    if total > MAX_UNZIPPED:
                        notes.append(f"{archive.name}: more than {MAX_UNZIPPED // 2**20} MB unpacked; the rest left out")
                        break
                    handle.extract(member, destination)
        except (zipfile.BadZipFile, OSError) as error:
            notes.append(f"{archive.name} could not be unpacked ({error})")
            continue
        unpacked.append(destination)
        notes.append(f"unpacked {archive.name}")
    return unpacked, notes


MAX_UNZIPPED = 200 * 2**20


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
    nearest the top wins, one inside a ``notebooks`` folder first (names as find_notebooks reads them:
    any case, with or without the leading zero; the grader then picks among copies).
    Returns notes on what was found.
    """
    upload, target = Path(upload), Path(target)
    notes = []
    (target / "notebooks").mkdir(parents=True, exist_ok=True)
    chosen = {}
    notebooks = [p for p in _visible_files(upload, "*")
                 if p.suffix.casefold() == ".ipynb" and lesson_of(p.name) is not None
                 and not in_reference_folder(p, upload)]
    for path in notebooks:
        in_notebooks = "notebooks" in path.relative_to(upload).parts[:-1]
        current = chosen.get(path.name)
        if current is None or (in_notebooks and "notebooks" not in current.relative_to(upload).parts[:-1]):
            chosen[path.name] = path
    for name, path in chosen.items():
        shutil.copy2(path, target / "notebooks" / name)
    for folder in sorted({path.parent for path in chosen.values()}):   # their own modules go with them
        copy_helpers(folder, target / "notebooks")
    apps = [p.parent for p in _visible_files(upload, "app.py") if not in_reference_folder(p, upload)]
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
    note = reference_note(reference_copies(upload), lambda path: path.relative_to(upload).as_posix())
    if note:
        notes.append(note)
    return notes
