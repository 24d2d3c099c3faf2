"""Planning a class: which files of which student are graded, and what runs for each.

``ClassPlan.plan_student`` turns one student's folder into tasks (model.py: a NotebookTask per file
that could be a lesson's notebook, an AppTask for their my_app/) and grades right away what needs
no process: a missing notebook, one that cannot be opened. It finds the files (files.py: zips
unpacked into the scratch space, notebooks as students name them), reads the integrity flags
that come from the sources alone (integrity.py), and decides which cells a run may skip
(demo_cells.py). What it keeps for the whole class (every student's cells and app fingerprint)
is compared once every student is planned (grader.py).
"""
from .. import ROOT
from . import integrity
from .collect import keep_best
from .demo_cells import is_check_cell, tagged_sources
from .files import (
    NotebookError,
    find_notebooks,
    read_code_cells,
    reference_copies,
    reference_note,
    unmatched_notebooks,
    unpack_zips,
)
from .model import AppGrade, AppTask, ExerciseGrade, NotebookGrade, NotebookTask
from .similarity import app_fingerprint as fingerprint_app


def shown(path, folder, zips):
    """How the notes name a file: relative to the student's folder, or 'NAME.zip: inner/path'."""
    for root in zips:
        if path.is_relative_to(root):
            return f"{root.name}.zip: {path.relative_to(root).as_posix()}"
    return path.relative_to(folder).as_posix()


