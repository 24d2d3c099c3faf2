"""What grading produces (results) and what it is made of (tasks): small dataclasses, no behaviour."""
from dataclasses import dataclass, field
from pathlib import Path


class GradingError(Exception):
    """A problem with the command line or the setup: one line for the instructor."""


# ---------------------------------------------------------------------------
# Results


@dataclass
class ExerciseGrade:
    exercise_id: str
    status: str              # passed / failed / not done (workbook.checks)
    message: str = ""
    points: int = 0
    visible_status: str | None = None    # what the student's own check cell says (hidden checks left out)
    visible_message: str = ""
    overridden: bool = False     # the points were set by the instructor (adjust.py)

    def line(self):
        from ..checks import Result
        return Result(self.exercise_id, self.status, self.message).line()

    def visible_line(self):
        """The line the student's check cell prints for the same code."""
        from ..checks import Result
        if self.visible_status is None:
            return self.line()
        return Result(self.exercise_id, self.visible_status, self.visible_message).line()

    def visible_points(self, points):
        """The points by the visible check alone, out of ``points`` (the instructor's override stands)."""
        if self.overridden:
            return self.points
        return points if (self.visible_status or self.status) == "passed" else 0

    def shown(self, points, hide_hidden=False):
        """(line, points) for the student's feedback: by the visible checks only when ``hide_hidden``."""
        return (self.visible_line(), self.visible_points(points)) if hide_hidden else (self.line(), self.points)


@dataclass
class NotebookGrade:
    lesson: int
    notebook: str | None                     # the file graded, relative to the student's folder
    grades: dict = field(default_factory=dict)   # exercise id -> ExerciseGrade
    notes: list = field(default_factory=list)
    cell_errors: list = field(default_factory=list)  # [code cell number, "ErrorType: message"]
    seconds: float = 0.0
    skipped_cells: int = 0   # demonstration and check cells not run for this grade (0: the whole notebook ran)
    cpu_seconds: float = 0.0  # what its worker processes used (fork engine): the cost on an idle machine
    flags: list = field(default_factory=list)  # integrity flags: for the instructor to look at, never a mark
    log: str = ""             # the notebook's output while graded (the end of it), kept for disputes
    hung_at: int | None = None   # the index of the code cell that timed out (not run again on a rerun)


@dataclass
class StageRun:
    """What the behaviour tests said about one stage of a my_app/."""
    stage: int
    passed: bool
    summary: str             # "12 passed", "3 failed, 9 passed", "not run"...


@dataclass
class AppGrade:
    stage: int | None        # None: no my_app/ submitted; 0: passes no stage
    notes: list = field(default_factory=list)
    runs: list = field(default_factory=list)     # [StageRun], highest stage first
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    flags: list = field(default_factory=list)
    partial: float | None = None   # the fraction of the next stage's tests that pass (partial credit)
    next_stage: tuple | None = None   # (stage, tests passed, tests) behind ``partial``
    failing: list = field(default_factory=list)   # the next stage's tests that fail, by name

    @property
    def score(self):
        """The stage passed plus the share of the next stage's tests passed (5.9: stage 5, 90% of stage 6).

        The next stage is the one the app was built from when that is higher (apps.closest_stage)."""
        if self.stage is None:
            return None
        if not self.next_stage:
            return self.stage
        return round(max(self.stage, self.next_stage[0] - 1 + (self.partial or 0)), 2)

    def next_stage_line(self, limit=5):
        """'stage 6: 9 of 10 tests pass; failing: test_x', or '' when the next stage was not run."""
        if not self.next_stage:
            return ""
        number, passed, total = self.next_stage
        shown = ", ".join(self.failing[:limit]) + (f" and {len(self.failing) - limit} more"
                                                    if len(self.failing) > limit else "")
        return f"stage {number}: {passed} of {total} tests pass" + (f"; failing: {shown}" if shown else "")

    def describe(self):
        """What app_score is, in words: 'stage 6, 96% of stage 7's tests (124 of 129); passes stage 2 in full'."""
        if self.stage is None:
            return "no my_app/ handed in"
        if not self.next_stage:
            return f"stage {self.stage}: passes its behaviour tests" if self.stage else \
                "passes no stage's behaviour tests"
        number, passed, total = self.next_stage
        base = number - 1 if self.score > self.stage else self.stage
        text = f"stage {base}, {passed / (total or 1):.0%} of stage {number}'s tests ({passed} of {total} pass)"
        if base > self.stage:
            text += f"; passes stage {self.stage}'s tests in full" if self.stage else "; passes no stage in full"
        return text


