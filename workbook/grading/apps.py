"""Grading a student's my_app/: the highest stage whose behaviour tests (tests/stages) it passes.

The app runs in a student process of the grading run's sandbox (remote.py: as ``nobody``, the
grader's files hidden, where the machine allows); the tests run in a pytest process of the grader's,
the judge, which never imports the app's code and holds only stand-ins for the app, its test
clients and what the tests hand it (app_judge.py, workbook/testing/app_under_test.py). A skipped,
errored or missing test is a failed one; an app cannot end or patch the judge, only its own process
(the test then fails, the next gets a fresh process, and the grade says so). ``grade_app(...,
sandbox=None)`` runs the app in the test process itself, as before (and as check_my_app does).

One pytest process per app runs the stages' tests highest first and stops at the first
stage that passes entirely (workbook/testing/stage_outcomes.py). The stage comes from
the outcome of each test that pytest reported, never from the exit code: an app that
ends the test process early (``os._exit(0)`` included) gets no stage it did not finish.
When that happens, the stages below the one it died in are tested again in a new process.

Partial credit: the next stage's tests then run alone, all of them, so that the
grade says what share of them pass (``AppGrade.partial``) and names the ones that fail.
"The next stage" is the one above the stage passed, or the stage the app was built
from when that is higher (the app_steps/ app its app.py is closest to): a stage 6 app
with one bug fails the stage 5 tests too (stage 6 changed the flow), and its score is
5 plus the share of the stage 6 tests it passes, not 0.
"""
import atexit
import difflib
import json
import os
import re
import secrets
import tempfile
import threading
import time
from pathlib import Path

from ..stages import STAGES
from ..testing.stage_outcomes import app_cpu_seconds, app_process_ends, stage_results, test_outcomes
from .files import copy_tree, remove_tree
from .model import AppGrade, StageRun

DEFAULT_APP_TIMEOUT = 300    # seconds for an app's test run (as workbook.my_app)
STAGE_TEST_ARGS = ("-p", "workbook.testing.stage_outcomes",
                   # the fork server imported them (preload.py): already rewritten, nothing lost
                   "-W", "ignore::pytest.PytestAssertRewriteWarning")


_shared = {}
_shared_lock = threading.Lock()


def shared_sandbox():
    """The sandbox the apps of this grading process run in (remote.Sandbox: the handout and its zygote),
    started on first use, ended when the process ends."""
    from .remote import Sandbox
    with _shared_lock:
        if "sandbox" not in _shared:
            _shared["sandbox"] = Sandbox()
            atexit.register(_shared["sandbox"].close)
        return _shared["sandbox"].start()   # start() starts the zygote again if it ended


def run_tests(stages, app_dir, run_dir, timeout, engine, cancelled=None, extra_args=(), sandbox=None):
    """``sandbox`` (remote.Sandbox): the app runs in a student process of it, the tests here (app_judge.py);
    None: the app runs in the test process itself (as check_my_app does on a student's own machine)."""
    if sandbox is not None:
        run = _run_tests_judged(stages, app_dir, run_dir, timeout, engine, cancelled, extra_args, sandbox)
        run.cpu_seconds += app_cpu_seconds(run_dir / "outcomes.jsonl")   # the app's processes, beside the judge
        return run
    return _run_tests_in_process(stages, app_dir, run_dir, timeout, engine, cancelled, extra_args)


def _run_tests_judged(stages, app_dir, run_dir, timeout, engine, cancelled, extra_args, sandbox):
    """The app copied into a scratch folder of the student's user, the tests' temporary folders where that
    user may pass (on /dev/shm when it has room: see _memory_folder), the judge's plugin on."""
    from .files import copy_tree
    from .remote import give_to_student
    scratch = sandbox.scratch()
    outer = Path(tempfile.mkdtemp(prefix="workbook-stage-tests-", dir=_memory_folder() or scratch))
    try:
        outer.chmod(0o711)   # the student's user passes through to its own folders, and lists nothing
        app_copy = scratch / "my_app"
        copy_tree(app_dir, app_copy)
        give_to_student(app_copy, sandbox.describe())
        setup = {**sandbox.describe(), "cwd": str(scratch), "log": str(run_dir / "app.log")}
        basetemp = outer / secrets.token_hex(8)
        args = (*_run_args(run_dir, basetemp), "-p", "workbook.grading.app_judge", "--app-sandbox", json.dumps(setup),
                *extra_args)
        return _run_tests(stages, app_copy, run_dir, timeout, engine, cancelled, args)
    finally:
        remove_tree(outer)
        remove_tree(scratch)


