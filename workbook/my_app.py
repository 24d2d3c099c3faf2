"""Your own app, in my_app/: start it from a stage, and test it with the stage's behaviour tests.

The tests are the same ones the project runs on app_steps/ and the instructor's
checker runs on your submission (tests/stages, aimed at your folder).
"""
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from . import ROOT
from .stages import stage as stage_by_number

# WORKBOOK_MY_APP moves it (the grader points it at a scratch copy of a student's my_app/).
MY_APP = Path(os.environ.get("WORKBOOK_MY_APP") or ROOT / "my_app")
STAGE_TESTS = ROOT / "tests" / "stages"


COPY_IGNORES = ("instance", "__pycache__", "CHANGES.diff")


def start_from(number, folder=None, part=None):
    """Copy stage ``number``'s app into ``folder`` (default: my_app/) to work on.

    Work already in the folder is never overwritten: the folder is first moved
    aside to ``my_app.before_stage_N/`` (``.2``, ``.3``... if that name is taken),
    and the message says where. A folder that is still an untouched copy of the
    same stage is left as it is.

    ``part`` (stage 7 only): lesson 07's part you are about to start. The copy then has the
    defences of that part and every later one not built yet (workbook/lesson_07_start.py):
    each place says "Not built yet: Part N's Build", and that part's Build puts yours there.
    """
    import tempfile

    folder = Path(folder) if folder is not None else MY_APP
    if part is not None and (number != 7 or not isinstance(part, int) or not 1 <= part <= 10):
        print("❌ part= goes with stage 7 only, and names a part of lesson 07 (1 to 10): "
              "start_from(7, part=1) starts the lesson, start_from(7, part=5) catches up before Part 5.")
        return None
    with tempfile.TemporaryDirectory(prefix="workbook-start-") as scratch:
        source = stage_by_number(number).folder
        if part is not None:
            from .lesson_07_start import open_places

            shutil.copytree(source, Path(scratch) / "stage", ignore=shutil.ignore_patterns(*COPY_IGNORES))
            source = Path(scratch) / "stage"
            open_places(source, part)
        what = f"stage {number}" + (f", ready for Part {part}," if part is not None else "")
        if folder.exists() and any(folder.iterdir()):
            if _same_files(folder, source):
                print(f"{folder} is already an untouched copy of {what}: nothing to do. "
                      f"Edit {folder / 'app.py'}.")
                return folder
            backup = _free_name(folder.with_name(f"{folder.name}.before_stage_{number}"))
            folder.rename(backup)
            print(f"Your earlier work in {folder} is safe: it moved, untouched, to {backup}.")
        else:
            backup = None
        shutil.copytree(source, folder, ignore=shutil.ignore_patterns(*COPY_IGNORES))
        replaced = what_start_from_replaced(backup, number, copied=source) if backup is not None else None
    print(f"Copied {what} into {folder}: edit {folder / 'app.py'}.")
    if part is not None:
        from .lesson_07_start import parts_not_built

        waiting = parts_not_built(folder)
        if waiting:
            print(f"Not built yet: the defences of {_parts_in_words(waiting)}. Each place says "
                  "\"Not built yet: Part N's Build\", and that part's Build puts yours there.")
    if replaced is not None:
        print(replaced.report(number, backup.name), end="")
    return folder


def _parts_in_words(parts):
    if len(parts) == 1:
        return f"Part {parts[0]}"
    return "Parts " + ", ".join(map(str, parts[:-1])) + f" and {parts[-1]}"


@dataclass
class Replaced:
    """What start_from's copy of a stage put in place of the student's own work: lines such as
    ``"auth.py: login, logout"``, in three groups."""
    fits: list      # the stage has it as the stage before had it: the student's own goes back as it is
    rewritten: list  # the stage changed it: the student's stays in the folder moved aside, to read
    only_yours: list  # the stage has nothing of that name

    def report(self, number, backup_name):
        groups = [
            (self.fits, f"Stage {number} has these as stage {number - 1} had them, so yours fit as they are: "
                        f"copy yours back from {backup_name}/ over stage {number}'s:"),
            (self.rewritten, f"Stage {number} rewrote these, so its own take the place of yours "
                             f"(yours stay in {backup_name}/):"),
            (self.only_yours, f"Only in your app, not in stage {number}'s (copy back from {backup_name}/ "
                              "what you still want):"),
        ]
        return "".join(title + "\n" + "".join(f"  {line}\n" for line in lines) for lines, title in groups if lines)


