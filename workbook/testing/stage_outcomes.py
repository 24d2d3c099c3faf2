"""A pytest plugin for grading a my_app/: every stage's behaviour tests in one run, highest stage first.

    pytest tests/stages --app-dir DIR --stages 1,2,3,4,5,6,7 -p workbook.testing.stage_outcomes \\
        --stage-outcomes OUT.jsonl

It writes one JSON line per event to OUT.jsonl, as they happen, so that a run
cut short (a timeout, an app that calls ``os._exit``) still says how far it got:

    {"collected": {"7": [nodeid, ...], "6": [...], ...}}     once, before any test runs
    {"nodeid": ..., "stage": 7, "when": "call", "outcome": "failed"}   each phase of each test
    {"finished": true}                                        the run ended normally

Each test runs once: a test marked for several stages has the same outcome on the same app,
unless it asks for the ``stage`` fixture (then it runs once per stage). Its outcome at the
highest stage is reused at the lower ones (reported with ``"reused": true``).

The tests run stage by stage, from the highest. Once a test of a stage fails, that
stage's other tests are skipped before their fixtures (as ``-x``), except in the stages named by
``--complete-stages`` (the grader's guess at the stage whose share of passing tests it will want for
partial credit: workbook/grading/apps.py), unless their first ``HOPELESS`` tests all failed (an app
that does not start fails them all, quickly or not); once every test of a stage has passed,
the run stops: lower stages cannot raise the grade. ``stage_results`` reads the file
back; the grade comes from it, never from pytest's exit code. A test the app skipped (``pytest.skip``
in its code) or never let run counts as failed; an app that patches pytest or this plugin
(``{"patched": [...]}``, see ``_guard_snapshot``) gets no stage at all.
"""
import json
import re

import pytest

_state = {}
# A stage run whole whose first 50 tests all failed stops as the others do. Apps of the stage below fail
# up to 34 tests before their first pass (measured: a stage 5 app in stage 6's order, 28 for stage 6 in
# stage 7's); a higher count only costs a second run for the share, never a verdict.
HOPELESS = 50


def pytest_addoption(parser):
    parser.addoption("--stage-outcomes", metavar="FILE.jsonl", help="write each stage test's outcome here")
    parser.addoption("--complete-stages", metavar="N,M", default="",
                     help="with --stage-outcomes: run every test of these stages, even after one failed")


def _stage(item):
    callspec = getattr(item, "callspec", None)
    target = callspec.params.get("target") if callspec else None
    return target[1] if target else None


def write_record(record):
    """Add a record to the outcomes file (workbook.grading.app_judge: what the app's process did)."""
    _write(record)


def _write(record):
    handle = _state.get("file")
    if handle is not None:
        handle.write(json.dumps(record) + "\n")
        handle.flush()


def pytest_configure(config):
    path = config.getoption("--stage-outcomes")
    if path:
        _state.update(file=open(path, "w", encoding="utf-8"), failed=set(), stages={}, not_run=set(), keys={},
                      outcomes={}, reused={}, guard=_guard_snapshot(),
                      complete={int(n) for n in config.getoption("--complete-stages").split(",") if n.strip()},
                      tally={}, counted=set())


@pytest.hookimpl(trylast=True)  # after tests/stages/conftest.py has kept each stage's own tests
def pytest_collection_modifyitems(session, config, items):
    if "file" not in _state:
        return
    items.sort(key=lambda item: -(_stage(item) or 0))  # stable: each stage's tests keep their order
    collected = {}
    for item in items:
        collected.setdefault(str(_stage(item)), []).append(item.nodeid)
        _state["stages"][item.nodeid] = _stage(item)
        _state["keys"][item.nodeid] = _same_test(item)
    # One stage (check_my_app): run all its tests, so that every failing one is named.
    _state["stop_early"] = len(collected) > 1
    _write({"collected": collected})


