"""Run All in a real JupyterLab, in Chromium, as a student does.

Every answered lesson (solutions/, each one the glob finds) and the first fresh
one (notebooks/00_start_here) are opened in JupyterLab and run with the Run All
command; the test reads the outputs from the notebook in the page: every cell
ran, none raised, and the check cells show only ⏳ in a fresh lesson and only ✅
in a solution. The other fresh lessons run under nbval in `make test` (their
code is covered there): in JupyterLab a fresh lesson differs from its answered
one only by its stubs, and each costs Chromium about 4 core-seconds to draw.
"""
import shutil

import pytest

from workbook import ROOT
from workbook.checks import SYMBOLS
from workbook.testing.notebook_checks_plugin import check_lines
from workbook.testing.servers import jupyter_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LESSONS = sorted(path.name for path in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
EXPECTED = {"notebooks": SYMBOLS["not done"], "solutions": SYMBOLS["passed"]}
# (folder, lesson): every solution, then the first fresh lesson (00_start_here, where a student starts).
RUNS = [("solutions", lesson) for lesson in LESSONS] + [("notebooks", LESSONS[0])]

# JavaScript run in the page. Each finds the notebook panel open on ``path``
# (JupyterLab may also restore other notebooks from its workspace).
PANEL = """(path) => Array.from(window.jupyterapp ? window.jupyterapp.shell.widgets('main') : [])
    .find(widget => widget.context && widget.context.path === path)"""
KERNEL_IDLE = f"""(path) => {{
    const panel = ({PANEL})(path);
    const kernel = panel && panel.sessionContext.session && panel.sessionContext.session.kernel;
    return Boolean(kernel) && kernel.status === 'idle';
}}"""
RUN_ALL = f"""(path) => {{
    window.jupyterapp.shell.activateById(({PANEL})(path).id);
    window.jupyterapp.commands.execute('notebook:run-all-cells');
}}"""
OPEN = """async (path) => { await window.jupyterapp.commands.execute('docmanager:open', {path, factory: 'Notebook'}); }"""
CLOSE = f"""async (path) => {{
    const panel = ({PANEL})(path);
    await panel.sessionContext.shutdown();
    panel.dispose();
}}"""
CODE_CELLS = f"""(path) => ({PANEL})(path).content.widgets
    .filter(cell => cell.model.type === 'code')
    .map(cell => ({{count: cell.model.executionCount, outputs: cell.model.outputs.toJSON()}}))"""
# Done when every cell ran, or one raised (Run All stops there), and the kernel is idle. Read from the
# cell models as they are: serialising every output (QR codes included) at each look cost more.
ALL_RAN = f"""(path) => {{
    const cells = ({PANEL})(path).content.widgets.filter(cell => cell.model.type === 'code');
    const raised = cell => Array.from({{length: cell.model.outputs.length}},
        (_, i) => cell.model.outputs.get(i).type).includes('error');
    const done = cells.every(cell => cell.model.executionCount !== null) || cells.some(raised);
    return done && ({KERNEL_IDLE})(path);
}}"""


# Milliseconds between two looks at the page. Playwright's default looks at every animation frame,
# and ALL_RAN reads every cell's outputs each time: the browser then spent more CPU watching the
# notebook than the kernel spent running it.
POLL = 200


@pytest.fixture(scope="module")
def lab_page(browser, tmp_path_factory):
    """One JupyterLab tab, serving a copy of both folders (its autosave must not touch the real ones)."""
    folder = tmp_path_factory.mktemp("lab")
    for name in EXPECTED:
        shutil.copytree(ROOT / name, folder / name)
    with jupyter_server(folder, lab=True) as server:
        # Small, and without animations: Chromium draws in software here, and a busy kernel's animated
        # status kept it drawing, a whole core of it, while the notebook ran.
        page = browser.new_page(viewport={"width": 1024, "height": 640}, reduced_motion="reduce")
        page.goto(f"{server.url}{server.base_url}lab?reset&token={server.token}")
        page.wait_for_function("() => Boolean(window.jupyterapp)", timeout=60_000, polling=POLL)
        page.evaluate("() => window.jupyterapp.restored.then(() => true)")  # every plugin is ready
        yield page
        page.close()


def run_all_in_jupyterlab(lab_page, folder, lesson):
    path = f"{folder}/{lesson}"
    lab_page.evaluate(OPEN, path)
    try:
        lab_page.wait_for_function(KERNEL_IDLE, arg=path, timeout=60_000, polling=POLL)
        lab_page.evaluate(RUN_ALL, path)
        lab_page.wait_for_function(ALL_RAN, arg=path, timeout=120_000, polling=POLL)
        cells = lab_page.evaluate(CODE_CELLS, path)
    finally:
        lab_page.evaluate(CLOSE, path)

    errors = [output for cell in cells for output in cell["outputs"] if output["output_type"] == "error"]
    assert not errors, f"{path}: a cell raised {errors[0]['ename']}: {errors[0]['evalue']}"
    lines = [line for cell in cells for line in check_lines(cell["outputs"])]
    assert lines or lesson.startswith("00_"), f"{path}: no check cell printed anything"
    wrong = [line for line in lines if not line.startswith(EXPECTED[folder])]
    assert not wrong, f"{path} should show only {EXPECTED[folder]}:\n" + "\n".join(wrong)


def test_every_lesson_is_run_answered_and_the_first_one_fresh():
    """Taken from solutions/ as it is: a lesson added there (08...) is run without editing this file."""
    every_lesson = sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))
    assert [lesson for folder, lesson in RUNS if folder == "solutions"] == every_lesson
    assert [(folder, lesson) for folder, lesson in RUNS if folder == "notebooks"] == [("notebooks", "00_start_here.ipynb")]


@pytest.mark.parametrize(("folder", "lesson"), RUNS, ids=[f"{folder}/{lesson}" for folder, lesson in RUNS])
def test_run_all_in_jupyterlab(lab_page, folder, lesson):
    run_all_in_jupyterlab(lab_page, folder, lesson)