def what_start_from_replaced(yours, number, copied=None):
    """What a copy of stage ``number`` puts in place of the student's work in the folder ``yours``, file by file.

    Only the student's own work counts: a function or class (a route inside ``create_app`` too) written
    differently from every stage's (docstrings and comments aside), and a file other than Python that is no
    stage's copy. A function the stage keeps in another file is compared with that one, and named with it.
    ``copied``: the folder actually copied, when it is not the stage's own (lesson 07's start, whose places
    not built yet are no student's work either).
    """
    from .stages import STAGES

    this_stage = _code_by_file(Path(copied) if copied is not None else stage_by_number(number).folder)
    before = _code_by_file(stage_by_number(number - 1).folder) if number > 1 else {}
    stages_files, stages_functions = set(), set()  # every stage's own files other than Python; its functions
    for each in STAGES:
        for name, path in _files(each.folder, hidden=False).items():
            if name.suffix != ".py":
                stages_files.add((name, path.read_bytes()))
        stages_functions |= {(qualname.rsplit(".", 1)[-1], dump) for code in _code_by_file(each.folder).values()
                             for qualname, dump in code.items()}
    if number == 7:  # lesson 07's starting app: its places not built yet are no student's work either
        import tempfile

        from .lesson_07_start import PARTS, open_places
        for part in (1, max(PARTS) + 1):  # every place open; none (a catch-up after the last part's)
            with tempfile.TemporaryDirectory(prefix="workbook-start-") as scratch:
                opened = Path(scratch) / "stage"
                shutil.copytree(stage_by_number(7).folder, opened, ignore=shutil.ignore_patterns(*COPY_IGNORES))
                open_places(opened, part)
                stages_functions |= {(qualname.rsplit(".", 1)[-1], dump) for code in _code_by_file(opened).values()
                                     for qualname, dump in code.items()}
    stage_files = _files(stage_by_number(number).folder, hidden=False)
    fits, rewritten, only_yours = [], [], []
    for name, path in sorted(_files(yours, hidden=False).items(), key=lambda item: (len(item[0].parts), str(item[0]))):
        if name.suffix != ".py":
            if (name, path.read_bytes()) in stages_files:
                continue
            if name not in stage_files:
                only_yours.append(name.as_posix())
            elif path.read_bytes() != stage_files[name].read_bytes():
                rewritten.append(name.as_posix())
            continue
        mine = _definitions(path)
        if mine is None:
            rewritten.append(f"{name.as_posix()} (all of it: Python could not read your copy)")
            continue
        groups = {"fits": [], "rewritten": [], "only_yours": []}
        for qualname, dump in mine.items():
            short = qualname.rsplit(".", 1)[-1]
            if (short, dump) in stages_functions:
                continue  # a stage's own code, unchanged: not the student's work
            found = _find(this_stage, name, qualname)
            if found is None:
                groups["only_yours"].append(short)
                continue
            where, stage_dump = found
            label = short if where == name else f"{short} (stage {number} has it in {where.as_posix()})"
            previous = _find(before, name, qualname)
            groups["fits" if previous is not None and previous[1] == stage_dump else "rewritten"].append(label)
        for group, names in (("fits", fits), ("rewritten", rewritten), ("only_yours", only_yours)):
            if groups[group]:
                names.append(f"{name.as_posix()}: {', '.join(groups[group])}")
    return Replaced(fits, rewritten, only_yours)


def _code_by_file(folder):
    """``{file: {qualified name: code}}`` for the Python files of a stage's folder."""
    return {name: _definitions(path) or {} for name, path in _files(folder, hidden=False).items() if name.suffix == ".py"}


def _find(code_by_file, name, qualname):
    """``(file, code)`` of ``qualname`` in the file ``name``, else of a function of that name in another file."""
    if qualname in code_by_file.get(name, {}):
        return name, code_by_file[name][qualname]
    short = qualname.rsplit(".", 1)[-1]
    for other, code in sorted(code_by_file.items()):
        for each, dump in code.items():
            if each.rsplit(".", 1)[-1] == short:
                return other, dump
    return None


