"""Show the real stage code in the lessons, never a pasted copy that can drift.

In a stage file, ``# ANCHOR: name`` and ``# ANCHOR_END: name`` (or the same
inside ``{# ... #}`` in a template) mark a piece a lesson can show:

    show(5, "app.py", "normalise")

``show_changes`` shows what a stage changed from the one before: a stage's code files are read
without their marker lines (``stage_files``) and diffed. The authors' tool that writes each
stage's CHANGES.diff (authoring/diffs.py) builds on the same two functions.
"""
import difflib
import re
import textwrap
from pathlib import Path

from .stages import STAGES
from .stages import stage as stage_by_number

LANGUAGES = {".py": "python", ".html": "html+jinja", ".css": "css", ".diff": "diff"}
ANCHOR_LINE = re.compile(r"(#|\{#)\s*ANCHOR(_END)?:\s*([\w-]+)")


class ListingError(LookupError):
    """The file or anchor a lesson asked for does not exist."""


def stage_file(stage: int, filename: str) -> Path:
    path = stage_by_number(stage).folder / filename
    if not path.is_file():
        raise ListingError(f"Stage {stage} has no file {filename}.")
    return path


def extract(text: str, anchor: str | None = None) -> str:
    """The lines between the anchor's markers (or the whole text), without any marker lines."""
    lines = text.splitlines()
    if anchor is not None:
        starts = [i for i, line in enumerate(lines) if (m := ANCHOR_LINE.search(line)) and not m[2] and m[3] == anchor]
        ends = [i for i, line in enumerate(lines) if (m := ANCHOR_LINE.search(line)) and m[2] and m[3] == anchor]
        if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
            raise ListingError(f"Anchor {anchor!r} must appear exactly once, as ANCHOR and then ANCHOR_END.")
        lines = lines[starts[0] + 1:ends[0]]
    kept = [line for line in lines if not ANCHOR_LINE.search(line)]
    return textwrap.dedent("\n".join(kept)).strip("\n")


def listing(stage: int, filename: str, anchor: str | None = None) -> str:
    """The text of a stage file, or of one anchored piece of it."""
    return extract(stage_file(stage, filename).read_text(encoding="utf-8"), anchor)


def show(stage: int, filename: str, anchor: str | None = None):
    """Display a stage file (or an anchored piece) as highlighted code in the notebook."""
    from IPython.display import Markdown, display

    language = LANGUAGES.get(Path(filename).suffix, "")
    title = f"`app_steps/{stage_by_number(stage).folder.name}/{filename}`" + (f" ({anchor})" if anchor else "")
    display(Markdown(f"{title}\n\n```{language}\n{listing(stage, filename, anchor)}\n```"))


def show_changes(stage: int, filename: str | None = None):
    """Display what changed from the previous stage: the whole CHANGES.diff, or one file's part of it."""
    if filename is None:
        show(stage, "CHANGES.diff")
        return
    from IPython.display import Markdown, display

    text = file_changes(stage, filename) or f"(app_steps/{stage_by_number(stage).folder.name}/{filename} "
    text = text if text.startswith("---") else text + "is the same as in the stage before)"
    display(Markdown(f"What changed in `{filename}` from stage {stage - 1} to stage {stage}:\n\n```diff\n{text}\n```"))


# A stage's code, as show_changes and every CHANGES.diff (authoring/diffs.py) compare it.
SKIPPED = {"CHANGES.diff", "README.md"}
SKIPPED_DIRS = {"instance", "__pycache__", ".pytest_cache"}


def stage_files(folder: Path | None) -> dict:
    """Relative path -> text for every code file in a stage folder."""
    if folder is None:
        return {}
    files = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and path.name not in SKIPPED and not SKIPPED_DIRS & set(relative.parts):
            if path.suffix in (".py", ".html", ".css", ".js", ".txt"):
                text = path.read_text(encoding="utf-8")
                files[relative.as_posix()] = "".join(
                    line for line in text.splitlines(keepends=True) if not ANCHOR_LINE.search(line))
    return files


def file_diff(name, previous, current, before, after) -> str:
    """The unified diff of file ``name`` from folder ``previous`` (texts ``before``) to ``current`` (``after``)."""
    old_label = f"a/{previous.name}/{name}" if name in before else "/dev/null"
    new_label = f"b/{current.name}/{name}" if name in after else "/dev/null"
    lines = difflib.unified_diff(before.get(name, "").splitlines(keepends=True),
                                 after.get(name, "").splitlines(keepends=True), old_label, new_label)
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def file_changes(number: int, filename: str) -> str:
    """The diff of one file of stage ``number`` from the stage before it ("" when it did not change)."""
    current = stage_by_number(number).folder
    previous = stage_by_number(number - 1).folder if number > STAGES[0].number else None
    before, after = stage_files(previous), stage_files(current)
    if filename not in before and filename not in after:
        raise FileNotFoundError(f"Stage {number} and the stage before it have no file {filename}.")
    return file_diff(filename, previous, current, before, after)
