"""The app stages as the grader finds them: the app in a student process of the sandbox, the behaviour
tests and their outcomes in the judge (workbook/grading/app_judge.py).

Each trick below, in an app that deserves no stage, reaches for the test process: the first took stage
4 without a flag when the app ran in the test process itself (``grade_app(..., sandbox=None)``); here
the app's code runs where it cannot reach the tests or their outcomes.
(Skipping, patching pytest's runner and os._exit are played through ``grade``, ``check`` and
Gradescope in test_grading.py, test_grading_integrity.py and test_gradescope.py.)
"""
import os
import shutil

import pytest

from workbook.grading.apps import grade_app, shared_sandbox
from workbook.grading.engine import default_engine
from workbook.grading.remote import SAME_USER
from workbook.stages import stage

pytestmark = pytest.mark.slow

NOTHING = """from flask import Flask


def create_app(test_config=None):
    app = Flask(__name__)
    app.config.update(test_config or {})
    return app
"""

TRICKS = {
    # In the test process, this made every test pass (and the outcome plugin say so).
    "patches pytest and the outcome plugin": """
import _pytest.python
import workbook.testing.stage_outcomes as plugin
_pytest.python.Function.runtest = lambda self: None
plugin.stage_results = lambda path: ({n: (True, "every test passed") for n in range(1, 9)}, True, None)
plugin._check_guard = lambda: None
""",
    # Writes "stage 8: its one test passed" into any outcomes file it can find open.
    "forges the outcomes file": """
import glob, json, os
for link in glob.glob("/proc/*/fd/*"):
    try:
        path = os.readlink(link)
        if path.endswith("outcomes.jsonl"):
            with open(path, "a") as forged:
                forged.write(json.dumps({"collected": {"8": ["t"]}}) + "\\n")
                for when in ("setup", "call", "teardown"):
                    forged.write(json.dumps({"nodeid": "t", "stage": 8, "when": when, "outcome": "passed"}) + "\\n")
                forged.write(json.dumps({"finished": True}) + "\\n")
    except OSError:
        pass
""",
    # Ends every process it can see (the judge's, if it could), on every start.
    "kills what it can see": """
import os, signal
for entry in os.listdir("/proc"):
    if entry.isdigit() and int(entry) != os.getpid():
        try:
            os.kill(int(entry), signal.SIGKILL)
        except OSError:
            pass
""",
}


def _app(folder, trick):
    folder.mkdir(parents=True)
    (folder / "app.py").write_text(NOTHING + TRICKS[trick], encoding="utf-8")
    return folder


@pytest.mark.parametrize("trick", list(TRICKS))
def test_an_app_that_plays_a_trick_on_the_tests_gets_no_stage(tmp_path, trick):
    if trick == "forges the outcomes file" and shared_sandbox().level == SAME_USER:
        pytest.skip("no sandbox on this machine (not root): the app runs as the grader's user, and the "
                    "README's threat model says what that allows")
    (tmp_path / "scratch").mkdir()
    grade = grade_app(_app(tmp_path / "my_app", trick), tmp_path / "scratch", engine=default_engine())
    assert grade.stage == 0 and not any(run.passed for run in grade.runs), grade
    if trick == "patches pytest and the outcome plugin":
        assert any("the app patched the test process" in flag for flag in grade.flags), grade.flags


def test_an_honest_app_keeps_its_stage_and_runs_as_the_sandboxs_user(tmp_path):
    """A copy of the stage 2 app gets stage 2 with no flag; its code ran as the sandbox's user (it writes
    its uid to a folder every user may write to, on each start)."""
    import tempfile
    seen = tempfile.mkdtemp(prefix="workbook-app-judge-test-", dir="/dev/shm" if os.access("/dev/shm", os.W_OK)
                            else None)
    os.chmod(seen, 0o777)
    try:
        folder = tmp_path / "my_app"
        shutil.copytree(stage(2).folder, folder, ignore=shutil.ignore_patterns("__pycache__", "instance"))
        with open(folder / "app.py", "a", encoding="utf-8") as handle:
            handle.write(f"\nimport os as _os\nwith open({os.path.join(seen, 'uids')!r}, 'a') as _seen:\n"
                         "    _seen.write(f'{_os.getuid()}\\n')\n")
        (tmp_path / "scratch").mkdir()
        grade = grade_app(folder, tmp_path / "scratch", engine=default_engine())
        assert grade.stage == 2 and not grade.flags, grade
        assert [run.stage for run in grade.runs if run.passed] == [2]
        with open(os.path.join(seen, "uids"), encoding="utf-8") as handle:
            uids = set(handle.read().split())
        sandbox = shared_sandbox()
        expected = {str(sandbox.uid)} if sandbox.level != SAME_USER else {str(os.getuid())}
        assert uids == expected, (uids, sandbox.level)
    finally:
        shutil.rmtree(seen, ignore_errors=True)