def _definitions(path):
    """``{qualified name: its code}`` for the file's functions and classes, and the routes inside ``create_app``,
    each without its docstring; None when the file is not Python that parses."""
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, ValueError, UnicodeDecodeError):
        return None
    found = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qualname = f"{prefix}{child.name}"
                body = child.body[1:] if ast.get_docstring(child) is not None and len(child.body) > 1 else child.body
                found.setdefault(qualname, ast.dump(type(child)(**{**vars(child), "body": body})))
                if qualname == "create_app":  # the app factory: its routes and error handlers are inside it
                    visit(child, f"{qualname}.")
            elif not isinstance(child, ast.expr):  # an if, a try, a with at the top of the file
                visit(child, prefix)
    visit(tree, "")
    return found


def _free_name(path):
    """``path``, or ``path.2``, ``path.3``...: the first that does not exist yet."""
    candidate, count = path, 1
    while candidate.exists():
        count += 1
        candidate = path.with_name(f"{path.name}.{count}")
    return candidate


def _files(folder, hidden=True):
    """The files start_from copies or compares, by path in ``folder``; ``hidden=False`` leaves out those under a
    name that starts with a dot (an editor's .ipynb_checkpoints/, .DS_Store)."""
    ignored = set(COPY_IGNORES)
    return {path.relative_to(folder): path for path in folder.rglob("*")
            if path.is_file() and not ignored & set(path.relative_to(folder).parts)
            and (hidden or not any(part.startswith(".") for part in path.relative_to(folder).parts))}


def _same_files(folder, source):
    """True when ``folder`` holds exactly the files start_from copies from ``source``, unchanged."""
    mine, theirs = _files(folder), _files(source)
    return mine.keys() == theirs.keys() and all(mine[name].read_bytes() == theirs[name].read_bytes() for name in mine)


@dataclass
class StageTestRun:
    stage: int
    returncode: int | None   # None: timed out
    output: str
    cpu_seconds: float = 0.0  # what the test process used, when the grader's worker measured it
    # From pytest's own per-test reports (workbook.testing.stage_outcomes), never from the exit code alone:
    # an app that calls os._exit(0) in the middle of the tests ends pytest with status 0 too.
    stage_passed: bool | None = None
    finished: bool = False    # pytest reached the end of its session (nothing ended the process early)
    stage_summary: str = ""   # the plugin's count for the stage: "12 passed", "1 skipped, 11 passed"...

    @property
    def passed(self) -> bool:
        # Not returncode == 0: the plugin stops pytest once the stage has passed (pytest then says "interrupted").
        return bool(self.stage_passed) and self.finished and self.returncode is not None

    def summary(self) -> str:
        lines = [line for line in self.output.strip().splitlines() if line.strip()]
        return lines[-1] if lines else "(no output)"


# The behaviour tests need no installed pytest plugin: loading none (nbval, xdist, anyio...) saves
# ~0.6 s of start-up per run, and the student's check and the grader run the tests alike. Options
# someone set for their own pytest runs (PYTEST_ADDOPTS: -x, --lf, a plugin) must not change a grade.
STAGE_TEST_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTEST_ADDOPTS": ""}


def stage_test_args(number, app_dir=None, extra_args=()):
    """pytest's arguments for the behaviour tests of stage ``number`` (or a list of stages) on ``app_dir``."""
    app_dir = app_dir if app_dir is not None else MY_APP
    stages = ["--stage", str(number)] if isinstance(number, int) else ["--stages", ",".join(map(str, number))]
    return [str(STAGE_TESTS), "--app-dir", str(Path(app_dir).resolve()), *stages, "-q", "--no-header",
            "-p", "no:cacheprovider", "--rootdir", str(ROOT),
            # The project's pytest settings (the stages mark, its plugins) even when app_dir lies outside
            # the checkout: pytest would otherwise look for them above a folder both paths share.
            "-c", str(ROOT / "pyproject.toml"), *extra_args]