def _run_tests_in_process(stages, app_dir, run_dir, timeout, engine, cancelled=None, extra_args=()):
    """Run the behaviour tests of ``stages`` on ``app_dir`` in a fresh process; a my_app.StageTestRun.

    Engine "fork": pytest.main in a worker forked from the grader's fork server, which has
    imported pytest, Flask and the workbook once; otherwise a fresh ``python -m pytest``.
    Either way the process and everything the app starts end with its process group.
    The outcome of each test goes to ``run_dir``/outcomes.jsonl (stage_outcomes.stage_results reads it);
    ``extra_args``: more pytest arguments (``-k``, ``-x``...).
    """
    basetemp = Path(tempfile.mkdtemp(prefix="workbook-stage-tests-", dir=_memory_folder() or run_dir))
    try:
        return _run_tests(stages, app_dir, run_dir, timeout, engine, cancelled, (*_run_args(run_dir, basetemp),
                                                                                 *extra_args))
    finally:
        remove_tree(basetemp)


def _run_tests(stages, app_dir, run_dir, timeout, engine, cancelled, args):
    from ..my_app import StageTestRun, run_stage_tests
    if engine != "fork":
        return run_stage_tests(stages, app_dir, timeout=timeout, cwd=run_dir, extra_args=(*STAGE_TEST_ARGS, *args))
    from .engine import start_worker
    from .worker import TestRunJob, serve_tests
    log = run_dir / "pytest.log"
    job = TestRunJob(args=test_run_args(stages, app_dir, args), cwd=str(run_dir), log=str(log))
    worker = start_worker(job, "fork", run_dir, target=serve_tests)
    returncode, cpu, crash, deadline = None, 0.0, "", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not (cancelled is not None and cancelled.is_set()):
            try:
                if worker.conn.poll(0.25):
                    kind, value = worker.conn.recv()
                    if kind == "done":
                        returncode, cpu = value["code"], value["cpu"]
                    else:  # "crashed": pytest itself could not run
                        returncode, crash = -1, f"\n{value}"
                    break
            except (EOFError, OSError):  # gone without a word: os._exit, a signal, a crash
                returncode = -1
                break
            if not worker.running():
                returncode = -1
                break
    finally:
        code = worker.kill()
    if returncode == -1 and code is not None:
        returncode = code
    output = (log.read_text(encoding="utf-8", errors="replace") if log.exists() else "") + crash
    if returncode is None:
        output += f"\ntimed out after {timeout:g} s"
    return StageTestRun(stages[-1], returncode, output, cpu_seconds=cpu)


def test_run_args(stages, app_dir, extra_args=()):
    """pytest's arguments for the grader's run of ``stages``' behaviour tests on ``app_dir``."""
    from ..my_app import stage_test_args
    return stage_test_args(stages, app_dir, (*STAGE_TEST_ARGS, *extra_args))


def _run_args(run_dir, basetemp):
    """This run's own outcomes file and temporary folder."""
    return ("--stage-outcomes", str(run_dir / "outcomes.jsonl"), "--basetemp", str(basetemp))


MEMORY_FOLDER = "/dev/shm"


def _memory_folder(room=512 * 2**20):
    """/dev/shm, if the system has one with room to spare, else None.

    The tests' databases live in their temporary folder: in memory, SQLite's syncs to disk
    cost nothing (a fifth of a stage 7 run's time, measured). A small /dev/shm (a container's
    64 MB) is left alone.
    """
    try:
        stats = os.statvfs(MEMORY_FOLDER)
    except OSError:
        return None
    return MEMORY_FOLDER if stats.f_bavail * stats.f_frsize >= room and os.access(MEMORY_FOLDER, os.W_OK) else None


