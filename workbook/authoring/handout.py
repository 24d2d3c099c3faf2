"""``python -m workbook handout DIR [--stages N]``: the students' repository, without the answers.

nbgrader's ``release`` step and otter-grader's ``assign`` do this job: one repository
(this one) holds the questions and the answers, and a copy for the students is made from
it. The handout is what a class clones (a GitHub Classroom template):

    notebooks/        the lessons as released (every answer a stub), 00 to N with --stages N
    app_steps/        the stage apps, all or 1 to N (a class that gets them week by week)
    workbook/         the helpers the lessons import, with the visible checks only: every
                      @hidden_check function (and what only they use) is cut out of
                      workbook/checks/, as nbgrader cuts its hidden tests; no grader
                      (workbook/grading/), no release tooling
    tests/            the behaviour tests students aim at their my_app/ (tests/stages), and the
                      handout's own student suite (tests/test_my_workbook.py, from handout_suite.py)
    README.md         the student parts of the README (no instructor or developer sections)
    Makefile requirements.txt pyproject.toml scripts/ .devcontainer/ docs/ ...
                      so that ``make lab`` and ``make test`` work there

Left out: solutions/, tests/mutants/ and every other test, bench/, the grader, the hidden
checks. ``leaks(DIR)`` lists anything in a folder that holds an answer; the command runs it
on what it wrote.

Until workbook/grading/stage_outcomes.py (the pytest plugin check_my_app reads each test's
outcome with) moves to workbook/testing/, the handout carries that one module in a
workbook/grading/ of its own; nothing else of the grader.
"""
import ast
import functools
import re
import shutil
from pathlib import Path

from .. import ROOT
from ..stages import STAGES

SUITE = Path(__file__).with_name("handout_suite.py")
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "instance", ".ipynb_checkpoints", ".pytest_cache",
                                "*.egg-info")
# Copied as they are (those that exist).
AS_THEY_ARE = ["requirements.txt", "pyproject.toml", "runtime.txt", ".gitignore", "scripts", ".devcontainer",
               ".vscode", "docs", "tests/conftest.py", "tests/stages", "tests/totp_reference.py"]
WORKBOOK_LEFT_OUT = {"grading", "handout.py", "handout_suite.py", "release.py"}
PLUGIN = "stage_outcomes.py"   # the pytest plugin check_my_app loads; see the module docstring


class HandoutError(Exception):
    """The handout cannot be written there; the message says why."""


def build(target, stages=None, root=ROOT):
    """Write the handout into ``target`` (a new or empty folder); return the files written."""
    target, root = Path(target), Path(root)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise HandoutError(f"{target} exists and is not an empty folder")
    top = max(stage.number for stage in STAGES)
    stages = top if stages is None else stages
    if not 1 <= stages <= top:
        raise HandoutError(f"--stages must be 1 to {top}")
    target.mkdir(parents=True, exist_ok=True)
    for name in AS_THEY_ARE:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=IGNORE)
        elif source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for path in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        if int(path.name[:2]) <= stages:
            (target / "notebooks").mkdir(exist_ok=True)
            shutil.copy2(path, target / "notebooks" / path.name)
    for stage in STAGES:
        if stage.number <= stages:
            shutil.copytree(stage.folder, target / "app_steps" / stage.folder.name, ignore=IGNORE)
    _copy_workbook(root / "workbook", target / "workbook")
    (target / "tests" / "test_my_workbook.py").write_text(SUITE.read_text(encoding="utf-8"), encoding="utf-8")
    workflow = root / "workbook" / "grading" / "github_classroom.yml"   # GitHub Classroom's, where there is one
    if workflow.is_file():
        (target / ".github" / "workflows").mkdir(parents=True)
        shutil.copy2(workflow, target / ".github" / "workflows" / "classroom.yml")
    (target / "Makefile").write_text(MAKEFILE, encoding="utf-8")
    (target / "README.md").write_text(student_readme((root / "README.md").read_text(encoding="utf-8"), stages),
                                      encoding="utf-8")
    return sorted(p for p in target.rglob("*") if p.is_file())


