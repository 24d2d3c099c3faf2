"""The student's process and the judge's proxies (workbook/grading/remote.py, child.py; issue 20, part 3).

The student's cells run in a process of their own, sandboxed where the machine allows it (as nobody,
in PID and mount namespaces of its own, the grader's folder, /root and the hidden checks hidden); the
judge sees plain values, or proxies whose every use is answered by that process (REMOTE_DESIGN.md).
"""
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from workbook import ROOT
from workbook.checks.student_side import plain
from workbook.grading import remote
from workbook.grading.remote import CheckArgumentError, Sandbox, StudentCodeError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hidden_checks():
    """The instructor's hidden checks, world-readable on purpose: only the sandbox keeps them from the student."""
    folder = Path(tempfile.mkdtemp(prefix="workbook-remote-hidden-"))
    folder.chmod(0o755)
    path = folder / "hidden_checks.py"
    path.write_text("# the instructor's hidden checks: SECRET-HIDDEN-CHECKS\n", encoding="utf-8")
    path.chmod(0o644)
    yield path
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def sandbox(hidden_checks):
    with Sandbox(hidden_checks=hidden_checks) as box:
        yield box


@pytest.fixture
def student(sandbox, tmp_path):
    processes = []

    def start(*cells):
        process = sandbox.spawn(sandbox.scratch(), log=str(tmp_path / "output.log"), timeout=20)
        processes.append(process)
        for cell in cells:
            process.run_cell(cell)
        return process

    yield start
    for process in processes:
        process.close()


def test_plain_values_cross_and_the_students_functions_are_called_where_they_live(student):
    process = student("def double(x):\n    return x * 2\n\nanswer_0_q1 = 'b'\n"
                      "def stub():\n    raise NotImplementedError('Exercise 0.1: not yet')\n"
                      "def broken():\n    raise KeyError('boom')\n")
    double = process.get("double")
    assert double(21) == 42 and double("ab") == "abab" and double([1]) == [1, 1]
    assert double((1, b"x")) == (1, b"x", 1, b"x")
    assert process.get("answer_0_q1") == "b"
    with pytest.raises(NotImplementedError, match="Exercise 0.1"):
        process.get("stub")()
    with pytest.raises(StudentCodeError, match="KeyError: 'boom'"):
        process.get("broken")()
    with pytest.raises(NameError, match="nope"):
        process.get("nope")
    assert process.missing(["double", "nope"]) == ["nope"]


def test_objects_stay_in_the_students_process_and_proxies_do_what_the_design_says(student):
    process = student("class Box:\n    size = 3\n    def __init__(self):\n        self.items = {'a': 1}\n"
                      "    def __len__(self):\n        return 7\n    def __getitem__(self, key):\n"
                      "        return self.items[key]\n    def __setitem__(self, key, value):\n"
                      "        self.items[key] = value\n    def __delitem__(self, key):\n        del self.items[key]\n"
                      "    def __contains__(self, key):\n        return key in self.items\n"
                      "    def __iter__(self):\n        return iter(sorted(self.items))\n"
                      "    def __enter__(self):\n        self.entered = True\n        return 'inside'\n"
                      "    def __exit__(self, *exc):\n        self.exited = exc[0] is None\n"
                      "    def __repr__(self):\n        return 'Box!'\n    def __bool__(self):\n        return False\n"
                      "    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\n"
                      "box = Box()\n")
    box = process.get("box")
    assert isinstance(box, remote.RemoteObject)
    assert box.size == 3 and len(box) == 7 and box["a"] == 1 and "a" in box and "z" not in box
    box["b"] = 2
    box.colour = "red"
    assert box.colour == "red" and list(box) == ["a", "b"]
    del box["a"]
    assert list(box) == ["b"] and plain(box.items) == {"b": 2}
    with box as inside:
        assert inside == "inside"
    assert box.entered is True and box.exited is True
    assert (repr(box), str(box), bool(box)) == ("Box!", "Box!", False)
    for refused in (lambda: box == box, lambda: box != 1, lambda: hash(box), lambda: box < 1):
        with pytest.raises(TypeError, match="refused"):
            refused()
    with pytest.raises(AttributeError, match="refused"):
        box.__globals__   # noqa: B018 - asking is the test
    with pytest.raises(AttributeError, match="refused"):
        box._secret   # noqa: B018
    with pytest.raises(AttributeError):
        box.nothing   # noqa: B018