class ClassPlan:
    """The tasks of one class, student by student, and what the class-wide copy flags compare."""

    def __init__(self, skip_demos=True):
        self.skip_demos = skip_demos      # False: run every cell, as before demo_cells.py (for comparisons)
        self._demo_cache = {}
        self.zip_roots = []       # the zips unpacked so far (each into its own scratch folder)
        self.class_cells = {}     # student -> {lesson: code cells}: to find answers students share
        self.class_apps = {}      # student -> their my_app/'s fingerprint (similarity.py)

    def demo_sources(self, lesson):
        """The demonstration cells of the released notebook of ``lesson`` (their exact sources)."""
        if lesson not in self._demo_cache:
            released = sorted((ROOT / "notebooks").glob(f"{lesson:02d}_*.ipynb"))
            self._demo_cache[lesson] = tagged_sources(released[0]) if released else set()
        return self._demo_cache[lesson]

    def plan_student(self, folder, grade, lessons, exercises, scratch):
        """This student's tasks; what needs no process (missing, corrupt) is graded right here.

        Every file that could be a lesson's notebook (files.find_notebooks, zips unpacked into the
        scratch space) is graded, and the best kept (collect.keep_best); the notes say what was found.
        """
        tasks = []
        roots = [folder]
        zips, zip_notes = unpack_zips(folder, scratch / "unzipped" / f"{len(self.zip_roots):04d}")
        self.zip_roots += zips
        grade.notes += zip_notes
        roots += zips
        note = reference_note([found for root in roots for found in reference_copies(root)],
                              lambda path: shown(path, folder, zips))
        if note:
            grade.notes.append(note)
        tasks += self._plan_app(folder, grade, roots, zips)
        has_notebooks_dir = (folder / "notebooks").is_dir()
        found_any = False
        shared_cells = {}
        for lesson in lessons:
            lesson_tasks, found = self._plan_lesson(folder, grade, lesson, exercises, roots, zips, has_notebooks_dir,
                                                    shared_cells)
            found_any = found_any or found
            tasks += lesson_tasks
        if not found_any and not has_notebooks_dir:
            grade.notes.append("no notebooks/ folder")
        stray = [shown(path, folder, zips) for root in roots for path in unmatched_notebooks(root)]
        if stray:
            grade.notes.append(f"not graded: {', '.join(stray[:5])}{' and more' if len(stray) > 5 else ''} "
                               "(no lesson number at the start of the name, as in 03_qr_code.ipynb)")
        self.class_cells[grade.name] = {lesson: cells for lesson, cells in shared_cells.items()}
        return tasks

    def _plan_app(self, folder, grade, roots, zips):
        """[the AppTask of the student's my_app/], with its copy flags; [] (and no app) when there is none."""
        app_folder = next((root for root in roots if (root / "my_app").is_dir()), None)
        if app_folder is None:
            nested = [p.parent.parent for root in zips for p in root.glob("*/my_app/app.py")]
            app_folder = nested[0] if nested else None
        if app_folder is None:
            grade.app = AppGrade(None)
            return []
        copied = integrity.app_copy_of_stage(app_folder / "my_app")
        if copied is not None and integrity.app_untouched(app_folder / "my_app", copied[0]):
            grade.flags.append(f"my_app is an untouched copy of the stage {copied[0]} app in app_steps/")
        elif copied is not None:
            grade.flags.append(f"my_app is a copy of the stage {copied[0]} app in app_steps/ ({copied[1]:.2f}, "
                               "with comments, docstrings and names set aside)")
        else:  # compared with the classmates' once every student is planned
            self.class_apps[grade.name] = fingerprint_app(app_folder / "my_app")
        if app_folder != folder:
            grade.notes.append(f"my_app: graded {shown(app_folder / 'my_app', folder, zips)}")
        return [AppTask(app_folder, grade)]

    def _plan_lesson(self, folder, grade, lesson, exercises, roots, zips, has_notebooks_dir, shared_cells):
        """(the lesson's NotebookTasks, whether any file was found for it); a lesson with nothing to run is
        graded here."""
        ids = [i for i, e in exercises.items() if e.lesson == lesson]
        notebook = NotebookGrade(lesson, None)
        grade.notebooks[lesson] = notebook
        paths = [path for root in roots for path in find_notebooks(root, lesson)]
        if not paths:
            if not has_notebooks_dir and not zips:
                why, note = "no notebooks/ folder.", None
            else:
                why, note = f"no notebooks/{lesson:02d}_*.ipynb was submitted.", f"{lesson:02d}: notebook missing"
            if note:
                notebook.notes.append(note)
            for exercise_id in ids:
                notebook.grades[exercise_id] = ExerciseGrade(exercise_id, "failed", why)
            return [], False
        names = [shown(path, folder, zips) for path in paths]
        standard = len(paths) == 1 and names[0] == f"notebooks/{paths[0].name}" and \
            paths[0].name in {p.name for p in (ROOT / "notebooks").glob(f"{lesson:02d}_*.ipynb")}
        if not standard and len(paths) == 1:
            notebook.notes.append(f"{lesson:02d}: found {names[0]}; graded it")
        candidates = [] if len(paths) > 1 else None
        lesson_tasks = []
        for path, shown_as in zip(paths, names, strict=False):
            planned = NotebookGrade(lesson, shown_as)
            try:
                cells = read_code_cells(path)
            except NotebookError as error:
                planned.notes.append(f"{lesson:02d}: {shown_as}: {error}")
                for exercise_id in ids:
                    planned.grades[exercise_id] = ExerciseGrade(
                        exercise_id, "failed", f"{path.name} could not be opened: {error}.")
                if candidates is None:
                    planned.notes = notebook.notes + [f"{lesson:02d}: {error}"]
                    grade.notebooks[lesson] = planned
                    planned.notebook = shown_as
                else:
                    candidates.append((None, planned))
                continue
            planned.notes = list(notebook.notes) if candidates is None else []
            planned.flags = integrity.notebook_flags(lesson, cells)
            planned.notes += [f"{lesson:02d}: {note}" for note in integrity.redefinitions(
                cells, [name for i in ids for name in exercises[i].uses])]
            shared_cells.setdefault(lesson, cells)
            skippable = [index for index, source in enumerate(cells) if self.skip_demos
                         and (source in self.demo_sources(lesson) or is_check_cell(source))]
            lesson_tasks.append(NotebookTask(folder, grade, lesson, path, cells, ids, skippable, planned,
                                             shown_as, candidates, len(paths)))
        if candidates is not None and not lesson_tasks:
            keep_best(grade, lesson, candidates)
        return lesson_tasks, True