def _copy_workbook(source, target):
    def ignore(folder, names):
        left_out = set(IGNORE(folder, names))
        return left_out | {name for name in names if name in WORKBOOK_LEFT_OUT}
    shutil.copytree(source, target, ignore=ignore)
    for path in sorted((target / "checks").glob("lesson_*.py")):
        path.write_text(without_hidden_checks(path.read_text(encoding="utf-8")), encoding="utf-8")
    plugin = source / "grading" / PLUGIN
    if plugin.is_file() and not (source / "testing" / PLUGIN).is_file():
        (target / "grading").mkdir()
        (target / "grading" / "__init__.py").write_text(
            '"""Only the pytest plugin check_my_app reads test outcomes with: the grader is not in the handout."""\n',
            encoding="utf-8")
        shutil.copy2(plugin, target / "grading" / PLUGIN)


@functools.lru_cache(maxsize=32)   # a grading run builds a handout each (tests: dozens in one process)
def without_hidden_checks(source):
    """A checks module's source without its @hidden_check functions, nor the top-level helpers only they used."""
    tree = ast.parse(source)

    def is_hidden(node):
        return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
            isinstance(d, ast.Call) and getattr(d.func, "id", None) == "hidden_check" for d in node.decorator_list)

    def names_in(nodes):
        return {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name)} | {
            n.attr for node in nodes for n in ast.walk(node) if isinstance(n, ast.Attribute)}

    def bound(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return {node.name}
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            return {t.id for t in targets if isinstance(t, ast.Name)}
        return set()

    removed = [node for node in tree.body if is_hidden(node)]
    kept = [node for node in tree.body if not is_hidden(node)]
    while True:  # helpers (private names) that only removed code used
        used = set()
        for node in kept:
            used |= names_in([node]) - bound(node)   # what each kept statement reads, itself aside
        orphans = [node for node in kept if bound(node) and all(name.startswith("_") for name in bound(node))
                   and not bound(node) & used and bound(node) & names_in(removed)]
        if not orphans:
            break
        removed += orphans
        kept = [node for node in kept if node not in orphans]
    lines = source.splitlines(keepends=True)
    drop = set()
    for node in removed:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        drop.update(range(first - 1, node.end_lineno))
    text = "".join(line for index, line in enumerate(lines) if index not in drop)
    text = re.sub(r"\bhidden_check, |, hidden_check\b", "", text)   # the import it no longer uses
    return re.sub(r"\n{4,}", "\n\n\n", text)


def student_readme(text, stages):
    """The README without its instructor and developer sections, for the stages handed out."""
    sections = re.split(r"(?m)^(?=## )", text)
    kept = [s for s in sections if not s.startswith(("## For instructors", "## Benchmarks", "## For developers"))]
    text = "".join(kept)
    text = "\n".join(line for line in text.splitlines()
                     if not line.startswith(("| `solutions/`", "| `bench/`"))
                     and not re.match(rf"\| ([{stages + 1}-9]) \| \[`step_", line))
    text = re.sub(r"(?s)(## Quick start\n).*?(?=### )", lambda match: match.group(1) + QUICK_START, text)
    text = re.sub(r", and for\ninstructors who want to check a whole class's work with one command\.", ".", text)
    text = text.replace("python -m pytest --nbval-lax solutions notebooks", "python -m pytest --nbval-lax notebooks")
    text = text.replace("python -m pytest tests            # the tests",
                        "python -m pytest tests/test_my_workbook.py   # this folder's tests")
    text = text.replace("| `tests/` | pytest: one behaviour suite for every stage, security tests, notebook runs |",
                        "| `tests/` | the behaviour tests your `my_app/` must pass (`tests/stages`), and this folder's own |")
    text = re.sub(r"; by audience below it: `grading/` \(the grader\), `authoring/` \(release, diffs\), ", "; ", text)
    return text.rstrip() + "\n\n" + CHECKING


QUICK_START = """
```bash
make lab    # set up .venv, install everything, open JupyterLab on the first lesson
make test   # set up .venv if needed, then run the lessons as released and this folder's own tests
```

Both need `make` and Python 3.10, 3.11, 3.12 or 3.13; `make` takes the first Python 3.10 or newer
it finds (name another with `make lab PYTHON=python3.12`). The first run downloads what it installs,
which takes a minute or two. JupyterLab's terminals (**File → New → Terminal**) then use the
workbook's `.venv`.

"""

CHECKING = """## Checking your work

Each exercise's check cell prints ✅, ❌ (with a hint) or ⏳. Your app in `my_app/`:
`check_my_app(N)` in a lesson, or `python -m pytest tests/stages --app-dir my_app --stage N`.
Every notebook at once, with the marks of the checks you can see:

```bash
.venv/bin/python -m workbook check
```

Your instructor's grade runs the same checks and a few more that try other inputs, so an answer
written to fit the examples still fails. `make test` runs this folder's own tests: the lessons
as released (every check ⏳) and the tools above.
"""

MAKEFILE = """# `make lab` opens the workbook, `make test` runs this folder's tests. Both set up .venv first.
PYTHON ?=
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: setup lab test clean

$(INSTALLED): requirements.txt pyproject.toml
\t@base=$$(sh scripts/find-python $(PYTHON)) || exit 1; \\
\t  echo "Setting up $(VENV) with $$($$base --version) ($$base)"; \\
\t  sh scripts/install-requirements $$base $(VENV)
\ttouch $(INSTALLED)

setup:
\t@$(MAKE) --no-print-directory $(INSTALLED)

LAB_TERMINAL := $(if $(shell command -v bash),--ServerApp.terminado_settings=shell_command=""" \
    """"bash --rcfile '$(CURDIR)/workbook/lab_terminal.bashrc'")
lab: setup
\t$(VENV)/bin/jupyter lab $(ROOT_FLAG) --LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb \\
\t  $(LAB_TERMINAL) $(LAB_OPTIONS)

# The lessons as released (nbval: every cell runs, every check prints ⏳) and tests/test_my_workbook.py;
# --dist loadscope keeps each notebook in one kernel.
test: setup
\t$(PY) -m pytest -n auto --dist loadscope --nbval-lax --nbval-cell-timeout=120 tests/test_my_workbook.py notebooks

clean:
\trm -rf $(VENV) .pytest_cache
"""


def leaks(folder, root=ROOT):
    """What in ``folder`` holds an answer: solution text, hidden checks, solutions/, mutants, the grader."""
    from ..checks import load_all
    folder = Path(folder)
    found = []
    for name in ("solutions", "tests/mutants", "bench", "workbook/authoring/release.py"):
        if (folder / name).exists():
            found.append(f"{name} is there")
    grading = folder / "workbook" / "grading"
    if grading.is_dir():
        extra = sorted(p.name for p in grading.iterdir() if p.name not in {"__init__.py", PLUGIN, "__pycache__"})
        if extra:
            found.append(f"the grader is there: workbook/grading/{', '.join(extra)}")
    hidden = sorted({check.__name__ for exercise in load_all().values() for check in exercise.hidden})
    pattern = re.compile(r"### (BEGIN|END) SOLUTION|^\s*@hidden_check\(|\b(" + "|".join(map(re.escape, hidden)) + r")\b",
                         re.MULTILINE)
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".py", ".ipynb", ".md", ".txt")):
        match = pattern.search(path.read_text(encoding="utf-8", errors="replace"))
        if match:
            found.append(f"{path.relative_to(folder).as_posix()}: {match.group(0)}")
    return found


def command(args):
    """The ``handout`` subcommand."""
    import sys
    try:
        files = build(args.folder, args.stages)
    except HandoutError as error:
        print(f"python -m workbook handout: error: {error}", file=sys.stderr)
        return 2
    problems = leaks(args.folder)
    for problem in problems:
        print(f"holds an answer: {problem}", file=sys.stderr)
    stages = f"stages 1 to {args.stages}" if args.stages else "every stage"
    print(f"Wrote the students' repository in {args.folder} ({len(files)} files, {stages}): no solutions, "
          "no hidden checks, no grader. Make it a git repository (or a GitHub Classroom template) for the class.")
    return 1 if problems else 0