def test_an_int_whose_equality_says_yes_is_not_a_plain_value(student):
    process = student("class Step(int):\n    def __eq__(self, other):\n        return True\n"
                      "    __hash__ = int.__hash__\n\ndef time_step(unix_time):\n    return Step(0)\n")
    result = process.get("time_step")(59)
    assert isinstance(result, remote.RemoteObject)
    with pytest.raises(TypeError, match="not a plain value"):
        assert result == 1
    with pytest.raises(TypeError, match="not a plain value"):
        plain(result)


def test_fixtures_are_built_in_the_students_process_and_a_judges_object_is_a_grading_error(student):
    process = student("def count(db):\n    return db.execute('select count(*) from t').fetchone()[0]\n")
    sqlite3 = process.module("sqlite3")
    db = sqlite3.connect(":memory:")
    db.execute("create table t (a)")
    db.executemany("insert into t values (?)", [(1,), (2,)])
    assert process.get("count")(db) == 2
    assert [plain(list(row)) for row in db.execute("select a from t order by a")] == [[1], [2]]
    import sqlite3 as local
    with pytest.raises(CheckArgumentError, match="grading error of the workbook"):
        process.get("count")(local.connect(":memory:"))
    assert process.get("count")(db) == 2   # nothing was sent: the process is fine


def test_a_process_that_hangs_or_ends_fails_the_request_not_the_judge(student):
    process = student("import os, time\ndef slow():\n    time.sleep(100)\ndef leave():\n    os._exit(3)\n")
    process.timeout = 1
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        process.get("slow")()
    assert time.monotonic() - started < 5
    with pytest.raises(StudentCodeError, match="stopped answering"):
        process.get("leave")
    other = student("import os\ndef leave():\n    os._exit(3)\n")
    with pytest.raises(StudentCodeError, match="ended"):
        other.get("leave")()
    assert other.ended == {"status": 3, "cpu": other.ended["cpu"]}


def test_a_cell_is_interrupted_like_jupyters_button(student):
    process = student()
    process.interrupt()   # nothing running: nothing happens
    import threading
    threading.Timer(1.0, process.interrupt).start()
    reply = process.run_cell("import time\nfor _ in range(200):\n    time.sleep(0.1)\n")
    assert reply["interrupted"] and "KeyboardInterrupt" in reply["error"]
    assert process.run_cell("x = 1")["error"] is None and process.get("x") == 1


def test_the_students_process_cannot_read_the_grader_or_end_other_processes(student, sandbox, hidden_checks):
    process = student(
        "import os, pwd\n"
        "def probe(paths):\n"
        "    seen = {}\n"
        "    for path in paths:\n"
        "        try:\n"
        "            seen[path] = os.listdir(path) if os.path.isdir(path) else open(path).read()[:60]\n"
        "        except OSError as error:\n"
        "            seen[path] = type(error).__name__\n"
        "    return seen\n"
        "def who():\n"
        "    import workbook, importlib.util\n"
        "    return [pwd.getpwuid(os.geteuid()).pw_name, os.getpid(), str(workbook.ROOT),\n"
        "            importlib.util.find_spec('workbook.grading') is not None]\n"
        "def kill_everyone():\n"
        "    try:\n"
        "        os.kill(-1, 9)\n"
        "    except OSError:\n"
        "        pass\n"
        "    return 'still here'\n")
    user, pid, root, has_grader = process.get("who")()
    assert root.startswith(str(sandbox.handout)) and not has_grader   # the handout's workbook: no grader
    if sandbox.level == remote.SAME_USER:
        assert os.geteuid() != 0 and os.environ.get("CI") != "true", "as root the student's code must not run as root"
        return
    assert user == "nobody"
    if os.environ.get("CI") == "true" or remote.namespaces_work():
        assert sandbox.level == remote.ISOLATED, "this machine can sandbox: the student's process must be isolated"
    if sandbox.level != remote.ISOLATED:
        return
    assert pid == 1   # its own PID namespace
    secret_file = ROOT / "README.md"
    seen = process.get("probe")([str(ROOT), str(secret_file), "/root", str(hidden_checks),
                                 str(ROOT / "solutions")])
    assert seen[str(ROOT)] in ([], [".venv"]), seen        # the grader's folder: empty (but its Python)
    assert seen[str(secret_file)] == "FileNotFoundError"
    assert seen["/root"] in ([], [".pyenv"], [".local"]), seen
    assert seen[str(hidden_checks)] == "", seen            # covered: it reads as empty
    assert seen[str(ROOT / "solutions")] == "FileNotFoundError"
    assert process.get("kill_everyone")() == "still here"  # kill(-1): nothing of anyone else's to kill
    assert sandbox._zygote.poll() is None