def run_stage_tests(number, app_dir=None, timeout=300, extra_args=(), cwd=ROOT) -> StageTestRun:
    """Run the behaviour tests of stage ``number`` against the app in ``app_dir``, in a fresh process.

    ``number`` may also be a list of stages, all tested in that one process (the grader does this).
    ``cwd`` is where that process (and so the app) runs: the grader gives it a scratch folder.
    Whether the stage passed is read from each test's reported outcome (the stage_outcomes
    plugin), so an app that ends the test process early never passes.
    """
    import tempfile

    from .testing.stage_outcomes import stage_results
    with tempfile.TemporaryDirectory(prefix="workbook-stage-tests-") as scratch:
        if "--stage-outcomes" in extra_args:  # the grader reads the file itself
            outcomes = Path(extra_args[list(extra_args).index("--stage-outcomes") + 1])
        else:
            outcomes = Path(scratch) / "outcomes.jsonl"
            extra_args = (*extra_args, "-p", "workbook.testing.stage_outcomes", "--stage-outcomes", str(outcomes))
        command = [sys.executable, "-m", "pytest", *stage_test_args(number, app_dir, extra_args)]
        # Its own process group, so that a timeout also ends anything the app started.
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   errors="replace", start_new_session=(os.name == "posix"),
                                   env={**os.environ, **STAGE_TEST_ENV})
        try:
            stdout, stderr = process.communicate(timeout=timeout)
            finished = True
        except subprocess.TimeoutExpired:
            finished = process.poll() is not None  # pytest is done; something it started still holds the pipes
            _kill_group(process)
            stdout, stderr = process.communicate()
        _kill_group(process)
        results, session_finished, _last = stage_results(outcomes)
    top = number if isinstance(number, int) else max(number)
    stage_passed, stage_summary = results.get(top, (False, ""))
    if not finished:
        return StageTestRun(number, None, stdout + stderr + f"\ntimed out after {timeout} s")
    return StageTestRun(number, process.returncode, stdout + stderr, stage_passed=stage_passed,
                        finished=session_finished, stage_summary=stage_summary)


def _kill_group(process):
    """End ``process`` and whatever it started (its process group, on POSIX)."""
    try:
        if os.name == "posix":
            os.killpg(process.pid, 9)
        elif process.poll() is None:
            process.kill()
    except (ProcessLookupError, PermissionError):
        pass


SHOWN_FAILURES = 15


def failure_lines(reasons, output):
    """Each failed test (at most SHOWN_FAILURES), with why it failed on the line below it."""
    if not reasons:
        failures = [line for line in output.splitlines() if line.startswith(("FAILED", "ERROR"))]
        return "\n".join(failures[:SHOWN_FAILURES]) or output[-2000:]
    lines = []
    for failure in reasons[:SHOWN_FAILURES]:
        label = "FAILED" if failure["when"] == "call" else f"ERROR ({failure['when']})"
        lines.append(f"{label} {failure['nodeid'].split('::', 1)[-1]}")
        lines.append(f"    why: {failure['reason']}" + (f"  at {failure['where']}" if failure["where"] else ""))
    if len(reasons) > SHOWN_FAILURES:
        lines.append(f"... and {len(reasons) - SHOWN_FAILURES} more: fix these first, then run the check again.")
    return "\n".join(lines)


