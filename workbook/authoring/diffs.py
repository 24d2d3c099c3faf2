"""Write each stage's CHANGES.diff: the unified diff from the stage before it.

The diff opens with a diffstat (which files changed, and how much) and leaves
out the ``ANCHOR`` marker lines, which are there for the lessons' listings, not
for readers. Regenerate with ``python -m workbook diffs``;
tests/test_changes_diff.py fails when a committed diff no longer matches the
stage folders.
"""
from pathlib import Path

from ..listings import file_diff, stage_files
from ..stages import STAGES


def diffstat(file_diffs: dict) -> str:
    """``git diff --stat``'s summary: a line per changed file, then the totals."""
    counts = {}
    for name, text in file_diffs.items():
        body = [line for line in text.splitlines() if not line.startswith(("---", "+++"))]
        counts[name] = (sum(line.startswith("+") for line in body), sum(line.startswith("-") for line in body))
    if not counts:
        return " 0 files changed\n"
    width = max(map(len, counts))
    largest = max(added + removed for added, removed in counts.values())
    scale = min(1.0, 50 / largest) if largest else 1.0
    lines = []
    for name, (added, removed) in counts.items():
        bar = "+" * max(added and 1, round(added * scale)) + "-" * max(removed and 1, round(removed * scale))
        lines.append(f" {name:<{width}} | {added + removed:>4} {bar}")
    added, removed = sum(a for a, _ in counts.values()), sum(r for _, r in counts.values())
    files = f"{len(counts)} file{'s' if len(counts) != 1 else ''} changed"
    lines.append(f" {files}, {added} insertion{'s' if added != 1 else ''}(+), "
                 f"{removed} deletion{'s' if removed != 1 else ''}(-)")
    return "\n".join(lines) + "\n"


def changes(previous: Path | None, current: Path) -> str:
    """The diffstat, then the unified diff from ``previous`` (None: from nothing) to ``current``."""
    before, after = stage_files(previous), stage_files(current)
    file_diffs = {name: file_diff(name, previous, current, before, after)
                  for name in sorted(before.keys() | after.keys())}
    file_diffs = {name: text for name, text in file_diffs.items() if text}
    return diffstat(file_diffs) + "\n" + "".join(file_diffs.values())


def expected_diffs() -> dict:
    """Path of each CHANGES.diff -> the text it should hold."""
    stages = STAGES
    previous = [None] + [s.folder for s in stages[:-1]]
    return {s.folder / "CHANGES.diff": changes(before, s.folder) for before, s in zip(previous, stages, strict=True)}


def write_diffs(check=False) -> list:
    """Write every stage's CHANGES.diff (with ``check``, only list the stale ones)."""
    stale = []
    for path, text in expected_diffs().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not check:
                path.write_text(text, encoding="utf-8")
    return stale
