"""Write each stage's CHANGES.diff: the unified diff from the stage before it.

Regenerate with ``python -m workbook diffs``; tests/test_changes_diff.py fails
when a committed diff no longer matches the stage folders.
"""
import difflib
from pathlib import Path

from .stages import existing_stages

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
                files[relative.as_posix()] = path.read_text(encoding="utf-8")
    return files


def changes(previous: Path | None, current: Path) -> str:
    """The unified diff from ``previous`` (None: from nothing) to ``current``."""
    before, after = stage_files(previous), stage_files(current)
    parts = []
    for name in sorted(before.keys() | after.keys()):
        old_label = f"a/{previous.name}/{name}" if name in before else "/dev/null"
        new_label = f"b/{current.name}/{name}" if name in after else "/dev/null"
        parts.extend(difflib.unified_diff(
            before.get(name, "").splitlines(keepends=True),
            after.get(name, "").splitlines(keepends=True),
            old_label, new_label,
        ))
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in parts)


def expected_diffs() -> dict:
    """Path of each CHANGES.diff -> the text it should hold."""
    stages = existing_stages()
    previous = [None] + [s.folder for s in stages[:-1]]
    return {s.folder / "CHANGES.diff": changes(before, s.folder) for before, s in zip(previous, stages)}


def write_diffs(check=False) -> list:
    """Write every stage's CHANGES.diff (with ``check``, only list the stale ones)."""
    stale = []
    for path, text in expected_diffs().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not check:
                path.write_text(text, encoding="utf-8")
    return stale
