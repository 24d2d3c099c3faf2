"""``grade --resume``: after an interrupted run, grade only what is new or changed.

Each student's result is appended to ``report.progress.jsonl`` beside the report the moment their
last notebook and app are graded, with a digest of their folder's content (and of the options that
change marks: the timeouts, partial credit, the hidden checks). ``--resume`` keeps every student
whose folder has the same digest as when they were graded, and grades the others: the students the
interrupted run never reached, a student added since, a student who handed in again. A file's date
plays no part: a copied folder is the same work.
"""
import dataclasses
import hashlib
import json
import tempfile
import threading
from pathlib import Path

SKIPPED = {".ipynb_checkpoints", "__pycache__", ".git", ".venv", "venv", "node_modules", "__MACOSX"}


def folder_digest(folder):
    """sha256 of every file's path and bytes under ``folder`` (editor and cache folders left out)."""
    digest = hashlib.sha256()
    folder = Path(folder)
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if SKIPPED & set(relative.parts) or not path.is_file():
            continue
        digest.update(relative.as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def options_digest(args):
    """What else changes a mark: a result graded with other options is not reused."""
    hidden = getattr(args, "hidden_checks", None)
    parts = [str(getattr(args, "timeout", "")), str(getattr(args, "app_timeout", "")),
             str(getattr(args, "partial_credit", True)),
             hashlib.sha256(Path(hidden).read_bytes()).hexdigest() if hidden and Path(hidden).is_file() else ""]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def progress_path(out):
    out = Path(out)
    return out.with_name(out.stem + ".progress.jsonl")


class Progress:
    """The students graded so far, by folder digest (read at the start, appended as each is graded)."""

    def __init__(self, out, args, folders=None):
        self.path = progress_path(out)
        self.options = options_digest(args)
        self.folders = dict(folders or {})
        self.entries = {}
        self._lock = threading.Lock()
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    self.entries[entry["name"]] = entry
                except (ValueError, KeyError, TypeError):
                    continue   # a line cut short by the interruption

    def unchanged(self, folders):
        """{name: StudentGrade} of the students of ``folders`` graded before on the same content and options."""
        from .adjust import load_students
        self.folders.update(folders)
        kept = [entry["student"] for name, entry in self.entries.items()
                if name in folders and entry.get("options") == self.options
                and entry.get("hash") == folder_digest(folders[name])]
        if not kept:
            return {}
        with tempfile.TemporaryDirectory(prefix="workbook-resume-") as scratch:
            path = Path(scratch) / "results.json"
            path.write_text(json.dumps({"students": kept}), encoding="utf-8")
            return load_students(path)

    def record(self, student):
        """A student is graded: append their result (called from the grader's threads)."""
        folder = self.folders.get(student.name)
        if folder is None:
            return
        entry = {"name": student.name, "hash": folder_digest(folder), "options": self.options,
                 "student": dataclasses.asdict(student)}
        with self._lock:
            self.entries[student.name] = entry
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def finish(self, grades, folders):
        """The report is written: the progress file holds one line per student of it."""
        with self._lock:
            lines = []
            for student in grades.students:
                entry = self.entries.get(student.name, {})
                lines.append(json.dumps({"name": student.name, "hash": entry.get("hash"),
                                         "options": entry.get("options"),
                                         "student": dataclasses.asdict(student)}, ensure_ascii=False))
            self.path.write_text("\n".join(lines) + "\n", encoding="utf-8")
