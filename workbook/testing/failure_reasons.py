"""A pytest plugin for check_my_app: why each test failed, in one line, where the student can find it.

    pytest ... -p workbook.testing.failure_reasons --failure-reasons OUT.jsonl --failure-reasons-app DIR

One JSON line per failed test phase: {"nodeid", "when", "reason", "where"}. ``reason`` is the exception's
type and the first line of its message; ``where`` is the deepest line of the traceback inside DIR (the
student's app), as ``my_app/events.py:45``, else the line that raised it (a test's assertion).
"""
import json
from pathlib import Path

import pytest

MESSAGE_LENGTH = 200


def pytest_addoption(parser):
    parser.addoption("--failure-reasons", metavar="FILE.jsonl", help="write why each test failed here")
    parser.addoption("--failure-reasons-app", metavar="DIR", help="the app whose lines to name")


def reason(excinfo):
    lines = str(excinfo.value).strip().splitlines()
    message = lines[0] if lines else ""
    if len(message) > MESSAGE_LENGTH:
        message = message[:MESSAGE_LENGTH] + "..."
    return f"{excinfo.typename}: {message}" if message else excinfo.typename


def where(excinfo, app_dir):
    entries = list(excinfo.traceback)
    if not entries:
        return ""
    inside = [entry for entry in entries if app_dir and _is_inside(Path(str(entry.path)), app_dir)]
    entry = inside[-1] if inside else entries[-1]
    path = Path(str(entry.path))
    shown = path.relative_to(app_dir.parent) if inside else path.name
    return f"{shown}:{entry.lineno + 1}"


def _is_inside(path, folder):
    try:
        path.resolve().relative_to(folder)
        return True
    except ValueError:
        return False


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    out = item.config.getoption("--failure-reasons")
    if not out or not report.failed or call.excinfo is None:
        return
    app = item.config.getoption("--failure-reasons-app")
    app_dir = Path(app).resolve() if app else None
    line = {"nodeid": item.nodeid, "when": report.when, "reason": reason(call.excinfo),
            "where": where(call.excinfo, app_dir)}
    with open(out, "a", encoding="utf-8") as file:
        file.write(json.dumps(line) + "\n")


def read(path):
    """The failures written to ``path``, in the order they happened (none if the file is missing)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    failures = []
    for line in text.splitlines():
        try:
            failures.append(json.loads(line))
        except ValueError:
            continue   # a line cut short by a run that ended early
    return failures
