"""Options and fixtures shared by every test.

``--app-dir`` and ``--stage`` aim the behaviour suite in tests/stages at any
app folder, a student's included:

    pytest tests/stages --app-dir my_app --stage 5
"""
import os
import sys
from collections import Counter

import pytest

from workbook.fixed_clock import FixedClock

# jsonschema, which nbformat imports, builds 39 grammars at import for its "iri" format checks when
# rfc3987-syntax is installed (python-jsonschema/jsonschema#1428): 1-2 CPU seconds in every pytest process
# of `make test-fast` (where nbval, which imports it first, is not loaded), for checks no schema of ours
# or of nbformat's uses ("format" appears in none). Without the module, jsonschema leaves those two
# format checks out, and validates everything else as before.
sys.modules.setdefault("rfc3987_syntax", None)


def pytest_addoption(parser):
    group = parser.getgroup("workbook", "Flask 2FA Workbook")
    group.addoption("--app-dir", help="run the stage behaviour tests against the app in this folder")
    group.addoption("--stage", type=int, help="with --app-dir: the stage (1-8) that app claims to reach")
    group.addoption("--stages", type=lambda text: sorted({int(n) for n in text.split(",")}),
                    help="with --app-dir: several stages in one run, e.g. 5,6,7 (how the grader finds the highest)")
    group.addoption("--each-stage-test-once", action="store_true",
                    help="run a behaviour test on the first stage it names from stage 7 on, not again on later stages "
                         "(make test-fast; make test runs stage 7's tests on stage 8 too)")
    group.addoption("--not-built", type=lambda text: sorted({int(n) for n in text.split(",") if n}), default=[],
                    help="with --stage 7: lesson 07's parts whose defences the app has not built yet, e.g. 4,5,6: "
                         "their tests are left out (check_my_app(7) reads them from the app's files)")


@pytest.fixture
def clock():
    return FixedClock()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run; skipped without one (failed under CI=true)."""
    def unavailable(reason):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true, so the browser tests must run: {reason}", pytrace=False)
        pytest.skip(reason)

    # Imported here, not at the top: the Gradescope autograder packs this file without the browser tests.
    from chromium import CHROMIUM_ARGS, chromium_path
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed (pip install -r requirements.txt)")
    executable = chromium_path()
    if not os.access(executable, os.X_OK):
        unavailable(f"no Chromium at {executable}: install it (Debian/Ubuntu: apt-get install chromium) "
                    "or set CHROMIUM to its path")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        except Error as error:
            unavailable(f"Chromium at {executable} did not start: {str(error).splitlines()[0]}")
        try:
            yield chromium
        finally:
            chromium.close()


def _a_later_stage_repeating_stage_7(item):
    """Whether ``item`` is a stage 7 (or later) behaviour test run again on a later stage than the first it names."""
    mark = item.get_closest_marker("stages")
    callspec = getattr(item, "callspec", None)
    if mark is None or callspec is None or "target" not in callspec.params:
        return False
    number = callspec.params["target"][1]
    cumulative = [n for n in mark.args if n >= 7]
    return bool(cumulative) and number > min(cumulative)


def pytest_collection_modifyitems(config, items):
    """``--each-stage-test-once`` (make test-fast): stage 8 runs its own behaviour tests, not stage 7's again.
    Stage 8 is stage 7's files plus the passkey ones, edited only where tests/test_stage_copies.py lists (every
    other file the same, byte for byte, but for ANCHOR lines); make test still runs every stage 7 test on stage 8.

    Then the files that drive a browser or start real servers and kernels first, each file's tests together
    and in order. `make test` hands whole files to its workers, each taking the next file when it is done
    (pytest-xdist, ``--dist loadscope --no-loadscope-reorder``): with the long files first, no core is left
    running one alone at the end while the other waits."""
    if config.getoption("--each-stage-test-once") and not config.getoption("--app-dir"):
        repeated = [item for item in items if _a_later_stage_repeating_stage_7(item)]
        if repeated:
            config.hook.pytest_deselected(items=repeated)
            items[:] = [item for item in items if not _a_later_stage_repeating_stage_7(item)]

    def quick(item):
        return not (item.get_closest_marker("browser") or item.get_closest_marker("slow"))

    quick_files = {item.path for item in items if quick(item)} - {item.path for item in items if not quick(item)}
    items.sort(key=lambda item: item.path in quick_files)  # a stable sort: the order within each part stays


@pytest.hookimpl(wrapper=True, tryfirst=True)  # around pytest's own summary: these lines come after -ra's
def pytest_terminal_summary(terminalreporter, config):
    """Close the run with what did not run and why, one line per reason (biggest last), so that "passed"
    is never read as "all ran": "9 browser tests skipped (tests/test_jupyterlab.py 9): no Chromium at ...
    (Debian/Ubuntu: apt-get install chromium) ...". The reasons carry their fix (the browser fixture,
    tests/test_accessibility.py). In the xdist controller, from every worker's reports."""
    result = yield
    if hasattr(config, "workerinput"):
        return result
    groups = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple | list) else str(report.longrepr)
        groups.setdefault(reason.removeprefix("Skipped: "), []).append(report)
    if groups:
        total = sum(map(len, groups.values()))
        terminalreporter.write_sep("=", f"{total} test{'s' if total != 1 else ''} skipped: they did not run")
        for reason, reports in sorted(groups.items(), key=lambda group: len(group[1])):
            kind = "browser test" if all("browser" in report.keywords for report in reports) else "test"
            files = Counter(report.nodeid.split("::")[0] for report in reports)
            where = ", ".join(f"{name} {count}" for name, count in sorted(files.items()))
            terminalreporter.write_line(f"{len(reports)} {kind}{'s' if len(reports) != 1 else ''} skipped ({where}): {reason}")
    return result