def _same_test(item):
    """The test apart from the stage it is aimed at; None when its outcome may depend on the stage."""
    if "stage" in item.fixturenames:
        return None
    return re.sub(r"\[stage\d+-", "[", item.nodeid)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if "file" not in _state:
        return
    if _stage(item) in _state["failed"] and _state.get("stop_early", True) and not _runs_whole(_stage(item)):
        _state["not_run"].add(item.nodeid)
        pytest.skip("this stage already failed")  # its other tests cannot change the grade
    known = _state["outcomes"].get(_same_test(item))
    if known is not None:
        _state["reused"][item.nodeid] = known
        pytest.skip(f"{known} at a higher stage")  # the same test on the same app: the same outcome


def _runs_whole(stage):
    """Whether every test of ``stage`` runs, even after one failed (--complete-stages, and not hopeless)."""
    passed, failed = _state["tally"].get(stage, (0, 0))
    return stage in _state["complete"] and (passed > 0 or failed < HOPELESS)


def _count(nodeid, stage, outcome):
    """One test's outcome in its stage's tally: its first failure, else its pass once its teardown passed."""
    if nodeid in _state["counted"]:
        return
    _state["counted"].add(nodeid)
    passed, failed = _state["tally"].get(stage, (0, 0))
    _state["tally"][stage] = (passed + (outcome == "passed"), failed + (outcome == "failed"))


def pytest_runtest_logreport(report):
    if "file" not in _state:
        return
    stage = _state["stages"].get(report.nodeid)
    reused = _state["reused"].get(report.nodeid)
    if reused is not None and report.when == "setup":
        for when in ("setup", "call"):
            _write({"nodeid": report.nodeid, "stage": stage, "when": when, "outcome": reused, "reused": True})
        if reused == "failed":
            _state["failed"].add(stage)
        _count(report.nodeid, stage, reused)
        return
    if report.when == "teardown":
        _check_guard()
    outcome = "not run" if report.nodeid in _state["not_run"] else report.outcome
    _write({"nodeid": report.nodeid, "stage": stage, "when": report.when, "outcome": outcome})
    if report.failed:
        _state["failed"].add(stage)
    if outcome in ("passed", "failed") and (report.failed or report.when == "teardown"):
        _count(report.nodeid, stage, outcome)
    key = _state["keys"].get(report.nodeid)
    if key is not None and outcome in ("passed", "failed") and reused is None:
        if report.failed or report.when == "teardown":  # passed: only once its teardown passed too
            _state["outcomes"].setdefault(key, "failed" if report.failed else "passed")


def pytest_runtest_teardown(item, nextitem):
    if "file" not in _state:
        return
    stage = _stage(item)
    if stage not in _state["failed"] and (nextitem is None or _stage(nextitem) != stage):
        # every test of this stage ran and none failed (its teardown is reported later, and
        # is checked when the file is read): stop here
        item.session.shouldstop = f"stage {stage} passed"


def pytest_sessionfinish(session, exitstatus):
    if "file" in _state:
        _check_guard()
        _write({"finished": True})
        _state.pop("file").close()


def stage_results(path):
    """Read an outcomes file: ({stage: (passed, summary)}, finished, last stage reported), highest first.

    A stage passes when it has tests and every phase of every one of them was reported
    and none failed. Tests never reported (the run stopped, or the process died) count
    against their stage.
    """
    collected, finished, phases, last, patched, app_skipped = {}, False, {}, None, None, set()
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        return {}, False, None
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by a dying process
        if "collected" in record:
            collected = {int(stage): ids for stage, ids in record["collected"].items() if stage != "None"}
        elif record.get("finished"):
            finished = True
        elif "patched" in record:
            patched = record["patched"]
        elif "app_skipped" in record:   # workbook.grading.app_judge: failed, because the app skipped it
            app_skipped.add(record["app_skipped"])
        elif "nodeid" in record:
            phases.setdefault(record["nodeid"], {})[record["when"]] = record["outcome"]
            last = record.get("stage")
    results = {}
    for stage in sorted(collected, reverse=True):
        counts = {"passed": 0, "failed": 0, "skipped": 0, "not run": 0}
        for nodeid in collected[stage]:
            seen = phases.get(nodeid, {})
            if nodeid in app_skipped:
                counts["skipped"] += 1
            elif "failed" in seen.values():
                counts["failed"] += 1
            elif "not run" in seen.values():
                counts["not run"] += 1
            elif seen.get("setup") == "skipped" or seen.get("call") == "skipped":  # the plugin's own are "not run"
                counts["skipped"] += 1 if "teardown" in seen else 0
                counts["not run"] += 0 if "teardown" in seen else 1
            elif seen.get("call") == "passed" and seen.get("teardown") == "passed":
                counts["passed"] += 1
            else:
                counts["not run"] += 1
        passed = bool(collected[stage]) and not patched and counts["passed"] == len(collected[stage])
        summary = ", ".join(f"{count} {what}" for what, count in counts.items() if count) or "no tests"
        if patched:
            summary = f"the app patched the test process ({', '.join(patched)}); {summary}"
        results[stage] = (passed, summary)
    return results, finished, last


