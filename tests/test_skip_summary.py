"""A run that skips tests ends saying which and why (tests/conftest.py's pytest_terminal_summary), and
CI=true turns a missing browser into a failure: both checked on a real pytest run with Chromium hidden
(the browser fixture takes the browser from $CHROMIUM), through xdist as `make test` runs."""
import os
import subprocess
import sys

import pytest

from workbook import ROOT

pytestmark = pytest.mark.slow  # two pytest runs of their own

BROWSER_FILE = "tests/test_jupyterlab.py"  # one test without a browser, the others with
# its browser tests: every solution notebook and the first fresh one
BROWSER_TESTS = len(list((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))) + 1


def run_without_chromium(tmp_path, ci):
    env = {**os.environ, "CHROMIUM": str(tmp_path / "no-chromium-here"), "CI": ci, "PYTEST_ADDOPTS": ""}
    done = subprocess.run([sys.executable, "-m", "pytest", "-n", "1", "--dist", "loadscope", "-p", "no:cacheprovider",
                           "-p", "no:nbval", BROWSER_FILE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout.strip().splitlines()


def test_without_chromium_the_closing_lines_name_the_skipped_browser_tests_and_the_fix(tmp_path):
    status, lines = run_without_chromium(tmp_path, ci="")
    assert status == 0, "\n".join(lines[-30:])
    assert "1 passed" in lines[-1] and "skipped" in lines[-1], lines[-1]
    closing = lines[-2]  # the line just before pytest's "1 passed, N skipped"
    assert closing.startswith(f"{BROWSER_TESTS} browser tests skipped ({BROWSER_FILE} {BROWSER_TESTS}): no Chromium at "), closing
    assert "apt-get install chromium" in closing
    assert f"{BROWSER_TESTS} tests skipped: they did not run" in lines[-3]


def test_with_ci_true_a_missing_chromium_fails_the_run(tmp_path):
    status, lines = run_without_chromium(tmp_path, ci="true")
    assert status == 1, "\n".join(lines[-30:])
    assert f"1 passed, {BROWSER_TESTS} errors" in lines[-1], lines[-1]
    assert any("CI=true, so the browser tests must run: no Chromium at" in line for line in lines)
    assert not any("skipped" in line for line in lines)