def check_my_app(number, app_dir=None):
    """Print whether your app passes stage ``number``'s tests, with the failures if not."""
    app_dir = app_dir if app_dir is not None else MY_APP
    if not (Path(app_dir) / "app.py").is_file():
        print(f"❌ There is no {Path(app_dir) / 'app.py'} yet: run start_from({number}) first.")
        return None
    import tempfile

    from .lesson_07_start import parts_not_built
    from .testing import failure_reasons
    # Lesson 07's app starts with its defences not built yet: their tests wait for their parts' Builds.
    waiting = parts_not_built(app_dir) if number == 7 else []
    with tempfile.TemporaryDirectory(prefix="workbook-check-") as scratch:
        reasons_file = Path(scratch) / "reasons.jsonl"
        run = run_stage_tests(number, app_dir, extra_args=(
            "--tb=line", "-p", "workbook.testing.failure_reasons", "--failure-reasons", str(reasons_file),
            "--failure-reasons-app", str(Path(app_dir).resolve()), "--not-built", ",".join(map(str, waiting))))
        reasons = failure_reasons.read(reasons_file)
    not_yet = (f"Not built yet: the defences of {_parts_in_words(waiting)}, whose places in your app say "
               "\"Not built yet: Part N's Build\". Their tests wait: each runs once its part's Build is done."
               if waiting else "")
    if run.passed and waiting:
        print(f"✅ Your app passes every stage {number} test of what it has built so far: {run.summary()}")
        print(not_yet)
    elif run.passed:
        print(f"✅ Your app passes every stage {number} test: {run.summary()}")
    elif run.returncode is not None and not run.finished:
        # pytest never reached its end: something in the app ended the test process (os._exit, exit()).
        print(f"❌ Stage {number} tests did not finish: the test process ended early (exit code "
              f"{run.returncode}). Does your app call os._exit() or exit()? A test counts only once it has run.")
    elif "patched the test process" in run.stage_summary:
        print(f"❌ Stage {number}: {run.stage_summary.split(';')[0]}. A test counts only when pytest itself ran it.")
    else:
        print(f"❌ Stage {number} tests: {run.summary()}")
        if " skipped" in run.stage_summary:
            print("A skipped test counts as failed: does your app call pytest.skip()?")
        print(failure_lines(reasons, run.output))
        if waiting:
            print(not_yet)
    return None


def attack_my_app(exercise_id, attack, app_dir=None):
    """Run your attack from lesson 07 (exercise "7.A1", "7.A2" or "7.A3") against your own app: before the Build
    that defends against it, ✅ when it gets in (the app is open to it, as stage 6 was); after, ✅ when your app
    turns it away, as stage 7 did in the lesson."""
    from .checks.lesson_07 import YOUR_DEFENCE, OwnersLoginFailed, against_your_app
    from .lesson_07_start import MARKER, PART_OF_ATTACK, files_not_built, parts_not_built

    app_dir = Path(app_dir) if app_dir is not None else MY_APP
    if exercise_id not in YOUR_DEFENCE:
        print(f"❌ {exercise_id!r} is not one of lesson 07's attacks: give \"7.A1\", \"7.A2\" or \"7.A3\".")
        return None
    if not (app_dir / "app.py").is_file():
        print(f"❌ There is no {app_dir / 'app.py'} yet: do lesson 07's first Build step first.")
        return None
    try:
        got_in, what = against_your_app(exercise_id, attack, app_dir)
    except NotImplementedError:
        print(f"⏳ Finish Exercise {exercise_id} first: this runs your own attack.")
        return None
    except OwnersLoginFailed as error:
        print(f"❌ Your app refused Alice's own login, before any attack: {error}. The attack's scene starts with her "
              f"logged in. Look at {YOUR_DEFENCE[exercise_id]}; check_my_app(7) names every test this fails.")
        return None
    except Exception as error:  # noqa: BLE001 - the student's app or attack failed: say so, never a traceback
        print(f"❌ The scene could not be played on your app ({type(error).__name__}: {error}). Run "
              "check_my_app(7) first and fix what it names; and get ✅ from your attack's check.")
        return None
    part = PART_OF_ATTACK[exercise_id]
    if part in parts_not_built(app_dir):
        # The app has no defence against it yet: the attack must get in, as it did against stage 6.
        if got_in:
            print(f"✅ Your attack {exercise_id} gets into your app: {what}. Nothing in your app stops it yet: "
                  f"Part {part}'s Build puts your defence where it says \"Not built yet: Part {part}'s Build\". "
                  "Then run this again.")
        else:
            marker = MARKER.format(part=part)
            print(f"❌ Your attack {exercise_id} did not get into your app, which has no defence against it yet: {what}. "
                  f"Get ✅ from your attack's check above first. (If you have already put your defence in: "
                  f"{' and '.join(files_not_built(app_dir, part))} still says \"{marker}\". Take out the line "
                  "that says it: your defence takes its place.)")
    elif got_in:
        print(f"❌ Your attack {exercise_id} got in against your app: {what}. Look at {YOUR_DEFENCE[exercise_id]}.")
    else:
        print(f"✅ Your app turned your attack {exercise_id} away: {what}.")
    return None