def grade_app(app_folder, task_dir, timeout=DEFAULT_APP_TIMEOUT, cancelled=None, engine="spawn", partial=True,
              cache=None, sandbox="shared"):
    """The AppGrade of the app in ``app_folder``; ``task_dir`` is scratch space, ``cancelled`` an Event.

    ``sandbox``: where the app runs (remote.Sandbox); "shared": this process's (shared_sandbox); None: in
    the test process itself, as before the judge (app_judge.py)."""
    started = time.monotonic()
    if sandbox == "shared":
        sandbox = shared_sandbox()
    grade = AppGrade(0)
    if not (app_folder / "app.py").is_file():
        grade.notes.append("my_app: no app.py")
        return grade
    stages = sorted(s.number for s in STAGES)
    closest = closest_stage(app_folder) or 0
    # The stages whose share of passing tests partial credit will want (see _next_stage_share): the one
    # the app was built from, or the one above it. Their tests all run in this run, even after one failed,
    # so that no second run repeats them.
    # (Not those the class's cache already holds for these very files: see _next_stage_share.)
    files_hash = _files_hash(app_folder) if partial and cache is not None else None
    complete = sorted(number for number in {closest, closest + 1} & set(stages)
                      if (files_hash, number) not in (cache or {})) if partial else []
    complete_args = ("--complete-stages", ",".join(map(str, complete))) if complete else ()
    complete_outcomes = {}   # {stage: {test: outcome}} of those stages, from a run that finished
    attempt = 0
    ended = []   # the stages whose tests the app's process ended
    while stages and not (cancelled is not None and cancelled.is_set()):
        attempt += 1
        run_dir = task_dir / f"run{attempt}"
        copy_tree(app_folder, run_dir / "my_app")
        run = run_tests(stages, run_dir / "my_app", run_dir, timeout, engine, cancelled, extra_args=complete_args,
                        sandbox=sandbox)
        results, finished, last = stage_results(run_dir / "outcomes.jsonl")
        if finished and run.returncode is not None:
            complete_outcomes = {number: outcomes for number in complete
                                 if (outcomes := test_outcomes(run_dir / "outcomes.jsonl", number))
                                 and "not run" not in outcomes.values()}
        for stage_ended in sorted({(end.get("stage"), end.get("status")) for end in app_process_ends(
                run_dir / "outcomes.jsonl")}, key=str):   # the app's own process (app_judge.py)
            number, status = stage_ended
            grade.notes.append(f"my_app: the stage {number} tests ended the test process (exit code {status})"
                               if status is not None else f"my_app: the stage {number} tests stopped answering")
            if status is not None:
                ended.append((number, status))
        grade.cpu_seconds += run.cpu_seconds
        remove_tree(run_dir)
        for number, (passed, summary) in results.items():
            if passed or any(word in summary for word in ("passed", "failed", "skipped", "patched")):
                # (the stages not reached are left out)
                grade.runs.append(StageRun(number, passed, summary))
        passing = [number for number, (passed, _summary) in results.items() if passed]
        if passing:
            grade.stage = max(passing)
            break
        load_error = app_load_error(run.output)
        if load_error:
            grade.notes.append(f"my_app: {load_error}")
            break
        if finished:
            grade.notes.append("my_app: passes no stage's tests")
            break
        if not results:  # not even collected: the tests themselves could not start
            lines = [line for line in run.output.splitlines() if line.strip()]
            grade.notes.append(f"my_app: the behaviour tests did not start ({lines[-1][:200] if lines else '?'})")
            break
        # Cut short: by the timeout, or by the app ending the process. Retry below where it stopped.
        stopped_in = last if last is not None else max(stages)
        how = (f"timed out after {timeout:g} s" if run.returncode is None
               else f"ended the test process (exit code {run.returncode})")
        grade.notes.append(f"my_app: the stage {stopped_in} tests {how}")
        if run.returncode is not None:
            ended.append((stopped_in, run.returncode))
        stages = [number for number in stages if number < stopped_in]
    skipped = [run.stage for run in grade.runs if " skipped" in run.summary]
    if skipped:
        grade.flags.append(f"the app skipped behaviour tests (stage {', '.join(map(str, skipped))}): pytest.skip() in "
                           "the app? A skipped test counts as failed")
    patched = next((run.summary.split(";")[0] for run in grade.runs if "patched the test process" in run.summary), None)
    if patched:
        grade.flags.append(f"{patched}: no stage")
    if ended:
        codes = sorted({str(code) for _stage, code in ended})
        grade.flags.append(f"the app ended the test process during the tests (of stage "
                           f"{', '.join(str(stage) for stage, _code in ended)}; exit code {', '.join(codes)}): "
                           "os._exit() or exit() in the app?")
    top = max(s.number for s in STAGES)
    if partial and grade.stage is not None and grade.stage < top and not grade.flags and \
            not (cancelled is not None and cancelled.is_set()) and not any("import error" in n for n in grade.notes):
        _next_stage_share(grade, app_folder, task_dir, timeout, engine, cancelled, cache, sandbox, closest,
                          complete_outcomes)
    grade.seconds = time.monotonic() - started
    return grade