def app_process_ends(path):
    """[{"stage", "nodeid", "status", "why"}]: each time the app's own process ended or stopped answering
    during a test (workbook.grading.app_judge), in order."""
    ends = []
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        return ends
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("ended"), dict):
            ends.append(record["ended"])
    return ends


def app_cpu_seconds(path):
    """The CPU seconds the app's own processes used (workbook.grading.app_judge writes it; 0 without)."""
    total = 0.0
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        return total
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and type(record.get("app_cpu")) in (int, float):
            total += record["app_cpu"]
    return total


def test_outcomes(path, stage):
    """{test name: "passed" / "failed" / "not run"} for the tests of ``stage`` in an outcomes file.

    Names as a student can look them up in tests/stages: without the stage and app parameters.
    """
    collected, phases = [], {}
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except OSError:
        return {}
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if "collected" in record:
            collected = record["collected"].get(str(stage), [])
        elif "nodeid" in record:
            phases.setdefault(record["nodeid"], {})[record["when"]] = record["outcome"]
    outcomes = {}
    for nodeid in collected:
        seen = phases.get(nodeid, {})
        if "failed" in seen.values():
            outcome = "failed"
        elif seen.get("call") == "passed" and seen.get("teardown") == "passed":
            outcome = "passed"
        else:
            outcome = "not run"
        name = re.sub(r"\[stage\d+-[^\]-]+\]$", "", nodeid.split("::")[-1])  # the stage and the app are known
        outcomes[re.sub(r"stage\d+-[^\]-]+-", "", name)] = outcome
    return outcomes


# The test process's own code: an app that rebinds a function of pytest's runner, its reports or this
# plugin (``Function.runtest = lambda self: None``) would pass every test. Snapshotted before any app
# code runs, compared after each test: a change is reported, and the run gives no stage.
GUARDED = ("_pytest.runner", "_pytest.python", "_pytest.reports", "_pytest.outcomes", "_pytest.main",
           "_pytest.fixtures", "_pytest.skipping", "_pytest.nodes", "pluggy._hooks", "pluggy._callers",
           "pluggy._manager", __name__)


def _guard_snapshot():
    import sys
    saved = []
    for name in GUARDED:
        module = sys.modules.get(name)
        for owner, where in [(name, vars(module))] if module is not None else []:
            for key, value in list(where.items()):
                if not key.startswith("__"):
                    saved.append((f"{owner}.{key}", where, key, value))
                if isinstance(value, type) and value.__module__ == name:
                    saved += [(f"{owner}.{key}.{attr}", value.__dict__, attr, member)
                              for attr, member in list(vars(value).items()) if not attr.startswith("__")]
    return saved


def changed_since(saved):
    """The labels of what a ``_guard_snapshot()`` saw that is no longer there as it was."""
    return [label for label, where, key, value in saved if where.get(key, changed_since) is not value]


def _check_guard():
    if _state.get("patched") or "guard" not in _state:
        return
    changed = changed_since(_state["guard"])
    if changed:
        _state["patched"] = True
        _write({"patched": changed[:5]})
