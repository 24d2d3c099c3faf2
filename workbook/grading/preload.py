"""What the grader's fork server imports once, before it forks a worker per notebook.

Everything here is library code the lessons import anyway (IPython, Flask,
pyotp, the QR libraries, the workbook's helpers and checks), and the behaviour
tests that grade a my_app/, collected once by pytest (which also rewrites their
asserts). No student code has run in the fork server, so each forked worker starts
as clean as a fresh interpreter, only without paying for these imports again. A module
that fails to import is simply left to the worker (which then imports it itself, or
reports the error).
"""
import contextlib
import gc
import importlib
import io
import os
import pkgutil
import sys

from .remote import LESSON_LIBRARIES  # noqa: E402 - the libraries the lessons use: the sandbox preloads them too

MODULES = [*LESSON_LIBRARIES,
    # the behaviour tests that grade a my_app/ (workbook.grading.apps runs them in a forked worker)
    "pytest", "_pytest.config", "_pytest.main", "_pytest.python", "_pytest.fixtures", "_pytest.runner",
    "_pytest.assertion.rewrite", "_pytest.terminal", "_pytest.logging", "_pytest.capture", "_pytest.skipping",
    "_pytest.tmpdir", "_pytest.monkeypatch", "_pytest.warnings",
]


def preload():
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - optional: the worker will import it or say why not
            pass
    import workbook
    for module in pkgutil.iter_modules(workbook.__path__):
        if module.name not in ("__main__",):
            try:
                importlib.import_module(f"workbook.{module.name}")
            except Exception:  # noqa: BLE001
                pass
    importlib.import_module("workbook.grading.worker")
    importlib.import_module("workbook.testing.stage_outcomes")
    try:
        from workbook import checks
        checks.prepare_all()
    except Exception:  # noqa: BLE001 - the worker reports it
        pass
    collect_stage_tests()


def collect_stage_tests():
    """Collect the behaviour tests once (``--collect-only``, no app loaded), as apps.run_tests runs them.

    Their modules stay imported, asserts rewritten, so each app's test run (a forked worker's
    pytest.main) finds them in sys.modules instead of reading, rewriting and compiling them
    again: about 0.6 s a run. sys.path and the environment are put back as they were.
    """
    from workbook.grading.apps import test_run_args
    from workbook.my_app import STAGE_TEST_ENV
    from workbook.stages import STAGES
    path, environ = list(sys.path), dict(os.environ)
    try:
        import pytest
        os.environ.update(STAGE_TEST_ENV)
        args = test_run_args([s.number for s in STAGES], STAGES[-1].folder, ("--collect-only",))
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            pytest.main(args)
    except Exception:  # noqa: BLE001 - then each run collects them itself
        pass
    finally:
        sys.path[:] = path
        os.environ.clear()
        os.environ.update(environ)


preload()
# Everything imported so far lives as long as the fork server: moved out of the garbage collector's
# sight, so that a worker's collections do not touch (and so copy) the memory it shares with the server.
gc.freeze()