def _files_hash(folder):
    import hashlib

    from .files import SKIP_FOLDERS
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()
                       and not (SKIP_FOLDERS | {"instance"}) & set(p.relative_to(folder).parts)):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def closest_stage(app_folder):
    """The stage whose app_steps/ app.py the app's app.py is most like (None without an app.py)."""
    try:
        mine = (app_folder / "app.py").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    best, number = -1.0, None
    for stage in STAGES:
        try:
            theirs = (stage.folder / "app.py").read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        ratio = difflib.SequenceMatcher(None, mine, theirs, autojunk=False).ratio()
        if ratio > best:
            best, number = ratio, stage.number
    return number


def _next_stage_share(grade, app_folder, task_dir, timeout, engine, cancelled, cache=None, sandbox=None,
                      closest=None, known=None):
    """Run every test of the stage above the one passed (or the one the app was built from): the share
    that pass, and which fail. ``known``: {stage: outcomes} of stages whose every test the grading run
    itself ran (``--complete-stages``): taken as they are. ``cache``: {(the app's files' hash, stage):
    outcomes}, shared by a class, so that apps with the same files (untouched copies of a stage, most
    often) run them once."""
    number = max(grade.stage + 1, (closest_stage(app_folder) if closest is None else closest) or 0)
    outcomes = (known or {}).get(number)
    key = (_files_hash(app_folder), number)
    if outcomes is not None:
        if cache is not None:
            cache.setdefault(key, outcomes)   # for the apps with the same files, as a run of its own would be
    elif cache is not None:
        outcomes = cache.get(key)
    if outcomes is None:
        run_dir = task_dir / "next"
        copy_tree(app_folder, run_dir / "my_app")
        run = run_tests([number], run_dir / "my_app", run_dir, timeout, engine, cancelled, sandbox=sandbox)
        grade.cpu_seconds += run.cpu_seconds
        outcomes = test_outcomes(run_dir / "outcomes.jsonl", number)
        remove_tree(run_dir)
        if cache is not None and outcomes and run.returncode is not None:
            cache[key] = outcomes
    if not outcomes:
        return
    passed = sum(1 for outcome in outcomes.values() if outcome == "passed")
    grade.partial = passed / len(outcomes)
    grade.next_stage = (number, passed, len(outcomes))
    grade.failing = [name for name, outcome in outcomes.items() if outcome != "passed"]


def app_load_error(output):
    """'import error (SyntaxError: ...)' when the app could not even be loaded, else None."""
    for line in output.splitlines():
        if "AppLoadError:" in line:
            text = line.split("AppLoadError:", 1)[1].strip()
            if "failed to import:" in text:
                return "import error (" + text.split("failed to import:", 1)[1].strip()[:200] + ")"
            return "cannot load the app (" + re.sub(r"\S*/", "", text)[:200] + ")"
    return None
