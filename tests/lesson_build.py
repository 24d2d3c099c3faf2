"""What the tests that follow a lesson's Build steps share: the lesson's text and answers, and one edit."""
import nbformat

from workbook import ROOT


def lesson_cells(lesson_file):
    return nbformat.read(ROOT / "solutions" / lesson_file, as_version=4).cells


def build_section(lesson_file):
    """The markdown of the lesson's "## Build" section."""
    return next(c.source for c in lesson_cells(lesson_file)
                if c.cell_type == "markdown" and c.source.startswith("## Build"))


def answer(lesson_file, exercise_id):
    """The solution notebook's answer to an exercise, without its title line and solution markers."""
    source = next(c.source for c in lesson_cells(lesson_file) if c.cell_type == "code"
                  and c.source.startswith(f"# Exercise {exercise_id}:"))
    return "\n".join(line for line in source.splitlines()[1:] if "### " not in line)


def edit(path, old, new):
    """One step: ``old``, found exactly once in ``path``, becomes ``new``."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path.name}: the step's anchor {old!r} moved; update the lesson's Build steps"
    path.write_text(text.replace(old, new), encoding="utf-8")
