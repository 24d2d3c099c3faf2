"""Load a stage app (or a student's app) from its folder, as ``flask --app`` would.

Each folder has an ``app.py`` and may import its own neighbours
(``import user_management``). Several folders use the same module names, so
each load gets fresh modules and leaves nothing behind in ``sys.modules``:
stage 6 and stage 7 can be loaded side by side in one test run.
"""
import hashlib
import importlib.machinery
import importlib.util
import itertools
import sys
from pathlib import Path

_load_count = itertools.count(1)


class _CompileOnceLoader(importlib.machinery.SourceFileLoader):
    """Loads a module of the app's folder as usual, but compiles each file once per process.

    Tests load the same app hundreds of times, each time as fresh modules; Python would reuse
    a cached .pyc, but not where bytecode caching is off (PYTHONDONTWRITEBYTECODE, as the
    grader runs): compiling was a tenth of a stage 7 test run. The code is found by the file's
    path and content, so a file edited since compiles anew.
    """
    compiled = {}

    def get_code(self, fullname):
        path = self.get_filename(fullname)
        source = self.get_data(path)
        key = (path, hashlib.sha256(source).digest())
        if key not in self.compiled:
            self.compiled[key] = self.source_to_code(source, path)
        return self.compiled[key]


class _AppFolderFinder:
    """Finds the app's own top-level modules (``import auth``) while the app loads, for _CompileOnceLoader.

    It sits just before Python's path finder, where the app's folder comes first on sys.path:
    it finds what that finder would find there, and leaves everything else to it.
    """

    def __init__(self, folder):
        self.folder = folder

    def find_spec(self, name, path=None, target=None):
        candidate = self.folder / f"{name}.py"
        if path is not None or "." in name or not candidate.is_file():
            return None
        return importlib.util.spec_from_file_location(name, candidate,
                                                      loader=_CompileOnceLoader(name, str(candidate)))


class AppLoadError(Exception):
    """The folder has no usable app; the message says what to fix."""


def load_module(app_dir):
    """Import ``app_dir/app.py`` under a unique name and return the module."""
    app_dir = Path(app_dir).resolve()
    app_file = app_dir / "app.py"
    if not app_file.is_file():
        raise AppLoadError(f"No app.py in {app_dir}: put your Flask app in a file called app.py.")

    name = f"_workbook_app_{next(_load_count)}"
    spec = importlib.util.spec_from_file_location(name, app_file, loader=_CompileOnceLoader(name, str(app_file)))
    module = importlib.util.module_from_spec(spec)
    modules_before = set(sys.modules)
    finder = _AppFolderFinder(app_dir)
    sys.meta_path.insert(sys.meta_path.index(importlib.machinery.PathFinder), finder)
    sys.path.insert(0, str(app_dir))
    sys.modules[name] = module  # Flask finds the app's folder through this entry
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        sys.modules.pop(name, None)
        raise AppLoadError(f"{app_file} failed to import: {type(error).__name__}: {error}") from error
    finally:
        sys.path.remove(str(app_dir))
        sys.meta_path.remove(finder)
        # Forget the folder's own helper modules (user_management, ...) so the
        # next folder imports its own copy; this module keeps its references.
        for added in set(sys.modules) - modules_before:
            origin = getattr(sys.modules[added], "__file__", None) or ""
            if added != name and origin.startswith(str(app_dir)):
                del sys.modules[added]
    return module


def make_app(app_dir, test_config=None):
    """Build the Flask app in ``app_dir``: ``create_app(test_config)`` or a module-level ``app``."""
    module = load_module(app_dir)
    factory = getattr(module, "create_app", None)
    if callable(factory):
        return factory(test_config)
    app = getattr(module, "app", None)
    if app is None or not hasattr(app, "test_client"):
        raise AppLoadError(
            f"{Path(app_dir) / 'app.py'} defines neither create_app(test_config=None) nor a Flask `app`."
        )
    app.config.update(test_config or {})
    return app


def make_stage_app(number, test_config=None):
    """Build stage ``number``'s app from app_steps/, for trying it in a notebook."""
    from .stages import stage

    return make_app(stage(number).folder, test_config)
