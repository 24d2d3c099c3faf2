"""Grading a my_app/ with the app in the student's process and the behaviour tests in the grader's.

    pytest tests/stages --app-dir DIR --stages 1,...,8 -p workbook.testing.stage_outcomes \\
        --stage-outcomes OUT.jsonl -p workbook.grading.app_judge --app-sandbox JSON

With this plugin the pytest process is the JUDGE: it never imports the student's code. Every
app, test client, clock and NOTIFY recorder the tests use is built by workbook.testing.app_side in
a STUDENT PROCESS of the grading run's sandbox (remote.py: as ``nobody``, the grader's files hidden,
where the machine allows), reached through ``student_side.module``; the tests hold stand-ins and
plain values only (workbook/testing/app_under_test.py), and each test's outcome is written here, by
workbook.testing.stage_outcomes, where the app's code cannot reach it. So an app that patches pytest,
the outcome plugin, sys.exit or os._exit changes only its own process: its tests fail.

* One student process serves the tests one after another; one that ended or stopped answering
  (each request has REQUEST_TIMEOUT) fails the test that was using it, and the next test gets a
  fresh one. How it ended is written to the outcomes file (``{"ended": ...}``): apps.py says so.
* A test the app skipped (``pytest.skip`` in its code: pytest's Skipped, raised in its process)
  fails like any other error, and is written down (``{"app_skipped": ...}``) for the flag.
* An app that patches pytest's own code in its process cannot reach the tests, but it is said
  (``{"patched": [...]}``, from app_side.process_report): no stage, as when it could (stage_outcomes.py).
* The temporary folders pytest makes for the tests, and the database files the tests write or
  open, are handed to the student's user, so that the app may write there.
* What the app's processes cost is written last (``{"app_cpu": seconds}``, as their keepers measured
  it): apps.py adds it to the app's CPU seconds, beside the test process's own.
"""
import json
import os

import pytest

from ..checks.student_side import student_side
from ..testing import app_under_test, stage_outcomes
from .remote import StudentCodeError, StudentProcess

REQUEST_TIMEOUT = 30.0   # seconds for one request to the app's process (a page, a start-up, a server)
TESTS_PER_PROCESS = 50   # then a fresh one: the apps a process made stay in it (its handles), and add up
APP_SIDE = app_under_test.APP_SIDE
PYTEST_OUTCOMES = ("Skipped", "Failed", "Exit", "XFailed")   # what pytest.skip()/fail()/exit() raise

_state = {}


def pytest_addoption(parser):
    parser.addoption("--app-sandbox", metavar="JSON",
                     help="grade: the app runs in a student process of this sandbox (remote.Sandbox.describe(), "
                          "with the process's cwd and log)")


@pytest.hookimpl(trylast=True)   # after the tmpdir plugin made its factory
def pytest_configure(config):
    text = config.getoption("--app-sandbox")
    if not text:
        return
    setup = json.loads(text)
    _state.update(setup=setup, process=None, modules={}, may_start=False, reported=False, item=None, served=0,
                  app_cpu=0.0)
    if setup.get("uid") is not None:
        app_under_test.app_owner["ids"] = (setup["uid"], setup["gid"])
        _hand_temporary_folders_over(config, setup["uid"], setup["gid"])
    student_side.use(_module)


@pytest.hookimpl(tryfirst=True)   # before stage_outcomes closes the outcomes file
def pytest_sessionfinish(session, exitstatus):
    if "setup" not in _state:
        return
    _close_process()
    stage_outcomes.write_record({"app_cpu": round(_state["app_cpu"], 3)})


def _close_process():
    """End the app's process, if any, and count what it cost."""
    process, _state["process"] = _state.get("process"), None
    ended = (process.close() or {}) if process is not None else {}
    cpu = ended.get("cpu")
    if type(cpu) in (int, float) and cpu >= 0:
        _state["app_cpu"] = _state.get("app_cpu", 0.0) + cpu
    return ended


def pytest_unconfigure(config):
    if "setup" not in _state:
        return
    _close_process()
    student_side.reset()
    app_under_test.app_owner.clear()
    _state.clear()


def _hand_temporary_folders_over(config, uid, gid):
    """Each folder pytest makes for a test (tmp_path, tmp_path_factory) is the app's user's."""
    factory = config._tmp_path_factory
    make = factory.mktemp

    def mktemp(basename, numbered=True):
        path = make(basename, numbered)
        os.chmod(factory.getbasetemp(), 0o711)   # others may pass through to the folders they are given
        os.chown(path, uid, gid)
        return path
    factory.mktemp = mktemp


def _process():
    process = _state["process"]
    if process is None:
        if not _state["may_start"]:
            raise StudentCodeError("the app's process ended during this test")
        setup = _state["setup"]
        process = StudentProcess(setup, setup["cwd"], log=setup.get("log"), timeout=REQUEST_TIMEOUT)
        _state.update(process=process, modules={}, served=0)
    elif not process.alive():
        raise StudentCodeError(process.broken)
    return process


def _module(name):
    """student_side.module when graded: the module in the app's process (a stand-in), one per process."""
    process = _process()
    if name not in _state["modules"]:
        module = _state["modules"][name] = process.module(name)
        if name == APP_SIDE:
            module.watch_the_test_runner()   # before any app runs in this process
    return _state["modules"][name]


def _stage(item):
    callspec = getattr(item, "callspec", None)
    target = callspec.params.get("target") if callspec else None
    return target[1] if target else None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if "setup" not in _state:
        return
    if _state["process"] is not None and _state["served"] >= TESTS_PER_PROCESS:
        _close_process()
        _state.update(served=0)
    _state.update(item=item, may_start=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if "setup" not in _state or call.excinfo is None:
        return
    error = call.excinfo.value
    if isinstance(error, StudentCodeError) and str(error).split(":")[0] in PYTEST_OUTCOMES:
        stage_outcomes.write_record({"app_skipped": item.nodeid, "stage": _stage(item), "what": str(error)[:200]})
    del outcome


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    if "setup" not in _state:
        return
    process = _state["process"]
    if process is not None and not process.alive():   # it ended (or hung) during this test: the next gets a new one
        hung = "out of time" in (process.broken or "")
        ended = _close_process()
        stage_outcomes.write_record({"ended": {"stage": _stage(item), "nodeid": item.nodeid,
                                               "status": None if hung else ended.get("status"),
                                               "why": process.broken}})
    elif process is not None and not _state["reported"]:
        try:
            patched = _module(APP_SIDE).process_report()
        except (StudentCodeError, TimeoutError):
            patched = []
        if type(patched) is list and patched:
            _state["reported"] = True
            stage_outcomes.write_record({"patched": [str(label)[:200] for label in patched[:5]]})
    _state["may_start"] = False
    _state["served"] += 1
