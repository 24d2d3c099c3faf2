"""A pytest plugin that reads what the check cells printed while nbval ran them.

nbval (in lax mode) only fails a notebook on an error. This plugin also fails
a solution notebook whose check cell prints anything but ✅, and a student
notebook whose check cell prints anything but ⏳, so that ``make test``
proves every answer passes and every fresh exercise is still open.
Loaded by ``-p workbook.testing.notebook_checks_plugin`` (see pyproject.toml).
"""
import pytest

from ..checks import SYMBOLS

EXPECTED = {"solutions": SYMBOLS["passed"], "notebooks": SYMBOLS["not done"]}


def check_lines(outputs):
    """The ✅/❌/⏳ lines in a cell's outputs."""
    lines = []
    for output in outputs or []:
        text = output.get("text", "") if output.get("output_type") == "stream" else ""
        lines += [line for line in text.splitlines() if line[:1] in SYMBOLS.values()]
    return lines


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    expected = EXPECTED.get(item.path.parent.name)
    if call.when != "call" or report.failed or expected is None or not hasattr(item, "test_outputs"):
        return
    unexpected = [line for line in check_lines(item.test_outputs) if not line.startswith(expected)]
    if unexpected:
        report.outcome = "failed"
        report.longrepr = (f"In {item.path.parent.name}/ every check should print {expected}, but got:\n"
                           + "\n".join(unexpected))