@dataclass
class StudentGrade:
    name: str
    notebooks: dict = field(default_factory=dict)    # lesson -> NotebookGrade
    app: AppGrade | None = None
    notes: list = field(default_factory=list)        # notes about the whole submission
    flags: list = field(default_factory=list)        # integrity flags about the whole submission
    late_days: int = 0       # days (or parts of a day) after the deadline (adjust.py)
    penalty: float = 0.0     # the share of the total taken off for lateness

    @property
    def final(self):
        """The total after the late penalty: the grade for the LMS."""
        value = self.total * (1 - self.penalty)
        return int(value) if float(value).is_integer() else round(value, 2)

    def grade(self, exercise_id):
        for notebook in self.notebooks.values():
            if exercise_id in notebook.grades:
                return notebook.grades[exercise_id]
        return None

    def points(self, exercise_id):
        found = self.grade(exercise_id)
        return found.points if found else 0

    @property
    def total(self):
        return sum(g.points for nb in self.notebooks.values() for g in nb.grades.values())

    def all_notes(self):
        notes = list(self.notes)
        for lesson in sorted(self.notebooks):
            notes += self.notebooks[lesson].notes
        if self.app:
            notes += self.app.notes
        return notes

    def all_flags(self):
        """Integrity flags: something for the instructor to look into. A flag never changes a mark."""
        flags = list(self.flags)
        for lesson in sorted(self.notebooks):
            flags += [f"{lesson:02d}: {flag}" for flag in self.notebooks[lesson].flags]
        if self.app:
            flags += [f"my_app: {flag}" for flag in self.app.flags]
        return flags


@dataclass
class ClassGrades:
    students: list            # [StudentGrade], sorted
    exercises: dict           # id -> workbook.checks.Exercise, in lesson order
    seconds: float = 0.0
    hide_hidden_checks: bool = False   # graded before the due date: feedback by the visible checks only

    @property
    def cpu_seconds(self):
        """CPU time the notebooks' and apps' worker processes used, when the engine could measure it."""
        return sum(nb.cpu_seconds for s in self.students for nb in s.notebooks.values()) + sum(
            s.app.cpu_seconds for s in self.students if s.app)

    @property
    def max_points(self):
        return sum(e.points for e in self.exercises.values())


# ---------------------------------------------------------------------------
# Tasks: one per process the grader starts


@dataclass
class NotebookTask:
    """Run one student's notebook for one lesson and grade its exercises."""
    folder: Path             # the student's submission folder
    student: StudentGrade    # where the result goes
    lesson: int
    path: Path               # the notebook chosen for the lesson
    cells: list              # its code cells' sources
    exercise_ids: list
    skippable: list = field(default_factory=list)   # indexes of unchanged demonstration and check cells
    planned: "NotebookGrade | None" = None   # notes and flags found before it ran (kept in the result)
    shown_as: str = ""       # how notes name the file: its path relative to the student's folder
    candidates: list | None = None   # shared by every file that could be this lesson: [(task, NotebookGrade)]
    size: int = 1            # how many such files: each is graded, the best is kept

    @property
    def label(self):
        return f"notebook {self.lesson:02d}"


@dataclass
class AppTask:
    """Find the highest stage the student's my_app/ passes."""
    folder: Path
    student: StudentGrade

    @property
    def label(self):
        return "my_app"
